package dev.sluice;

import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.ReentrantLock;

/*
 * The one object that owns a channel's mutable state: the ring buffer, the two FIFO waiter queues, the gate word, the
 * lifecycle mode and the counters. Channel, its views, the Publisher/Subscriber adapters and the iterator are thin
 * adapters over it; waiter nodes (Waiter and its kinds), the spin policy (SpinPolicy), the statistics block
 * (ChannelCounters), the blocking guards (Guards) and the callback-failure log (CallbackLog) live in their own files.
 *
 * Overview of implementation
 *
 * Buffer. Items live in a lock-free bounded MPMC RingBuffer (Vyukov stamps). When nobody waits, a send is one CAS on
 * the producer index plus one read of the gate word, a receive one CAS on the consumer index plus one read of the gate:
 * no lock, no allocation, no clock read, no write to a shared line other than the ring's own.
 *
 * Kinds. One core serves every kind of channel; they differ only in the slow path's admission (admitLocked, the one
 * place that decides whether an item may enter):
 *   - bounded: the ring holds up to `capacity` items. A capacity above MAX_RING gets a ring of MAX_RING and keeps
 *     the rest, in order, in `overflow` (an ArrayDeque under the lock, given back when it empties); an unbounded
 *     channel is capacity Integer.MAX_VALUE with a ring of UNBOUNDED_RING. While overflow holds items the OVERFLOW
 *     bit sends new senders to the lock (behind them, FIFO) and consumers refill the ring in runs (sendWakeAt,
 *     refillLocked); memory grows with what the channel holds, not with its capacity;
 *   - rendezvous (capacity 0): a ring of one slot used only as the hand-off for a waiting receiver; the gate keeps
 *     both SLOW bits set, so every send and receive decides under the lock: a sender's item enters the slot only when
 *     a receiver waits (hasRoomLocked), a receiver takes a waiting sender's item through it (handOffLocked);
 *   - overflow policies: DROP_NEWEST refuses the new item, DROP_OLDEST evicts the oldest (pollLocked, by the sending
 *     thread, which then owns the evicted item: I3) until the new one fits; either way the dropped item goes to
 *     onUndelivered(DROPPED) after the lock is released, and a sender never queues;
 *   - weighted: `weight` is the sum of the weights of what the ring and overflow hold, added by CAS when an item is
 *     admitted (tryAddWeight: the item fits, or the channel holds no weight at all) and taken out when it leaves.
 *     Each item is kept in a Weighed box with the weight it was admitted with, so the weigher runs once per item,
 *     on the sender's thread before the lock, and removals are exact.

 * Gate. `gate` is a read-mostly word of flags, rewritten (under the lock) only when one of them really changes:
 *   SEND_SLOW      senders must take the lock: senders are queued, slots are reserved for an upstream, or items
 *                  were pushed back (they hold capacity outside the ring);
 *   RECEIVE_SLOW   receivers must take the lock: receivers are queued, or items were pushed back (they come first);
 *   RETURNED       items were pushed back;
 *   RECEIVERS_WAIT a producer that published must serve the receive queue's head;
 *   SENDERS_WAIT   a consumer that removed an item must pump for the queued senders (once it reaches sendWakeAt);
 *   ENDING         the channel was closed, failed or cancelled and has not terminated: publish and remove paths check
 *                  for the end.
 * A fast path runs only when its side's SLOW bit is clear (invariant I2), so a trySend never overtakes a waiting
 * sender and a tryReceive never overtakes a waiting receiver or a pushed-back item.
 *
 * Waiters. Everything that must wait sits in one of two FIFO queues guarded by `lock` (a ReentrantLock: it parks,
 * never pins a virtual thread, and is held only for short non-blocking sections; user code never runs under it; every
 * acquisition goes through acquire(), the one method BlockHound is told to allow):
 *   sendQueue:    blocked send() threads (ThreadWaiter), pending sendAsync futures (SendFuture), upstream items that
 *                 met a full buffer, and upstream subscribers that want capacity before they request more (they get
 *                 slots reserved, counted in `reserved`, so an upstream keeps its place in line although its items do
 *                 not exist yet);
 *   receiveQueue: blocked receive()/iterator threads (ThreadWaiter) and Publisher subscriptions with demand
 *                 (ChannelPublisher.Sub, a *standing* waiter).
 * pumpLocked() moves items between them and the ring in FIFO order: it hands the head receiver a polled item, or
 * admits the head sender's item into the ring, and records what to wake; after the lock is released each woken
 * waiter's wake() runs (unpark, complete the future, run a drain loop, request more).
 *
 * A subscription with demand is one standing waiter: while it is the head of receiveQueue it takes items from the ring
 * itself, in its own drain loop, without the lock, and a producer that published an item just wakes it (its wake() is
 * the WIP-guarded drain: a no-op increment if the loop runs already; the loop re-polls the ring after its WIP
 * decrement, and the producer's index CAS precedes its WIP increment: that pair is why no item is stranded). It stays
 * queued while it has demand, takes at most `capacity` items per turn and then goes to the back of the queue if
 * anybody else waits, and leaves the queue when its demand is used up. So fairness among receivers is FIFO per unit
 * of demand, with a bounded quota per turn; no allocation per item and no lock per item on this path.
 *
 * Spinning. A sender that meets a full buffer (a receiver an empty one) spins before it queues, if it is the first of
 * its side to wait (SpinPolicy): relaxed looks at one stamp of the ring, spaced in time, within an adaptive budget;
 * a look that says "maybe" is followed by a real attempt. A sender waits for a quarter of the capacity to be free
 * (look-ahead), so that it resumes with a run and the consumer drains undisturbed. After queueing, a thread that is
 * the head of its queue spins a little on its own state, others park at once; the pump unparks only a thread that
 * announced it parked.
 *
 * Wake-ups and runs. Receivers are woken on the first item. A consumer that removed an item pumps for queued
 * senders when SENDERS_WAIT is set and the consumer count reached sendWakeAt, which normally is the next removal: a
 * queued sender with an item is admitted as soon as a slot frees. Runs form in three places instead of one slot per
 * wake-up: (1) the spinning sender waits until a quarter of the capacity looks free; (2) a head sender *thread* that
 * parks (parkingSender) moves sendWakeAt a quarter of the capacity ahead (or to the end of what the ring holds, if
 * less: the ring's own items guarantee the count gets there) and parks for at most ThreadWaiter.RUN_PARK_NANOS: the
 * consumer then admits it and every queued sender that fits in one pump, and they come back to a buffer with room,
 * instead of a convoy of producers each woken for one slot; a consumer that stops early cannot strand it, it wakes by
 * itself and is admitted into what is free (admitIfHead); (3) an upstream's demand waiter at the head is served after
 * a quarter of the capacity was removed, the same way, and then requests a run. Futures and upstream items are
 * admitted at the next removal (nobody would wake them later).

 * No lost wake-ups (Dekker). A producer claims a ring index (a volatile CAS on the producer index), publishes the
 * element, then reads the gate (volatile). A receiver enqueues itself under the lock, writes the gate, issues a full
 * fence and re-polls the ring through pumpLocked(), whose poll reads the producer index and, when it finds an index
 * claimed but not yet published, waits the few instructions until it is (RingBuffer.poll). The CAS and both gate
 * accesses are volatile, hence totally ordered: either the receiver's re-poll comes after the CAS (it sees the claim
 * and waits for the element) or its gate write comes before the CAS, and then before the producer's gate read, which
 * sees RECEIVERS_WAIT and serves. Symmetrically for a consumer freeing a slot (CAS on the consumer index) and a sender
 * announcing itself (RingBuffer.offer waits for a slot a consumer has claimed but not yet freed). A thread only takes the lock when someone waits.
 *
 * Ownership (contract 1, invariant I3). Only the thread that removes an item from the ring (or from `returned`) may
 * deliver or discard it. pumpLocked() removes an item only to hand it to a waiter in the same step; a subscription
 * removes items only inside its drain loop, one at a time, straight into onNext (I5). A consumer that removed an item
 * but can no longer deliver it (a subscription cancelled in between, an iterator closed) puts it back with pushBack():
 * it goes to the head waiter, or to `returned`, which every poll reads before the ring. cancel() stops consumers
 * atomically (ring.cancelConsumers(): their polls then find nothing) and then removes and discards what is left; any
 * thread may help with that (discardAll), each item once. An item given back after the channel ended goes to the
 * undelivered handler as RETURNED_AFTER_END, so it is never stranded.
 *
 * Lifecycle. `mode` is OPEN, CLOSED, FAILED or CANCELLED; it changes once from OPEN (CLOSED/FAILED may still change
 * to CANCELLED), always under the lock, together with ring.close(), which freezes the number of accepted items.
 * "Drained" is ring.isEmpty() && `returned` is empty; the first pump that sees a closed-and-drained channel sets
 * `terminated`, wakes every waiting receiver with END and lets every subscription signal completion. A producer that
 * claimed a ring index before the close still publishes; its afterPublish() sees ENDING and pumps, so the item is
 * delivered (or discarded after cancel) and termination is detected then.
 *
 * User code. wake() runs outside the lock. The undelivered handler and onNext may throw anything, a
 * StackOverflowError included: the error is counted and logged (CallbackLog, rate-limited), never rethrown into the
 * channel's bookkeeping, so every accepted item is still delivered or handed over once and every waiter is woken.
 *
 * Invariants. I1 ring + overflow + returned + reserved <= capacity (a rendezvous channel: at most the one item in
 * flight to a waiting receiver), except transiently by one pushed-back item per consumer that
 * was cancelled in the middle of a delivery (senders are held back until the excess is drained). I2 a fast path runs
 * only when its side's SLOW bit is clear; only the head waiter is served. I3 only whoever removed an item delivers or
 * discards it. I4 relaxed probes never decide FULL/EMPTY or allow a park. I5 items leave the ring only for a
 * returning receive, inside a drain loop against demand, or into a drainTo sink.
 *
 * Counters. sent = ring producer count; received = ring consumer count - items removed then discarded - items
 * currently pushed back; size = ring size + pushed back. So the hot paths update no counter of their own; the rest
 * lives in ChannelCounters and is written on slow paths only.
 */
