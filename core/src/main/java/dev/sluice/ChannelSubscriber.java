package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/*
 * The channel as the sink of one upstream Publisher (ChannelSender.asSubscriber()).
 *
 * Overview of implementation
 *
 * Demand follows free capacity. `outstanding` counts items requested from upstream and not yet received; `pending`
 * counts upstream items that met a full buffer and wait in the channel's send FIFO (like blocked senders: they are
 * admitted in arrival order, behind senders that came first). requestMore() asks upstream for
 *     free = capacity - size - outstanding - pending
 * when that is positive (in batches of at least a quarter of the capacity while items are still in flight, at once
 * when nothing is). When it is not, and nothing is in flight, the subscriber queues a demand waiter in the send FIFO
 * and asks again when a slot frees (onCapacity). When that turn comes the channel reserves the slot for this
 * upstream (`reservations`): the subscriber requests exactly the reserved slots, and the item that arrives takes
 * one, so an upstream keeps its FIFO place among blocked senders although its item did not exist when its turn came.
 * So upstream never has more than `capacity` items outstanding, and items outside the buffer are bounded by that
 * demand.
 *
 * requestMore() runs under its own WIP counter, because it is called from onNext (upstream's thread) and from the
 * channel's pump (the thread that freed a slot); `outstanding` and `pending` are atomics for the same reason.
 *
 * Protocol checks: onSubscribe(null), onNext(null), onError(null) throw NPE (rule 2.13); a second onSubscribe is
 * cancelled (rule 2.5); an onNext beyond the requested amount fails the channel with IllegalStateException and
 * cancels upstream; its item goes to the undelivered handler with REJECTED, as does any item that arrives after the
 * channel closed.
 */
final class ChannelSubscriber<T> implements Subscriber<T> {
    private final ChannelCore core;
    private final long batch;
    private volatile Subscription upstream;
    private volatile long outstanding;
    private volatile int pending;
    private volatile int wip;
    private volatile boolean done;
    private volatile boolean demandQueued;
    /** Slots the channel reserved for this upstream (FIFO turn granted); written by ChannelCore under its lock. */
    volatile int reservations;

    ChannelSubscriber(ChannelCore core) {
        this.core = core;
        this.batch = Math.max(1, core.capacity / 4);
    }

    @Override
    public void onSubscribe(Subscription s) {
        Objects.requireNonNull(s, "subscription"); // rule 2.13
        if (!UPSTREAM.compareAndSet(this, null, s)) {
            s.cancel(); // rule 2.5
            return;
        }
        if (!core.registerUpstream(this)) {
            done = true;
            s.cancel();
            return;
        }
        requestMore();
    }

    @Override
    public void onNext(T item) {
        Objects.requireNonNull(item, "item"); // rule 2.13
        if (done) {
            core.undeliver(item, UndeliveredReason.REJECTED, false);
            return;
        }
        if ((long) OUTSTANDING.getAndAdd(this, -1L) <= 0L) {
            OUTSTANDING.getAndAdd(this, 1L);
            done = true;
            cancelUpstream();
            core.undeliver(item, UndeliveredReason.REJECTED, false);
            core.fail(new IllegalStateException(
                    "upstream Publisher sent more items than requested (Reactive Streams rule 1.1)"));
            return;
        }
        switch (core.offerFromUpstream(item, this)) {
            case ChannelCore.UPSTREAM_ACCEPTED:
                requestMore();
                break;
            case ChannelCore.UPSTREAM_QUEUED:
                break; // onQueuedItemAccepted or onQueuedItemRefused follows
            default:
                done = true;
                cancelUpstream();
                core.undeliver(item, UndeliveredReason.REJECTED, false);
                break;
        }
    }

    @Override
    public void onError(Throwable t) {
        Objects.requireNonNull(t, "throwable"); // rule 2.13
        if (!done) {
            done = true;
            core.unregisterUpstream(this);
            core.fail(t);
        }
    }

    @Override
    public void onComplete() {
        if (!done) {
            done = true;
            core.unregisterUpstream(this);
            core.close();
        }
    }

    /* ---- called by ChannelCore ---- */

    void pendingIncrement() {
        PENDING.getAndAdd(this, 1);
    }

    void onQueuedItemAccepted() {
        PENDING.getAndAdd(this, -1);
        requestMore();
    }

    void onQueuedItemRefused(Object item) {
        PENDING.getAndAdd(this, -1);
        core.undeliver(item, UndeliveredReason.REJECTED, false);
        onChannelClosed();
    }

    void onCapacity() {
        demandQueued = false;
        requestMore();
    }

    void onChannelClosed() {
        done = true;
        cancelUpstream();
    }

    private void cancelUpstream() {
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
    }

    private void requestMore() {
        if ((int) WIP.getAndAdd(this, 1) != 0) {
            return;
        }
        int missed = 1;
        for (;;) {
            Subscription s = upstream;
            if (!done && s != null && !core.isClosedForSend()) {
                long inFlight = outstanding + pending;
                int granted = reservations;
                long free = granted > 0
                        ? granted - outstanding  // our turn came: ask exactly for the reserved slots
                        : core.capacity - core.ring.size() - core.reserved - inFlight;
                if (granted > 0) {
                    if (free > 0) {
                        OUTSTANDING.getAndAdd(this, free);
                        s.request(free);
                    }
                } else if (free > 0 && (inFlight == 0 || free >= batch)) {
                    OUTSTANDING.getAndAdd(this, free);
                    s.request(free);
                } else if (free <= 0 && inFlight == 0 && !demandQueued) {
                    demandQueued = true;
                    core.awaitCapacity(this);
                }
            }
            missed = (int) WIP.getAndAdd(this, -missed) - missed;
            if (missed == 0) {
                return;
            }
        }
    }

    private static final VarHandle UPSTREAM;
    private static final VarHandle OUTSTANDING;
    private static final VarHandle PENDING;
    private static final VarHandle WIP;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            UPSTREAM = l.findVarHandle(ChannelSubscriber.class, "upstream", Subscription.class);
            OUTSTANDING = l.findVarHandle(ChannelSubscriber.class, "outstanding", long.class);
            PENDING = l.findVarHandle(ChannelSubscriber.class, "pending", int.class);
            WIP = l.findVarHandle(ChannelSubscriber.class, "wip", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
