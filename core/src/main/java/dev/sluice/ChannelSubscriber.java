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
 * Demand follows free capacity. `requested` is the total asked of the upstream (written only by the owner of the
 * requestMore loop), `received` the total it sent (written only by onNext, whose calls are serial: rule 1.3);
 * outstanding = requested - received. `pending` counts upstream items that met a full buffer and wait in the
 * channel's send FIFO (like blocked senders: admitted in arrival order, behind senders that came first). So the
 * per-item path is one release store, one volatile read and the channel's lock-free admission; the free capacity is
 * looked at only when the outstanding demand ran low (a quarter of the capacity left), and more is requested in
 * batches: at least a quarter of the capacity at a time, as Reactor's limit-based replenishment does.
 *
 * When nothing is in flight and too little is free (or senders wait ahead of us), the subscriber queues its demand
 * waiter in the send FIFO: when that turn comes the channel reserves the free slots for this upstream
 * (`granted` - `used` here, ChannelCore.reserved there), the subscriber requests exactly those, and each arriving item
 * takes one (ChannelCore.admitReserved, lock-free: `used` has one writer, onNext), so an upstream keeps its FIFO place
 * among blocked senders although its items did not exist when its turn came. The channel's count of reserved slots is
 * brought down once per run, when the last reserved slot is used (ChannelCore.releaseReserved): until then it also
 * counts the slots already filled, which only makes other senders wait a little longer, never overfills the buffer. Upstream never has more than `capacity` items outstanding, and items outside the
 * buffer are bounded by that demand.
 *
 * Completion. An upstream's onComplete/onError ends the channel only after its own items still waiting in the send
 * FIFO were admitted (or refused because the channel ended otherwise): `endWhenAdmitted` is set first, and whoever
 * then sees pending == 0 (onComplete itself, or the wake-up of the last admitted item) ends the channel, once.
 *
 * requestMore() runs under its own WIP counter, because it is called from onNext (upstream's thread) and from the
 * channel's wake-ups (the thread that freed a slot); `pending` is an atomic and `granted` is written only by the demand
 * waiter's wake-up (one at a time: the waiter is queued again only after it) for the same reason.
 *
 * Protocol checks: onSubscribe(null), onNext(null), onError(null) throw NPE (rule 2.13); a second onSubscribe is
 * cancelled (rule 2.5) and logged; an onNext beyond the requested amount fails the channel with IllegalStateException
 * and cancels upstream; its item goes to the undelivered handler with REJECTED, as does any item that arrives after
 * the channel closed.
 */
final class ChannelSubscriber<T> implements Subscriber<T>, WaiterSource {
    private final ChannelCore core;
    /** Request at least this many at a time while items are in flight. */
    private final int batch;
    private volatile Subscription upstream;
    /** Total requested from upstream; written by the requestMore owner only. */
    private volatile long requested;
    /** Total received from upstream; written by onNext only. */
    private volatile long received;
    private volatile int pending;
    /** Slots the channel reserved for this upstream so far; written only by the demand waiter's wake-up. */
    private volatile long granted;
    /** Reserved slots filled so far; written only by onNext. */
    private volatile long used;
    /** `used` when the channel was last told how many reserved slots were filled; written by onNext or end(). */
    private long reported;
    private volatile int wip;
    private volatile boolean done;
    private volatile boolean demandQueued;
    /** Set by onComplete/onError while own items still wait in the send FIFO: end the channel once they are in. */
    private volatile Throwable endWhenAdmitted;
    private volatile int ended;

    /** This upstream's wish for capacity, queued in the send FIFO (reused). */
    private final Waiter demandWaiter = new Waiter() {
        @Override
        void wake() {
            if (state == DONE) {
                ChannelSubscriber.this.granted += granted; // one writer: this wake-up
                demandQueued = false;
                requestMore();
            } else {
                demandQueued = false;
                onChannelClosed();
            }
        }

        @Override
        int slotsWanted() {
            return core.capacity;
        }
    };

    /** Woken when the channel closes: stop the upstream. */
    private final Waiter closed = new Waiter() {
        @Override
        void wake() {
            onChannelClosed();
        }
    };

    private static final Throwable COMPLETE = new Throwable("complete", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    ChannelSubscriber(ChannelCore core) {
        this.core = core;
        this.batch = Math.max(1, core.capacity >> 2);
    }

    @Override
    public void onSubscribe(Subscription s) {
        Objects.requireNonNull(s, "subscription"); // rule 2.13
        if (!UPSTREAM.compareAndSet(this, null, s)) {
            s.cancel(); // rule 2.5
            ChannelCore.LOGGER.log(System.Logger.Level.INFO, "asSubscriber(): a second onSubscribe was cancelled "
                    + "(Reactive Streams rule 2.5: one asSubscriber() serves one upstream; call asSubscriber() again "
                    + "for another)");
            return;
        }
        if (!core.registerUpstream(this)) {
            done = true;
            s.cancel();
            ChannelCore.LOGGER.log(System.Logger.Level.INFO, "asSubscriber(): the upstream was cancelled at once: the "
                    + "channel no longer accepts items (" + core.state() + ")");
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
        long got = received + 1;
        if (got > requested) {
            done = true;
            cancelUpstream();
            core.undeliver(item, UndeliveredReason.REJECTED, false);
            core.fail(new IllegalStateException(
                    "upstream Publisher sent more items than requested (Reactive Streams rule 1.1)"));
            return;
        }
        RECEIVED.setRelease(this, got);
        int r;
        long usedNow = used;
        if (granted > usedNow) {
            USED.setRelease(this, ++usedNow);
            boolean last = usedNow == granted;
            r = core.admitReserved(item, this);
            if (last) {
                core.releaseReserved((int) (usedNow - reported)); // the run is complete: the slots count as the items
                reported = usedNow;
            }
        } else {
            r = core.admit(item, this, false);
        }
        switch (r) {
            case ChannelCore.EVICTED:
            case ChannelCore.DROPPED: // a drop policy: the core handed what it dropped to onUndelivered
            case ChannelCore.ACCEPTED:
                if (requested - got <= batch && granted == used) {
                    requestMore(); // demand runs low (and no reserved slot is left to fill): look at the capacity
                }
                break;
            case ChannelCore.QUEUED:
                break; // the item waiter's wake-up follows
            default:
                done = true;
                cancelUpstream();
                core.undeliver(item, UndeliveredReason.REJECTED, false);
                break;
        }
    }

    /**
     * A waiter for an item that met a full buffer: it waits in the send FIFO like a blocked sender. Called by the
     * channel under its lock, only when the item must wait, so the common path allocates nothing.
     */
    @Override
    public Waiter waiterFor(Object item) {
        PENDING.getAndAdd(this, 1);
        Waiter w = new Waiter() {
            @Override
            void wake() {
                int left = (int) PENDING.getAndAdd(ChannelSubscriber.this, -1) - 1;
                boolean admitted = state == DONE;
                if (!admitted) {
                    core.undeliver(this.item, UndeliveredReason.REJECTED, false);
                    onChannelClosed();
                }
                if (left == 0 && endWhenAdmitted != null) {
                    endChannel();
                } else if (admitted) {
                    requestMore();
                }
            }
        };
        w.item = item;
        return w;
    }

    @Override
    public void onError(Throwable t) {
        Objects.requireNonNull(t, "throwable"); // rule 2.13
        end(t);
    }

    @Override
    public void onComplete() {
        end(COMPLETE);
    }

    /* The upstream ended: end the channel once our items still waiting in the send FIFO are in. */
    private void end(Throwable how) {
        if (done) {
            return;
        }
        done = true;
        long usedNow = used;
        long unused = Math.max(0L, granted - usedNow);
        USED.setRelease(this, usedNow + unused); // no more items: what was reserved and not filled is given back too
        core.releaseReserved((int) (usedNow + unused - reported));
        reported = usedNow + unused;
        endWhenAdmitted = how;
        if (pending == 0) {
            endChannel();
        }
    }

    private void endChannel() {
        if (!ENDED.compareAndSet(this, 0, 1)) {
            return;
        }
        core.unregisterUpstream(this);
        Throwable how = endWhenAdmitted;
        if (how == COMPLETE) {
            core.close();
        } else {
            core.fail(how);
        }
    }

    /* ---- called by ChannelCore ---- */

    /** The waiter the channel wakes when it closes while this upstream is registered. */
    Waiter closedSignal() {
        return closed;
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
            if (!done && s != null && !core.isClosedForSend() && core.overflowPolicy != ChannelCore.BLOCK) {
                if (requested == 0) {
                    request(s, Long.MAX_VALUE); // a drop policy never pushes back: all at once, drops as needed
                }
            } else if (!done && s != null && !core.isClosedForSend()) {
                long outstanding = requested - received;
                long reservations = granted - used;
                if (reservations > 0) {
                    if (reservations > outstanding) {
                        request(s, reservations - outstanding); // our turn came: ask exactly for the reserved slots
                    }
                } else if (!demandQueued) {
                    long inFlight = outstanding + pending;
                    long free = core.sendersAhead() ? 0 : core.freeCapacity() - inFlight;
                    if (free >= batch || (free > 0 && free >= core.capacity - inFlight)) {
                        request(s, free);
                    } else if (inFlight == 0) {
                        demandQueued = true; // wait in line for capacity (FIFO with blocked senders)
                        if (!core.awaitCapacity(demandWaiter)) {
                            demandQueued = false;
                            onChannelClosed();
                        }
                    }
                }
            }
            missed = (int) WIP.getAndAdd(this, -missed) - missed;
            if (missed == 0) {
                return;
            }
        }
    }

    private void request(Subscription s, long n) {
        requested += n; // written before request(n): the items it allows are checked against it
        try {
            s.request(n);
        } catch (Throwable t) {
            core.callbackFailed("the upstream's request(n)", t); // rule 2.13 on the upstream's side
        }
    }

    private static final VarHandle UPSTREAM;
    private static final VarHandle RECEIVED;
    private static final VarHandle PENDING;
    private static final VarHandle USED;
    private static final VarHandle WIP;
    private static final VarHandle ENDED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            UPSTREAM = l.findVarHandle(ChannelSubscriber.class, "upstream", Subscription.class);
            RECEIVED = l.findVarHandle(ChannelSubscriber.class, "received", long.class);
            PENDING = l.findVarHandle(ChannelSubscriber.class, "pending", int.class);
            USED = l.findVarHandle(ChannelSubscriber.class, "used", long.class);
            WIP = l.findVarHandle(ChannelSubscriber.class, "wip", int.class);
            ENDED = l.findVarHandle(ChannelSubscriber.class, "ended", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