final class ChannelCore {

    static final System.Logger LOGGER = System.getLogger("dev.sluice.Channel");

    /* mode */
    /** Accepting items. */
    static final int OPEN = 0;
    /** Closed with close(): no new items; receivers drain, then complete. */
    static final int CLOSED = 1;
    /** Closed with fail(t): no new items; receivers drain, then see the failure. */
    static final int FAILED = 2;
    /** Cancelled: buffered items go to the undelivered handler, everybody ends now. */
    static final int CANCELLED = 3;

    /* gate bits, see Overview */
    static final int SEND_SLOW = 1;
    static final int RECEIVE_SLOW = 1 << 1;
    static final int RETURNED = 1 << 2;
    static final int RECEIVERS_WAIT = 1 << 3;
    static final int SENDERS_WAIT = 1 << 4;
    static final int ENDING = 1 << 5;
    /** Items wait in `overflow` (a capacity above the ring's, or an unbounded channel): senders queue behind them. */
    static final int OVERFLOW = 1 << 6;
    /** A rendezvous channel: no buffer, every hand-off is decided under the lock. */
    static final int RENDEZVOUS_GATE = 1 << 7;

    /* overflow policies (Overflow) */
    static final int BLOCK = 0;
    static final int DROP_OLDEST = 1;
    static final int DROP_NEWEST = 2;

    /** The ring of a channel whose capacity is above this holds this many; the rest waits in `overflow`. */
    static final int MAX_RING = 1 << 14;
    /** The ring of an unbounded channel. */
    static final int UNBOUNDED_RING = 1 << 10;
    /** The largest ring a new channel gets: MAX_RING; tests lower it to run the overflow path at small sizes. */
    static volatile int ringLimit = MAX_RING;

    /* results of admit() */
    /** The item is in the channel. */
    static final int ACCEPTED = 0;
    /** No room, and the caller gave no waiter to queue. */
    static final int FULL = 1;
    /** The channel accepts no more items. */
    static final int REFUSED = 2;
    /** The caller's waiter was queued; its wake() reports the outcome. */
    static final int QUEUED = 3;
    /** Accepted; the channel was full, so its oldest item was evicted to onUndelivered(DROPPED) (DROP_OLDEST). */
    static final int EVICTED = 4;
    /** Not kept: the channel was full, so this item went to onUndelivered(DROPPED) (DROP_NEWEST). */
    static final int DROPPED = 5;

    /** Returned by take() and the blocking receives when the channel has ended. */
    static final Object END = new Object();
    /** Returned to an iterator whose wait was ended by its close(). */
    static final Object DETACHED = new Object();
    /** Returned by take() when the caller's waiter was queued. */
    static final Object WAITING = new Object();

    /** await() result for an interrupted waiter that was withdrawn. */
    static final int INTERRUPTED = -1;
    /** await() result for a timed-out waiter that was withdrawn. */
    static final int TIMED_OUT = -2;

    /** The most items held: 0 for a rendezvous channel, Integer.MAX_VALUE for an unbounded one. */
    final int capacity;
    /** The ring's size: the capacity up to MAX_RING (1 for a rendezvous channel: the hand-off slot). */
    final int ringCapacity;
    final RingBuffer ring;
    private final UndeliveredHandler<Object> onUndelivered;
    /** BLOCK, DROP_OLDEST or DROP_NEWEST. */
    final int overflowPolicy;
    final boolean rendezvous;
    /** The weigher of a weighted channel, else null; maxWeight its bound. */
    private final java.util.function.ToLongFunction<Object> weigher;
    final long maxWeight;
    /** A spinning sender waits until this many slots look free (a quarter of the capacity): it resumes with a run. */
    private final int wakeDistance;
    final ChannelCounters counters;
    final CallbackLog callbackLog = new CallbackLog();
    private final SpinPolicy sendSpin = new SpinPolicy();
    private final SpinPolicy receiveSpin = new SpinPolicy();
    private final SpinPolicy.Probe roomProbe = new SpinPolicy.Probe() {
        @Override
        public boolean ready() {
            return roomLikely();
        }

        @Override
        public long progress() {
            return ring.consumerCount();
        }
    };
    private final SpinPolicy.Probe itemProbe = new SpinPolicy.Probe() {
        @Override
        public boolean ready() {
            return itemLikely();
        }

        @Override
        public long progress() {
            return ring.producerCount();
        }
    };

    private final ReentrantLock lock = new ReentrantLock();
    // all guarded by lock
    private final ArrayDeque<Waiter> sendQueue = new ArrayDeque<>();
    private final ArrayDeque<Waiter> receiveQueue = new ArrayDeque<>();
    private final ArrayDeque<Object> returned = new ArrayDeque<>();
    /** Accepted items beyond the ring (capacity above MAX_RING, or unbounded), oldest first; after the ring's. */
    private ArrayDeque<Object> overflow = new ArrayDeque<>();
    /** The most items `overflow` held since it was last empty: a large one is given back to the GC when it empties. */
    private int overflowPeak;
    private final Set<ChannelPublisher.Sub<?>> subscriptions = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<ChannelSubscriber<?>> upstreams = Collections.newSetFromMap(new IdentityHashMap<>());
    private Throwable failure;          // written under lock before mode is set to FAILED
    private int openSenders;            // handles from openSender() not yet closed

    /** The gate flags (see Overview); written under lock, only when they change. */
    private volatile int gate;
    /** receiveQueue.peekFirst(), written under lock: a producer serves a standing head without the lock. */
    private volatile Waiter receiveHead;
    /** sendQueue.peekFirst(), written under lock: a queued sender learns whether it is first in line. */
    private volatile Waiter sendHead;
    /** receiveQueue.size(), written under lock. */
    private volatile int receiveWaiters;
    /** sendQueue.size(), written under lock. */
    private volatile int sendWaiters;
    /** The consumer count at which a consumer pumps for the queued senders; written under lock before the gate. */
    private volatile long sendWakeAt;
    /** returned.size(), written under lock. */
    private volatile int returnedCount;
    /** overflow.size(), written under lock. */
    private volatile int overflowCount;
    /** Items removed from overflow directly (not through the ring: after a close, or by cancel); under lock. */
    private volatile long overflowTaken;
    /** Sum of the weights of the items in the ring and in overflow (weighted channels); CAS on admission. */
    private volatile long weight;
    /** Slots reserved for upstream subscribers, until they report their run filled; written under lock. */
    private volatile int reserved;
    /** OPEN, CLOSED, FAILED or CANCELLED; written under lock. */
    volatile int mode;
    /** Set once, under lock, when receivers have been told the channel ended. */
    private volatile boolean terminated;

