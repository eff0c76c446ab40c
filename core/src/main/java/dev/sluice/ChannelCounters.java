package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/*
 * A channel's statistics, apart from the counts the ring keeps itself (accepted = producer count, removed = consumer
 * count). Only slow paths touch these fields: a sender that met a full buffer, a receiver that met an empty one,
 * the undelivered handler, stats(). They live in their own padded object so that the fast paths, which read the
 * ring's indices and ChannelCore's gate word, never share a cache line with a statistics write; and the sender-side
 * clocks sit on other lines than the receiver-side ones, so a waiting producer and a waiting consumer do not trade
 * lines either.
 *
 * Blocked time. `senderBlockedNanos` sums the waits of every sender (ten senders blocked for a second add ten
 * seconds); `senderBlockedWallNanos` is the wall-clock time during which at least one sender was blocked: begin()
 * counts the blocked parties and notes the time when the count goes 0 -> 1, end() adds the elapsed wall time when it
 * goes 1 -> 0. The receive side mirrors it (receivers starved for an item). The two fields of a clock are updated
 * without a lock, so a begin and an end racing at the 0 <-> 1 edge may misplace one interval's start by the length of
 * the race: the wall times are exact at quiescence up to such nanoseconds.
 *
 * Undelivered items are also counted per UndeliveredReason (an array indexed by ordinal, on the slow path of the
 * undelivered handler only).
 *
 * Wait events. The end of a wait already reads the clock; when the wait lasted at least `waitEventNanos`, it is also
 * recorded as a JFR event (WaitEvents), naming the channel. So JFR adds no clock read and no shared write to any
 * path: only a compare on the end of a wait, which is a slow path already.
 */
final class ChannelCounters {
    /** The channel's name, or null. */
    final String name;
    /** A wait at least this long is recorded as a JFR event (Long.MAX_VALUE: never). */
    final long waitEventNanos;
    /** Undelivered items per UndeliveredReason ordinal. */
    private final long[] undeliveredByReason = new long[REASONS.length];

    long p00, p01, p02, p03, p04, p05, p06, p07;

    volatile long discardedFromBuffer;  // items removed from the buffer and then handed to onUndelivered
    volatile long rejected;             // upstream items never accepted, handed to onUndelivered
    volatile long callbackFailures;
    volatile int peakSize;

    long p10, p11, p12, p13, p14, p15, p16, p17;

    volatile long senderBlockedNanos;
    volatile long senderBlockedWallNanos;
    volatile long sendWallStart;
    volatile int blockedSenders;

    long p20, p21, p22, p23, p24, p25, p26, p27;

    volatile long receiverStarvedNanos;
    volatile long receiverStarvedWallNanos;
    volatile long receiveWallStart;
    volatile int starvedReceivers;

    long p30, p31, p32, p33, p34, p35, p36, p37;

    ChannelCounters(String name, long waitEventNanos) {
        this.name = name;
        this.waitEventNanos = waitEventNanos;
    }

    /** "channel 'name'", or "channel" if unnamed: how exception messages refer to the channel. */
    String channel() {
        return name == null ? "channel" : "channel '" + name + "'";
    }

    /** The channel as named in events: its name, or "unnamed@" and an identity hash. */
    String label() {
        return name != null ? name : "unnamed@" + Integer.toHexString(System.identityHashCode(this));
    }

    /** A sender begins to wait: returns its start time. */
    long senderBlocked() {
        long now = System.nanoTime();
        if ((int) BLOCKED_SENDERS.getAndAdd(this, 1) == 0) {
            SEND_WALL_START.setVolatile(this, now);
        }
        return now;
    }

    /** A sender thread that began to wait at {@code since} stops waiting (accepted, refused, timed out...). */
    void senderUnblocked(long since) {
        long now = senderEnded(since);
        if (now - since >= waitEventNanos) {
            WaitEvents.senderBlocked(this, now - since, true);
        }
    }

    /** A queued sender without a thread (a sendAsync future, an upstream item or demand) is admitted or ended. */
    void queuedSenderUnblocked(long since) {
        long now = senderEnded(since);
        if (now - since >= waitEventNanos) {
            WaitEvents.senderBlocked(this, now - since, false);
        }
    }

    private long senderEnded(long since) {
        long now = System.nanoTime();
        SENDER_BLOCKED_NANOS.getAndAdd(this, now - since);
        if ((int) BLOCKED_SENDERS.getAndAdd(this, -1) == 1) {
            SENDER_BLOCKED_WALL_NANOS.getAndAdd(this, now - (long) SEND_WALL_START.getVolatile(this));
        }
        return now;
    }