    private final CompletableFuture<ChannelState> termination = new CompletableFuture<>();

    /**
     * @param capacity 0 (rendezvous) to Integer.MAX_VALUE (unbounded), checked by Channel.Builder
     * @param weigher null, or the weigher of a channel bounded by maxWeight
     * @param name the channel's name, or null
     * @param waitEventNanos a wait at least this long is recorded as a JFR event
     */
    @SuppressWarnings("unchecked")
    ChannelCore(int capacity, int overflowPolicy, java.util.function.ToLongFunction<?> weigher, long maxWeight,
            UndeliveredHandler<?> onUndelivered, String name, long waitEventNanos) {
        this.capacity = capacity;
        this.rendezvous = capacity == 0;
        this.counters = new ChannelCounters(name, waitEventNanos);
        int limit = ringLimit;
        this.ringCapacity = rendezvous ? 1 : Math.min(capacity == Integer.MAX_VALUE ? UNBOUNDED_RING : capacity,
                limit);
        this.ring = new RingBuffer(ringCapacity);
        this.overflowPolicy = overflowPolicy;
        this.weigher = (java.util.function.ToLongFunction<Object>) weigher;
        this.maxWeight = maxWeight;
        this.onUndelivered = (UndeliveredHandler<Object>) onUndelivered;
        this.wakeDistance = Math.max(1, ringCapacity >> 2);
        if (rendezvous) {
            gate = SEND_SLOW | RECEIVE_SLOW | RENDEZVOUS_GATE;
        }
    }

    static int checkCapacity(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 but was " + capacity
                    + " (Channel.rendezvous() has no buffer)");
        }
        return capacity;
    }

    /** True when a sender can always make progress without waiting (a drop policy, or unbounded). */
    private boolean neverBlocks() {
        return overflowPolicy != BLOCK || (capacity == Integer.MAX_VALUE && weigher == null);
    }

    /** The weight of an item (0 unless weighted); the weigher's exception reaches the sender, nothing changes. */
    private long weigh(Object item) {
        if (weigher == null) {
            return 0L;
        }
        long w = weigher.applyAsLong(item);
        if (w < 0) {
            throw new IllegalArgumentException("the weigher must return a weight >= 0 but returned " + w
                    + " for " + item);
        }
        return w;
    }

    /** Adds an item's weight if it fits (or the channel holds no weight: a heavy item enters an empty channel). */
    private boolean tryAddWeight(long w) {
        for (;;) {
            long cur = weight;
            if (cur != 0 && (cur + w > maxWeight || cur + w < 0)) {
                return false;
            }
            if (WEIGHT.compareAndSet(this, cur, cur + w)) {
                return true;
            }
        }
    }

    /*
     * A weighted channel keeps each item in the ring and in overflow together with the weight it was admitted with
     * (a Weighed box): the weigher runs once per item, on the sender's thread before the lock, and what leaves takes
     * exactly that weight out, whatever the weigher would say later.
     */
    private static final class Weighed {
        final Object item;
        final long weight;

        Weighed(Object item, long weight) {
            this.item = item;
            this.weight = weight;
        }
    }

    /** What the ring or overflow holds for an item: the item, or a Weighed box. */
    private Object box(Object item, long w) {
        return weigher == null ? item : new Weighed(item, w);
    }

    /** An entry left the ring or overflow: the item, its weight taken out of the channel's. */
    private Object unbox(Object entry) {
        if (weigher == null || entry == null) {
            return entry;
        }
        Weighed b = (Weighed) entry;
        WEIGHT.getAndAdd(this, -b.weight);
        return b.item;
    }

    /**
     * The fast path of every send: the ring, lock-free, when no sender waits and the item's weight fits.
     *
     * @return RingBuffer.OK, FULL or CLOSED
     */
    private int offerFast(Object item, long w) {
        if ((gate & SEND_SLOW) != 0) {
            return RingBuffer.FULL;
        }
        if (weigher != null && !tryAddWeight(w)) {
            return RingBuffer.FULL;
        }
        int r = ring.offer(box(item, w));
        if (r != RingBuffer.OK && weigher != null) {
            WEIGHT.getAndAdd(this, -w);
        }
        return r;
    }

    /** A Duration as nanoseconds, saturating; zero or negative means "do not wait". */
    static long toNanos(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            return 0L;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /** Every lock acquisition goes through here: the one method BlockHound allows to park (briefly). */
    private void acquire() {
        Trace.count(Trace.LOCKS);
        lock.lock();
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- sending: one way in ---- */

    /**
     * The one way in for every sender: the lock-free path when no sender waits, else under the lock: the item is
     * accepted if nobody waits ahead of it ({@code first}: the caller was the side's spinner, so it arrived before
     * every queued sender) and there is room; otherwise the waiter that {@code source} gives is queued behind the
     * senders already waiting (FIFO), or FULL is returned when there is no source.
     *
     * @return ACCEPTED, FULL, REFUSED, or QUEUED
     */
    int admit(Object item, WaiterSource source, boolean first) {
        long w = weigh(item);
        if ((gate & SEND_SLOW) == 0) {
            int r = offerFast(item, w);
            if (r == RingBuffer.OK) {
                afterPublish();
                return ACCEPTED;
            }
            if (r == RingBuffer.CLOSED) {
                return REFUSED;
            }
            if (source == null && !first && overflowPolicy == BLOCK && ringCapacity == capacity
                    && weigher == null) {
                counters.notePeak(capacity);
                return FULL;
            }
        }
        List<Waiter> signals = null;
        List<Object> evicted = null;
        int result;
        acquire();
        try {
            if (mode != OPEN) {
                return REFUSED;
            }
            if ((first || sendQueue.isEmpty()) && admitLocked(item, w)) {
                result = ACCEPTED;
            } else if (overflowPolicy == DROP_NEWEST) {
                result = DROPPED;
            } else if (overflowPolicy == DROP_OLDEST) {
                // evict the oldest until the item fits (an item heavier than maxWeight fits an empty channel);
                // nothing left to evict and still no room happens only while a consumer is between claiming an
                // item and taking out its weight: the new item is then dropped (a drop policy never waits)
                boolean in;
                for (;;) {
                    Object oldest = pollLocked();
                    if (oldest == null) {
                        in = admitLocked(item, w);
                        break;
                    }
                    if (evicted == null) {
                        evicted = new ArrayList<>(2);
                    }
                    evicted.add(oldest);
                    if (admitLocked(item, w)) {
                        in = true;
                        break;
                    }
                }
                result = !in ? DROPPED : evicted == null ? ACCEPTED : EVICTED;
            } else {
                counters.notePeak(capacity);
                if (source == null) {
                    return FULL;
                }
                Waiter waiter = source.waiterFor(item);
                waiter.weight = w;
                enqueueLocked(sendQueue, waiter);
                result = QUEUED;
            }
            if (result != FULL) {
                signals = pumpLocked(null);
            }
        } finally {
            lock.unlock();
        }
        if (evicted != null) {
            for (Object old : evicted) {
                undeliver(old, UndeliveredReason.DROPPED, true);
            }
        }
        if (result == DROPPED) {
            undeliver(item, UndeliveredReason.DROPPED, false);
        }
        signal(signals);
        return result;
    }

    /**
     * Accepts an item into the ring or, beyond the ring's size, into overflow, if the channel has room for it by count
     * and by weight (a rendezvous channel: only into its empty hand-off slot, for a waiting receiver).
     */
    private boolean admitLocked(Object item, long w) {
        assert lock.isHeldByCurrentThread();
        if (!hasRoomLocked()) {
            return false;
        }
        if (weigher != null && !tryAddWeight(w)) {
            return false;
        }
        refillLocked();
        Object entry = box(item, w);
        if (overflowCount == 0 && ring.offer(entry) == RingBuffer.OK) {
            return true;
        }
        if (rendezvous || ringCapacity == capacity) {
            if (weigher != null) {
                WEIGHT.getAndAdd(this, -w);
            }
            return false; // the ring is all there is (and a consumer is between claiming and freeing a slot)
        }
        overflow.addLast(entry);
        overflowCount = overflow.size();
        if (overflowCount > overflowPeak) {
            overflowPeak = overflowCount;
        }
        return true;
    }

    /** Moves overflow items into the ring while it has room (oldest first: the ring's items are older still). */
    private void refillLocked() {
        if (overflowCount == 0) {
            return;
        }
        ArrayDeque<Object> o = overflow;
        Object head;
        while ((head = o.peekFirst()) != null && ring.offer(head) == RingBuffer.OK) {
            o.pollFirst();
        }
        overflowCount = o.size();
        if (overflowCount == 0 && overflowPeak > 1024) {
            overflow = new ArrayDeque<>(); // give a large backing array back
            overflowPeak = 0;
        }
    }

    SendResult trySend(Object item) {
        switch (admit(item, null, false)) {
            case ACCEPTED:
                return SendResult.OK;
            case EVICTED:
                return SendResult.DROPPED_OLDEST;
            case DROPPED:
                return SendResult.DROPPED_NEWEST;
            case REFUSED:
                return SendResult.CLOSED;
            default:
                return SendResult.FULL;
        }
    }

    /** True for a result that ends a send: nothing more to wait for. */
    static boolean done(int r) {
        return r == ACCEPTED || r == EVICTED || r == DROPPED;
    }

    /** Blocks until accepted (nanos < 0), at most nanos (> 0), or not at all (0); false on timeout. */
    boolean send(Object item, long nanos) throws InterruptedException {
        if (nanos != 0) {
            sendSpin.guard(nanos < 0 ? "Channel.send()" : "Channel.send(Duration)");
        }
        if (Thread.interrupted()) {
            if (mode != OPEN) {
                Thread.currentThread().interrupt(); // a closed channel's signal wins; the interrupt stays pending
                throw closedForSend();
            }
            throw new InterruptedException();
        }
        int r = admit(item, null, false);
        if (done(r)) {
            return true;
        }
        if (r == REFUSED) {
            throw closedForSend();
        }
        if (nanos == 0) {
            return false;
        }
        Trace.count(Trace.SEND_FULL);
        long since = counters.senderBlocked();
        try {
            final long deadline = nanos > 0 ? since + nanos : 0L;
            // spin only if nobody waits ahead: the spinner then keeps its place before later arrivals (`first`)
            boolean spin = (gate & SEND_SLOW) == 0;
            while (spin && sendSpin.await(roomProbe)) {
                r = admit(item, null, true);
                if (done(r)) {
                    Trace.count(Trace.SEND_SPIN_OK);
                    return true;
                }
                if (r == REFUSED) {
                    throw closedForSend();
                }
                if (nanos > 0 && System.nanoTime() - deadline >= 0) {
                    return false;
                }
            }
            long remaining = -1L;
            if (nanos > 0) {
                remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
            }
            Trace.count(Trace.SEND_SPIN_FAIL);
            ThreadWaiter w = new ThreadWaiter(Thread.currentThread(), item);
            r = admit(item, w, false);
            Trace.count(Trace.SEND_QUEUED);
            if (done(r)) {
                return true;
            }
            if (r == REFUSED) {
                throw closedForSend();
            }
            int state = w.await(this, remaining, SpinPolicy.maySpin(w.thread) && sendHead == w, sendSpin, true);
            if (state == Waiter.DONE) {
                return true;
            }
            if (state == Waiter.CLOSED) {
                throw closedForSend();
            }
            if (state == INTERRUPTED) {
                throw new InterruptedException();
            }
            return false; // timed out
        } finally {
            counters.senderUnblocked(since);
        }
    }

    /** A future completed once the item is accepted; queued in the same FIFO as blocked senders. */
    CompletableFuture<Void> sendAsync(Object item) {
        if ((gate & SEND_SLOW) == 0 && weigher == null) {
            int r = ring.offer(item);
            if (r == RingBuffer.OK) {
                afterPublish();
                return CompletableFuture.completedFuture(null);
            }
            if (r == RingBuffer.CLOSED) {
                return CompletableFuture.failedFuture(closedForSend());
            }
        }
        SendFuture future = new SendFuture(this, item);
        int r = admit(item, future.waiter, false);
        if (done(r)) {
            return CompletableFuture.completedFuture(null);
        }
        if (r == REFUSED) {
            return CompletableFuture.failedFuture(closedForSend());
        }
        return future;
    }

    /**
     * Offers the items of a list in order, as runs claimed with one CAS each when nobody waits; stops at the first
     * item that does not fit.
     *
     * @return how many leading items were accepted; -1 if the channel refused the first one
     */
    int trySendAll(Object[] items, int n) {
        int accepted = 0;
        boolean runs = true;
        while (accepted < n) {
            if (runs && n - accepted > 1 && (gate & SEND_SLOW) == 0 && weigher == null) {
                int run = ring.fill(items, accepted, n - accepted);
                if (run < 0) {
                    return accepted == 0 ? -1 : accepted;
                }
                if (run > 0) {
                    accepted += run;
                    afterPublish();
                    continue;
                }
                runs = false; // fewer slots than items: go on one by one
            }
            int r = admit(items[accepted], null, false);
            if (done(r)) {
                accepted++; // (under a drop policy a dropped item counts as sent: the caller is done with it)
            } else {
                return r == REFUSED && accepted == 0 ? -1 : accepted;
            }
        }
        return accepted;
    }

    /**
     * An upstream's item for a slot reserved for it: goes in now, lock-free, or first in line (the waiter that
     * {@code source} gives) if a pushed-back item took the slot meanwhile (I1's transient excess). The slot stays
     * counted in `reserved` until the upstream reports its run complete (releaseReserved).
     *
     * @return ACCEPTED, REFUSED, or QUEUED
     */
    int admitReserved(Object item, WaiterSource source) {
        long weight = weigh(item);
        if (weigher != null && !tryAddWeight(weight)) {
            return admit(item, source, true); // too heavy now: wait first in line, by weight
        }
        int r = ring.offer(box(item, weight));
        if (r != RingBuffer.OK && weigher != null) {
            WEIGHT.getAndAdd(this, -weight);
        }
        if (r == RingBuffer.OK) {
            afterPublish();
            return ACCEPTED;
        }
        if (r == RingBuffer.CLOSED) {
            return REFUSED;
        }
        List<Waiter> signals;
        acquire();
        try {
            if (mode != OPEN) {
                return REFUSED;
            }
            Waiter w = source.waiterFor(item);
            w.weight = weight;
            w.state = Waiter.WAITING;
            w.queued = true;
            w.since = counters.senderBlocked();
            sendQueue.addFirst(w);
            updateGateLocked();
            VarHandle.fullFence();
            signals = pumpLocked(null);
        } finally {
            lock.unlock();
        }
        signal(signals);
        return QUEUED;
    }

    /**
     * An upstream reports reserved slots it is done with: filled (its run is complete: they now count as items in the
     * ring) or never to be filled (it completed, or was cancelled).
     */
    void releaseReserved(int slots) {
        if (slots <= 0) {
            return;
        }
        List<Waiter> signals;
        acquire();
        try {
            reserved = Math.max(0, reserved - slots);
            signals = pumpLocked(null);
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    /** Queues an upstream's wish for capacity (its FIFO place among senders); granted by the pump. */
    boolean awaitCapacity(Waiter demandWaiter) {
        List<Waiter> signals;
        acquire();
        try {
            if (mode != OPEN) {
                return false;
            }
            enqueueLocked(sendQueue, demandWaiter);
            signals = pumpLocked(null);
        } finally {
            lock.unlock();
        }
        signal(signals);
        return true;
    }

    boolean registerUpstream(ChannelSubscriber<?> upstream) {
        acquire();
        try {
            if (mode != OPEN) {
                return false;
            }
            upstreams.add(upstream);
            return true;
        } finally {
            lock.unlock();
        }
    }

    void unregisterUpstream(ChannelSubscriber<?> upstream) {
        acquire();
        try {
            upstreams.remove(upstream);
        } finally {
            lock.unlock();
        }
    }

    /** True when senders are queued or slots reserved: a sender that arrives now must queue behind them. */
    boolean sendersAhead() {
        return (gate & SEND_SLOW) != 0;
    }

    /**
     * A queued sender thread is about to park. If it is the head and the capacity allows runs, consumers wake it only
     * once a quarter of the capacity (or all the ring holds) was removed, and it parks for at most
     * ThreadWaiter.RUN_PARK_NANOS: woken, it and everybody behind it that fits are admitted at once and come back
     * to a buffer with room for a run, instead of one sender woken per freed slot (the convoy of many producers).
     *
     * @return true if it parks for a run (bounded), false for a plain park
     */
    boolean parkingSender(ThreadWaiter w) {
        if (wakeDistance <= 1 || sendHead != w) {
            return false;
        }
        long due = ring.consumerCount() + Math.max(1, Math.min(wakeDistance, ring.size()));
        if (due > sendWakeAt) {
            sendWakeAt = due; // racy with the lock's writes: an earlier pump is harmless, a later one bounded
        }
        return true;
    }

    /** A head sender that parked for a run woke by itself: admit it (and whoever fits behind it) into what is free. */
    void admitIfHead(ThreadWaiter w) {
        if (sendHead == w && w.state == Waiter.WAITING) {
            pump();
        }
    }

    /** Free capacity now (ring, pushed-back items and reservations counted), at least 0; a snapshot. */
    int freeCapacity() {
        if (rendezvous) {
            return receiveWaiters > 0 && reserved == 0 && ring.isEmpty() ? 1 : 0;
        }
        if (weigher != null && weight >= maxWeight) {
            return 0;
        }
        long free = (long) capacity - ring.size() - overflowCount - returnedCount - reserved;
        if (weigher != null) {
            free = Math.min(free, wakeDistance); // item weights are unknown until they come: ask in small runs
        }
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, free));
    }

    /** Room for one more item by count (weights are checked by admitLocked). */
    private boolean hasRoomLocked() {
        assert lock.isHeldByCurrentThread();
        if (rendezvous) {
            // no buffer: the hand-off slot, for a waiting receiver that nothing else is reserved for
            return !receiveQueue.isEmpty() && returnedCount == 0 && reserved == 0 && ring.isEmpty();
        }
        long held = (long) returnedCount + reserved + overflowCount;
        return held == 0 && ringCapacity == capacity || ring.size() + held < capacity;
    }

    /** The spinning sender's relaxed look: a quarter of the capacity looks free, or the channel stopped accepting. */
    private boolean roomLikely() {
        if ((gate & ENDING) != 0) {
            return true;
        }
        return ring.hasRoomAt(ring.producerCount() + wakeDistance - 1);
    }

    /** After an item entered the ring: serve waiting receivers (Dekker: the index CAS, then this read; Overview). */
    private void afterPublish() {
        if ((gate & (RECEIVERS_WAIT | ENDING)) != 0) {
            Waiter head = receiveHead;
            if (head != null && head.isStanding()) {
                head.wake(); // a subscription takes items itself while it is the head
                if ((gate & ENDING) == 0) {
                    return;
                }
            }
            pump();
        }
    }

    ChannelClosedException closedForSend() {
        int m = mode;
        if (m == CANCELLED) {
            return new ChannelClosedException(counters.channel() + " was cancelled: it accepts no more items");
        }
        if (m == FAILED) {
            return new ChannelClosedException(counters.channel() + " failed: it accepts no more items", failure);
        }
        return new ChannelClosedException(counters.channel() + " is closed: it accepts no more items");
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- receiving: one way in ---- */

    /**
     * The one way in for every receiver: the lock-free path when no receiver waits and nothing was pushed back, else
     * under the lock: an item if nobody waits ahead ({@code first}: the caller was the side's spinner), END at the end
     * of the channel, else {@code waiter} is queued (WAITING returned) or, without a waiter, null.
     */
    Object take(Waiter waiter, boolean first) {
        if ((gate & RECEIVE_SLOW) == 0) {
            Object item = unbox(ring.poll());
            if (item != null) {
                afterRemove();
                return item;
            }
            if (waiter == null && !first && (gate & ENDING) == 0 && mode == OPEN && overflowCount == 0) {
                return null;
            }
        }
        Object item;
        List<Waiter> signals = null;
        acquire();
        try {
            if (first || receiveQueue.isEmpty()) {
                signals = handOffLocked(null);
                item = pollLocked();
            } else {
                item = null;
            }
            if (item != null) {
                if (!sendQueue.isEmpty() || mode != OPEN || overflowCount != 0) {
                    signals = pumpLocked(signals);
                }
            } else if (isEndForReceive()) {
                signals = terminateIfEndedLocked(signals);
                item = END;
            } else if (waiter == null) {
                return null;
            } else {
                enqueueLocked(receiveQueue, waiter);
                signals = pumpLocked(signals);
                item = WAITING;
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
        return item;
    }

    Object tryReceive() {
        Object item = take(null, false);
        return item == END ? null : item;
    }

    /** Blocking receive: the item, or throws ChannelClosedException at the end. */
    Object receive(String operation) throws InterruptedException {
        Object item = awaitItem(operation, -1L, null);
        if (item == END) {
            throw endException();
        }
        return item;
    }

    /** Timed receive: the item, null on timeout, or throws ChannelClosedException at the end. */
    Object receive(long nanos) throws InterruptedException {
        Object item = awaitItem("Channel.receive(Duration)", nanos, null);
        if (item == END) {
            throw endException();
        }
        return item;
    }

    /**
     * Waits for an item.
     *
     * @param nanos negative: forever; zero: no wait
     * @param iterator the iterator waiting, so that its close() can detach the wait, or null
     * @return the item; null on timeout; END at the end of the channel; DETACHED if the iterator was closed
     */
    Object awaitItem(String operation, long nanos, BlockingChannelIterator<?> iterator) throws InterruptedException {
        if (nanos != 0) {
            receiveSpin.guard(operation);
        }
        if (Thread.interrupted()) {
            if (mode != OPEN && isEndForReceive()) {
                Thread.currentThread().interrupt(); // the end of the channel wins; the interrupt stays pending
                return END;
            }
            throw new InterruptedException();
        }
        Object item = take(null, false);
        if (item != null || nanos == 0) {
            return item;
        }
        Trace.count(Trace.RECEIVE_EMPTY);
        long since = counters.receiverStarved();
        try {
            final long deadline = nanos > 0 ? since + nanos : 0L;
            boolean spin = (gate & RECEIVE_SLOW) == 0 && mode == OPEN;
            if (spin) {
                receiveSpin.moved(ring.consumerCount(), wakeDistance);
            }
            while (spin && receiveSpin.await(itemProbe)) {
                item = take(null, true);
                if (item != null) {
                    Trace.count(Trace.RECEIVE_SPIN_OK);
                    return item;
                }
                if (nanos > 0 && System.nanoTime() - deadline >= 0) {
                    return null;
                }
            }
            long remaining = -1L;
            if (nanos > 0) {
                remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return null;
                }
            }
            Trace.count(Trace.RECEIVE_SPIN_FAIL);
            ThreadWaiter w = new ThreadWaiter(Thread.currentThread(), null);
            item = take(w, false);
            Trace.count(Trace.RECEIVE_QUEUED);
            if (item != WAITING) {
                return item;
            }
            if (iterator != null) {
                iterator.waiter = w;
                if (iterator.isClosed()) {
                    detach(w);
                }
            }
            int state;
            try {
                state = w.await(this, remaining, SpinPolicy.maySpin(w.thread) && receiveHead == w, receiveSpin, false);
            } finally {
                if (iterator != null) {
                    iterator.waiter = null;
                }
            }
            switch (state) {
                case Waiter.DONE:
                    Object handed = w.item;
                    w.item = null;
                    return handed;
                case Waiter.CLOSED:
                    return END;
                case Waiter.DETACHED:
                    return DETACHED;
                case INTERRUPTED:
                    throw new InterruptedException();
                default:
                    return null; // timed out
            }
        } finally {
            counters.receiverFed(since);
        }
    }

    /** The spinning receiver's relaxed look: the next item looks published, or the channel changed state. */
    private boolean itemLikely() {
        return ring.hasItemAt(ring.consumerCount()) || (gate & (ENDING | RETURNED)) != 0;
    }

    /** Ends the wait of an iterator's waiter from another thread (iterator close). */
    void detach(ThreadWaiter w) {
        boolean detached;
        acquire();
        try {
            detached = leaveQueueLocked(w, Waiter.DETACHED);
        } finally {
            lock.unlock();
        }
        if (detached) {
            w.wake();
        }
    }

    /** Moves up to max items into sink without blocking, in runs claimed with one CAS when nobody waits. */
    int drainTo(Collection<Object> sink, int max) {
        int n = 0;
        Object[] run = null;
        while (n < max) {
            if ((gate & RECEIVE_SLOW) == 0 && max - n > 1) {
                if (run == null) {
                    run = new Object[Math.min(max - n, Math.min(ringCapacity, 256))];
                }
                int k = ring.drain(run, Math.min(run.length, max - n));
                if (k > 0) {
                    for (int i = 0; i < k; i++) {
                        run[i] = unbox(run[i]);
                    }
                    afterRemove();
                    for (int i = 0; i < k; i++) {
                        Object item = run[i];
                        run[i] = null;
                        try {
                            sink.add(item);
                        } catch (RuntimeException | Error e) {
                            // the sink refused it: it and the rest of the run stay in the channel, in order
                            pushBackAll(run, i, k, item);
                            throw e;
                        }
                        n++;
                    }
                    continue;
                }
            }
            Object item = tryReceive();
            if (item == null) {
                break;
            }
            try {
                sink.add(item);
            } catch (RuntimeException | Error e) {
                pushBack(item);
                throw e;
            }
            n++;
        }
        return n;
    }

    /** After an item left the ring: admit waiting senders (Dekker: the index CAS, then this read; Overview). */
    private void afterRemove() {
        int g = gate;
        if (((g & SENDERS_WAIT) != 0 && ring.consumerCount() >= sendWakeAt)
                || ((g & ENDING) != 0 && !terminated && ring.isEmpty())) {
            pump();
        }
    }

    // assert lock.isHeldByCurrentThread();
    private Object pollLocked() {
        if (mode == CANCELLED) {
            return null; // what is left belongs to the discarding thread
        }
        if (returnedCount != 0) {
            Object item = returned.pollFirst();
            returnedCount = returned.size();
            return item;
        }
        Object entry = ring.poll();
        if (entry == null && overflowCount != 0) {
            refillLocked();
            entry = ring.poll();
            if (entry == null) { // the ring is closed: straight from overflow
                entry = overflow.pollFirst();
                overflowCount = overflow.size();
                overflowTaken++;
            }
        }
        return unbox(entry);
    }

    /**
     * A rendezvous channel hands the head sender's item over through its one slot when a receiver takes: the sender
     * is done (its item is accepted and taken at once). Returns the list to wake.
     */
    private List<Waiter> handOffLocked(List<Waiter> signals) {
        assert lock.isHeldByCurrentThread();
        Waiter sw = sendQueue.peekFirst();
        if (rendezvous && sw != null && sw.item != null && returnedCount == 0 && ring.isEmpty()
                && ring.offer(box(sw.item, sw.weight)) == RingBuffer.OK) {
            sendQueue.pollFirst();
            sw.queued = false;
            sw.state = Waiter.DONE;
            endClockLocked(sw);
            signals = add(signals, sw);
            updateGateLocked();
        }
        return signals;
    }

    /** The exception a receiver sees at the end: no cause after close, the failure, or a CancellationException. */
    ChannelClosedException endException() {
        int m = mode;
        if (m == CANCELLED) {
            return new ChannelClosedException(counters.channel() + " was cancelled",
                    new CancellationException(counters.channel() + " was cancelled"));
        }
        if (m == FAILED) {
            return new ChannelClosedException(counters.channel() + " failed", failure);
        }
        return new ChannelClosedException(counters.channel() + " is closed and drained");
    }

    /** True when the end is a normal completion (close() and drained). */
    boolean endIsCompletion() {
        return mode == CLOSED;
    }

    Throwable failure() {
        return failure;
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- the Publisher view's subscriptions: standing waiters ---- */

    void register(ChannelPublisher.Sub<?> sub) {
        acquire();
        try {
            subscriptions.add(sub);
        } finally {
            lock.unlock();
        }
    }

    /** Forgets a cancelled or terminated subscription (rule 3.13) and takes it out of the receive queue. */
    void unregister(ChannelPublisher.Sub<?> sub) {
        List<Waiter> signals = null;
        acquire();
        try {
            subscriptions.remove(sub);
            if (sub.queued) {
                removeLocked(receiveQueue, sub);
                signals = pumpLocked(null);
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    /**
     * The next item for a subscription with demand (its drain loop calls this once per unit of demand): the item,
     * END, or null when there is nothing for it now. Then the subscription stands in the receive queue (the first time
     * it is queued; it stays there while it has demand) and is woken when it is the head and items arrive.
     */
    Object takeFor(ChannelPublisher.Sub<?> sub) {
        int g = gate;
        if (sub.queued) {
            if (receiveHead != sub) {
                return null; // not our turn; woken when we are the head
            }
            if ((g & RETURNED) == 0) {
                Object item = unbox(ring.poll());
                if (item != null) {
                    afterRemove();
                    return turnTaken(sub, item);
                }
                if ((g & (ENDING | OVERFLOW)) == 0) {
                    return null; // stand: a producer's next publish wakes us (RECEIVERS_WAIT is set)
                }
            }
        } else if ((g & RECEIVE_SLOW) == 0) {
            Object item = unbox(ring.poll());
            if (item != null) {
                afterRemove();
                return item;
            }
        }
        Object item;
        List<Waiter> signals = null;
        acquire();
        try {
            if (sub.queued ? receiveQueue.peekFirst() == sub : receiveQueue.isEmpty()) {
                signals = handOffLocked(null);
                item = pollLocked();
            } else {
                item = null;
            }
            if (item != null) {
                if (!sendQueue.isEmpty() || mode != OPEN || overflowCount != 0) {
                    signals = pumpLocked(signals);
                }
            } else if (isEndForReceive()) {
                signals = terminateIfEndedLocked(signals);
                item = END;
            } else if (!sub.queued) {
                sub.turn = ringCapacity;
                enqueueLocked(receiveQueue, sub);
                signals = pumpLocked(signals); // wakes us again if items arrived meanwhile and we are the head
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
        return item == null || item == END || !sub.queued ? item : turnTaken(sub, item);
    }

    /** Counts an item against the head subscription's turn; at the end of the turn it yields to later waiters. */
    private Object turnTaken(ChannelPublisher.Sub<?> sub, Object item) {
        if (--sub.turn <= 0) {
            sub.turn = ringCapacity;
            if (receiveWaiters > 1) {
                rotate(sub);
            }
        }
        return item;
    }

    /** Moves the head subscription to the back of the receive queue and serves the new head. */
    private void rotate(ChannelPublisher.Sub<?> sub) {
        List<Waiter> signals = null;
        acquire();
        try {
            if (sub.queued && receiveQueue.peekFirst() == sub && receiveQueue.size() > 1) {
                receiveQueue.pollFirst();
                receiveQueue.addLast(sub);
                signals = pumpLocked(null);
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    /** A subscription without demand leaves the receive queue (it rejoins at the back on its next request). */
    void standDown(ChannelPublisher.Sub<?> sub) {
        if (!sub.queued) {
            return;
        }
        List<Waiter> signals = null;
        acquire();
        try {
            if (sub.queued) {
                removeLocked(receiveQueue, sub);
                signals = pumpLocked(null);
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    /**
     * Whether the receiving side has ended: cancelled, or closed/failed with nothing left in the ring or pushed back
     * (claimed-but-unpublished items count as left). Exact under the lock, where returnedCount mirrors `returned`.
     */
    boolean isEndForReceive() {
        int m = mode;
        if (m == OPEN) {
            return false;
        }
        if (m == CANCELLED) {
            return true;
        }
        return returnedCount == 0 && overflowCount == 0 && ring.isEmpty();
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- queues ---- */

    /** Announces a waiter: queue, gate, then (Dekker) a full fence before the caller's pump re-checks the ring. */
    // assert lock.isHeldByCurrentThread();
    private void enqueueLocked(ArrayDeque<Waiter> queue, Waiter w) {
        assert lock.isHeldByCurrentThread();
        w.state = Waiter.WAITING;
        w.queued = true;
        if (queue == sendQueue && w.coreClocked()) {
            w.since = counters.senderBlocked();
        }
        queue.addLast(w);
        updateGateLocked();
        VarHandle.fullFence();
    }

    /** Takes a waiter out of its queue wherever it is. */
    private void removeLocked(ArrayDeque<Waiter> queue, Waiter w) {
        assert lock.isHeldByCurrentThread();
        queue.remove(w);
        w.queued = false;
    }

    /**
     * Withdraws a waiter that gives up (timeout, interrupt, future cancel); false if it was served or ended first,
     * and then its outcome stands.
     */
    boolean withdraw(Waiter w) {
        List<Waiter> signals;
        acquire();
        try {
            if (!leaveQueueLocked(w, Waiter.WITHDRAWN)) {
                return false;
            }
            signals = pumpLocked(null); // the next in line may be servable now
        } finally {
            lock.unlock();
        }
        signal(signals);
        return true;
    }

    /** Takes a still-waiting waiter out of its queue with a final state; false if it already left WAITING. */
    private boolean leaveQueueLocked(Waiter w, int finalState) {
        assert lock.isHeldByCurrentThread();
        if (w.state != Waiter.WAITING || !w.queued) {
            return false;
        }
        if (!sendQueue.remove(w)) {
            receiveQueue.remove(w);
        }
        w.queued = false;
        w.state = finalState;
        endClockLocked(w);
        updateGateLocked();
        return true;
    }

    /** Recomputes the gate flags and the mirrors the lock-free paths read; writes only what changed. */
    private void updateGateLocked() {
        assert lock.isHeldByCurrentThread();
        int g = rendezvous ? SEND_SLOW | RECEIVE_SLOW | RENDEZVOUS_GATE : 0;
        if (overflowCount != 0) {
            g |= SEND_SLOW | OVERFLOW;
        }
        int senders = sendQueue.size();
        int receivers = receiveQueue.size();
        long due = Long.MAX_VALUE;
        if (senders != 0 || overflowCount != 0) {
            long c = ring.consumerCount();
            if (senders != 0) {
                g |= SEND_SLOW;
                // a demand waiter or a head thread parked for a run waits for a run (Overview, Wake-ups); others
                // for one slot
                Waiter head = sendQueue.peekFirst();
                due = head.item != null && !head.parkedForRun() ? c + 1
                        : c + Math.max(1, Math.min(wakeDistance, ring.size()));
            }
            if (overflowCount != 0) {
                // refill the ring from overflow once half of it was taken (or all it held)
                due = Math.min(due, c + Math.max(1, Math.min(ringCapacity >> 1, ring.size())));
            }
            g |= SENDERS_WAIT;
            if (sendWakeAt != due) {
                sendWakeAt = due; // before the gate (Dekker with afterRemove)
            }
        }
        if (reserved != 0) {
            g |= SEND_SLOW;
        }
        if (returnedCount != 0) {
            g |= SEND_SLOW | RECEIVE_SLOW | RETURNED;
        }
        if (receivers != 0) {
            g |= RECEIVE_SLOW | RECEIVERS_WAIT;
        }
        if (mode != OPEN && !terminated) {
            g |= ENDING;
        }
        if (sendWaiters != senders) {
            sendWaiters = senders;
        }
        if (receiveWaiters != receivers) {
            receiveWaiters = receivers;
        }
        Waiter head = receiveQueue.peekFirst();
        if (receiveHead != head) {
            receiveHead = head;
        }
        head = sendQueue.peekFirst();
        if (sendHead != head) {
            sendHead = head;
        }
        if (gate != g) {
            gate = g;
        }
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- giving items back and discarding ---- */

    /**
     * A consumer removed an item but cannot deliver it: put it back at the head (to the oldest waiting receiver, or
     * ahead of the ring), or discard it if the channel was cancelled or has ended.
     */
    void pushBack(Object item) {
        List<Waiter> signals = null;
        UndeliveredReason reason = null;
        acquire();
        try {
            if (mode == CANCELLED) {
                reason = UndeliveredReason.CANCELLED;
            } else if (terminated) {
                // receivers were told the channel ended while this item was out: nobody is left to take it
                reason = UndeliveredReason.RETURNED_AFTER_END;
            } else {
                returned.addFirst(item);
                returnedCount = returned.size();
                signals = pumpLocked(null);
            }
        } finally {
            lock.unlock();
        }
        if (reason != null) {
            undeliver(item, reason, true);
        } else {
            signal(signals);
        }
    }

    /** Puts back the unemitted tail run[from..to) of a run, `first` (= run[from]) ahead of the rest, in order. */
    private void pushBackAll(Object[] run, int from, int to, Object first) {
        for (int i = to - 1; i > from; i--) {
            Object item = run[i];
            run[i] = null;
            pushBack(item);
        }
        pushBack(first);
    }

    /** Hands an item to the undelivered handler; fromBuffer: it had been accepted and removed (else: rejected). */
    void undeliver(Object item, UndeliveredReason reason, boolean fromBuffer) {
        counters.undelivered(reason, fromBuffer);
        UndeliveredHandler<Object> handler = onUndelivered;
        if (handler != null) {
            try {
                handler.onUndelivered(item, reason);
            } catch (Throwable t) {
                callbackFailed("onUndelivered(" + reason + ")", t);
            }
        }
    }

    /** Counts and logs (rate-limited) an exception thrown by user code; never throws. */
    void callbackFailed(String what, Throwable t) {
        counters.callbackFailed();
        callbackLog.failed(what, t);
    }

    /** After cancel(): remove and discard everything still buffered. Any thread may do it; each item once. */
    private void discardAll() {
        for (;;) {
            Object item;
            if (returnedCount != 0) {
                acquire();
                try {
                    item = returned.pollFirst();
                    returnedCount = returned.size();
                } finally {
                    lock.unlock();
                }
            } else {
                item = unbox(ring.pollToDiscard());
                if (item == null && overflowCount != 0) {
                    acquire();
                    try {
                        item = unbox(overflow.pollFirst());
                        overflowCount = overflow.size();
                        if (item != null) {
                            overflowTaken++;
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            }
            if (item == null) {
                return;
            }
            undeliver(item, UndeliveredReason.CANCELLED, true);
        }
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- lifecycle ---- */

    void close() {
        terminate(CLOSED, null);
    }

    void fail(Throwable cause) {
        terminate(FAILED, cause);
    }

    private void terminate(int newMode, Throwable cause) {
        List<Waiter> signals;
        acquire();
        try {
            signals = terminateLocked(newMode, cause);
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    /** Closes or fails the channel; null if it was no longer open. */
    private List<Waiter> terminateLocked(int newMode, Throwable cause) {
        assert lock.isHeldByCurrentThread();
        if (mode != OPEN) {
            return null;
        }
        failure = cause;
        mode = newMode;
        ring.close();
        reserved = 0;
        List<Waiter> signals = new ArrayList<>();
        failSendersLocked(signals);
        for (ChannelSubscriber<?> u : upstreams) {
            signals.add(u.closedSignal());
        }
        upstreams.clear();
        // ENDING first, then (Dekker with afterRemove: a consumer's index CAS, then its gate read) the pump's check
        // whether the ring is drained: the consumer that takes the last item sees ENDING, or this check sees it gone
        updateGateLocked();
        VarHandle.fullFence();
        return pumpLocked(signals);
    }

    void cancel() {
        List<Waiter> signals = new ArrayList<>();
        acquire();
        try {
            if (mode == CANCELLED || terminated) {
                return;
            }
            mode = CANCELLED;
            ring.cancelConsumers(); // first: a sender that sees the ring closed can no longer receive a buffered item
            ring.close();
            reserved = 0;
            failSendersLocked(signals);
            for (ChannelSubscriber<?> u : upstreams) {
                signals.add(u.closedSignal());
            }
            upstreams.clear();
            endReceiversLocked(signals);
            updateGateLocked();
        } finally {
            lock.unlock();
        }
        try {
            discardAll(); // first, so that woken receivers and subscriptions find nothing left to take
        } finally {
            callbackLog.flush(); // a throwing handler: its failures during the discard are summarized now
            signal(signals);
        }
    }

    private void failSendersLocked(List<Waiter> signals) {
        assert lock.isHeldByCurrentThread();
        Waiter w;
        while ((w = sendQueue.pollFirst()) != null) {
            w.queued = false;
            w.state = Waiter.CLOSED;
            endClockLocked(w);
            signals.add(w);
        }
    }

    /** Terminates once, when the receiving side has ended; returns the (lazily created) signal list. */
    private List<Waiter> terminateIfEndedLocked(List<Waiter> signals) {
        assert lock.isHeldByCurrentThread();
        if (!terminated && isEndForReceive()) {
            if (signals == null) {
                signals = new ArrayList<>();
            }
            endReceiversLocked(signals);
        }
        return signals;
    }

    private void endReceiversLocked(List<Waiter> signals) {
        assert lock.isHeldByCurrentThread();
        terminated = true;
        Waiter w;
        while ((w = receiveQueue.pollFirst()) != null) {
            w.queued = false;
            if (!w.isStanding()) {
                w.state = Waiter.CLOSED;
                endClockLocked(w);
                signals.add(w);
            }
        }
        signals.addAll(subscriptions); // each runs its drain loop and signals the end
        signals.add(terminationSignal);
    }

    private final Waiter terminationSignal = new Waiter() {
        @Override
        void wake() {
            termination.complete(state());
        }
    };

    void openSender() {
        acquire();
        try {
            if (mode != OPEN) {
                throw closedForSend();
            }
            openSenders++;
        } finally {
            lock.unlock();
        }
    }

    /** Closes one handle from openSender(); the last one closes the channel, in the same step. */
    void releaseSender() {
        List<Waiter> signals = null;
        acquire();
        try {
            if (--openSenders == 0) {
                signals = terminateLocked(CLOSED, null);
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    boolean isClosedForSend() {
        return mode != OPEN;
    }

    boolean isClosedForReceive() {
        return state().isTerminal();
    }

    ChannelState state() {
        int m = mode;
        if (m == OPEN) {
            return ChannelState.OPEN;
        }
        if (m == CANCELLED) {
            return ChannelState.CANCELLED;
        }
        if (terminated || isEndForReceive()) {
            return m == CLOSED ? ChannelState.COMPLETED : ChannelState.FAILED;
        }
        return ChannelState.DRAINING;
    }

    CompletionStage<ChannelState> termination() {
        return termination.minimalCompletionStage();
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- the pump: moves items between the waiter queues and the ring ---- */

    /** Takes the lock and pumps; called when someone waits or the channel is ending. */
    private void pump() {
        Trace.count(Trace.PUMPS);
        List<Waiter> signals;
        acquire();
        try {
            signals = pumpLocked(null);
        } finally {
            lock.unlock();
        }
        signal(signals);
        if (mode == CANCELLED) {
            discardAll(); // an item published after cancel() drained the ring: only its remover may discard it
        }
    }

    /**
     * Serves waiting receivers from the buffer and admits waiting senders into it, in FIFO order, until neither
     * can progress; detects the end of a closed channel; refreshes the gate. Returns the waiters to wake once the lock
     * is released (null until there is one: the pump allocates only when it wakes somebody).
     */
    private List<Waiter> pumpLocked(List<Waiter> signals) {
        assert lock.isHeldByCurrentThread();
        final ArrayDeque<Waiter> receiveQueue = this.receiveQueue;
        final ArrayDeque<Waiter> sendQueue = this.sendQueue;
        boolean standingWoken = false;
        boolean progress;
        do {
            progress = false;
            refillLocked();
            Waiter rw;
            while ((rw = receiveQueue.peekFirst()) != null) {
                if (rw.isStanding()) {
                    // a subscription takes items itself while it is the head: wake it if there is something
                    if (!standingWoken && (returnedCount != 0 || overflowCount != 0 || !ring.isEmpty())) {
                        standingWoken = true;
                        signals = add(signals, rw);
                    }
                    break;
                }
                Object item = pollLocked();
                if (item == null) {
                    break;
                }
                receiveQueue.pollFirst();
                rw.queued = false;
                rw.item = item;
                rw.state = Waiter.DONE;
                endClockLocked(rw);
                signals = add(signals, rw);
                progress = true;
            }
            Waiter sw;
            while ((sw = sendQueue.peekFirst()) != null) {
                if (sw.item == null) {
                    // an upstream wants capacity: reserve what is free (at most what it wants), keeping its turn
                    int free = freeCapacity();
                    if (free <= 0) {
                        break;
                    }
                    int granted = Math.min(free, Math.max(1, sw.slotsWanted()));
                    reserved += granted;
                    sw.granted = granted;
                } else {
                    if (!admitLocked(sw.item, sw.weight)) {
                        counters.notePeak(capacity);
                        break;
                    }
                    progress = true;
                }
                sendQueue.pollFirst();
                sw.queued = false;
                sw.state = Waiter.DONE;
                endClockLocked(sw);
                signals = add(signals, sw);
            }
        } while (progress);
        signals = terminateIfEndedLocked(signals);
        updateGateLocked();
        return signals;
    }

    /**
     * Ends the statistics clock of a sender the core moved out of WAITING. Only waiters without a thread of their own
     * (futures, upstream items and demand) are clocked by the core, from enqueueLocked(); threads keep their own clock
     * (it starts before they queue, with the spin), and receivers are clocked by themselves.
     */
    private void endClockLocked(Waiter w) {
        if (w.since != 0L) {
            counters.queuedSenderUnblocked(w.since);
            w.since = 0L;
        }
    }

    private static List<Waiter> add(List<Waiter> signals, Waiter signal) {
        if (signals == null) {
            signals = new ArrayList<>(4);
        }
        signals.add(signal);
        return signals;
    }

    /** Wakes what pumpLocked decided, outside the lock: user code may run here; one failure stops no other wake. */
    private void signal(List<Waiter> signals) {
        if (signals == null) {
            return;
        }
        for (int i = 0, n = signals.size(); i < n; i++) {
            Waiter w = signals.get(i);
            try {
                w.wake();
            } catch (Throwable t) {
                callbackFailed("a waiter's wake-up", t);
            }
        }
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- introspection ---- */

    ChannelStats stats() {
        int subscribers;
        long demand = 0;
        acquire();
        try {
            subscribers = subscriptions.size();
            for (ChannelPublisher.Sub<?> s : subscriptions) {
                demand = Demand.addCap(demand, s.requested());
            }
        } finally {
            lock.unlock();
        }
        final ChannelCounters c = counters;
        int returnedNow;
        long discarded;
        long consumed;
        long sent;
        int size;
        acquire(); // a consistent snapshot of ring + overflow (items move between them under the lock)
        try {
            returnedNow = returnedCount;
            discarded = c.discardedFromBuffer;
            long taken = overflowTaken;
            consumed = ring.consumerCount() + taken;
            sent = ring.producerCount() + overflowCount + taken;
            size = (int) Math.min(Integer.MAX_VALUE, (long) ring.size() + overflowCount + returnedNow);
        } finally {
            lock.unlock();
        }
        int bound = Math.max(capacity, rendezvous ? 1 : 0);
        size = (int) Math.min(size, (long) bound + returnedNow);
        c.notePeak(Math.min(bound, size));
        return new ChannelStats(capacity, size, sendWaiters, receiveWaiters, subscribers, demand, sent,
                Math.max(0L, consumed - discarded - returnedNow), discarded + c.rejected,
                Math.min(bound, Math.max(c.peakSize, Math.min(bound, size))), c.senderBlockedNanos,
                c.callbackFailures, c.senderBlockedWallNanosNow(), c.receiverStarvedNanos,
                c.receiverStarvedWallNanosNow(), c.undeliveredByReason());
    }

    @Override
    public String toString() {
        return "capacity=" + (capacity == Integer.MAX_VALUE ? "unbounded" : String.valueOf(capacity)) + ", state="
                + state() + ", size=" + ((long) ring.size() + overflowCount + returnedCount);
    }

    /* ---- VarHandle mechanics ---- */

    private static final VarHandle WEIGHT;

    static {
        try {
            WEIGHT = java.lang.invoke.MethodHandles.lookup().findVarHandle(ChannelCore.class, "weight", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

}