    /** A receiver begins to wait for an item: returns its start time. */
    long receiverStarved() {
        long now = System.nanoTime();
        if ((int) STARVED_RECEIVERS.getAndAdd(this, 1) == 0) {
            RECEIVE_WALL_START.setVolatile(this, now);
        }
        return now;
    }

    /** A receiver that began to wait at {@code since} stops waiting. */
    void receiverFed(long since) {
        long now = System.nanoTime();
        RECEIVER_STARVED_NANOS.getAndAdd(this, now - since);
        if ((int) STARVED_RECEIVERS.getAndAdd(this, -1) == 1) {
            RECEIVER_STARVED_WALL_NANOS.getAndAdd(this, now - (long) RECEIVE_WALL_START.getVolatile(this));
        }
        if (now - since >= waitEventNanos) {
            WaitEvents.receiverStarved(this, now - since);
        }
    }

    /** Wall-clock blocked time including the interval in progress, if any. */
    long senderBlockedWallNanosNow() {
        return wallNow(senderBlockedWallNanos, blockedSenders, sendWallStart);
    }

    long receiverStarvedWallNanosNow() {
        return wallNow(receiverStarvedWallNanos, starvedReceivers, receiveWallStart);
    }

    private static long wallNow(long total, int waiting, long start) {
        return waiting > 0 ? total + Math.max(0L, System.nanoTime() - start) : total;
    }

    /** An item goes to the undelivered handler; fromBuffer: it had been accepted and removed (else: rejected). */
    void undelivered(UndeliveredReason reason, boolean fromBuffer) {
        if (fromBuffer) {
            DISCARDED.getAndAdd(this, 1L);
        } else {
            REJECTED.getAndAdd(this, 1L);
        }
        BY_REASON.getAndAdd(undeliveredByReason, reason.ordinal(), 1L);
    }

    /** Undelivered items per reason, every reason present; a new unmodifiable map. */
    Map<UndeliveredReason, Long> undeliveredByReason() {
        EnumMap<UndeliveredReason, Long> counts = new EnumMap<>(UndeliveredReason.class);
        for (UndeliveredReason r : REASONS) {
            counts.put(r, (long) BY_REASON.getVolatile(undeliveredByReason, r.ordinal()));
        }
        return Collections.unmodifiableMap(counts);
    }

    void callbackFailed() {
        CALLBACK_FAILURES.getAndAdd(this, 1L);
    }

    /** Notes an observed occupancy (best effort: a racing larger value may win). */
    void notePeak(int size) {
        int peak = peakSize;
        if (size > peak) {
            PEAK_SIZE.compareAndSet(this, peak, size);
        }
    }

    private static final UndeliveredReason[] REASONS = UndeliveredReason.values();
    private static final VarHandle BY_REASON = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle DISCARDED;
    private static final VarHandle REJECTED;
    private static final VarHandle CALLBACK_FAILURES;
    private static final VarHandle PEAK_SIZE;
    private static final VarHandle SENDER_BLOCKED_NANOS;
    private static final VarHandle SENDER_BLOCKED_WALL_NANOS;
    private static final VarHandle SEND_WALL_START;
    private static final VarHandle BLOCKED_SENDERS;
    private static final VarHandle RECEIVER_STARVED_NANOS;
    private static final VarHandle RECEIVER_STARVED_WALL_NANOS;
    private static final VarHandle RECEIVE_WALL_START;
    private static final VarHandle STARVED_RECEIVERS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            DISCARDED = l.findVarHandle(ChannelCounters.class, "discardedFromBuffer", long.class);
            REJECTED = l.findVarHandle(ChannelCounters.class, "rejected", long.class);
            CALLBACK_FAILURES = l.findVarHandle(ChannelCounters.class, "callbackFailures", long.class);
            PEAK_SIZE = l.findVarHandle(ChannelCounters.class, "peakSize", int.class);
            SENDER_BLOCKED_NANOS = l.findVarHandle(ChannelCounters.class, "senderBlockedNanos", long.class);
            SENDER_BLOCKED_WALL_NANOS = l.findVarHandle(ChannelCounters.class, "senderBlockedWallNanos", long.class);
            SEND_WALL_START = l.findVarHandle(ChannelCounters.class, "sendWallStart", long.class);
            BLOCKED_SENDERS = l.findVarHandle(ChannelCounters.class, "blockedSenders", int.class);
            RECEIVER_STARVED_NANOS = l.findVarHandle(ChannelCounters.class, "receiverStarvedNanos", long.class);
            RECEIVER_STARVED_WALL_NANOS = l.findVarHandle(ChannelCounters.class, "receiverStarvedWallNanos",
                    long.class);
            RECEIVE_WALL_START = l.findVarHandle(ChannelCounters.class, "receiveWallStart", long.class);
            STARVED_RECEIVERS = l.findVarHandle(ChannelCounters.class, "starvedReceivers", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
