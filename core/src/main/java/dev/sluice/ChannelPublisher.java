package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/*
 * The Reactive Streams view of the receiving side. Every subscriber is a competing consumer.
 *
 * Overview of implementation
 *
 * Each subscription runs one WIP/missed drain loop (reactor-core style): request(n), cancel() and every wake-up from
 * ChannelCore call drain(); only the thread that wins WIP 0 -> 1 emits, so signals are serial (rule 1.3) and never
 * recursive (rule 3.3: a request(n) made from inside onNext only bumps WIP).
 *
 * Items leave the channel only against demand: the loop takes one item (ChannelCore.takeFor) per unit of demand and
 * passes it straight to onNext; there is no private queue. When the buffer is empty, the subscription itself (it is a
 * Waiter) stands in the channel's receive FIFO; while it is the head it takes items from the ring in this loop,
 * without the lock, and a producer that publishes an item only calls drain() (a WIP increment if the loop runs
 * already). It stays queued while it has demand, takes at most `capacity` items per turn and then yields its place to
 * later receivers (ChannelCore.turnTaken), and leaves the queue when its demand is used up (standDown): fairness among
 * receivers is FIFO per unit of demand with a bounded quota. No node, lock or allocation per item.
 *
 * Demand is subtracted per batch (Demand.produced when the loop has emitted what it last read), as FluxPublishOn
 * does. If the subscription was cancelled after an item was removed for it, the item goes back to the head of the
 * channel (ChannelCore.pushBack): cancelling a subscriber loses nothing. A throwing onNext (anything, a
 * StackOverflowError included) counts as a delivery (rule 2.13: the subscriber is broken), is logged, and ends this
 * subscription: it leaves the queue and the channel goes on serving the others; the thread that ran the loop (often
 * a producer inside send()) never sees the error.
 *
 * Fields: requested (VarHandle, capped add, rule 3.17), wip (VarHandle); everything else is written only by the
 * drain-loop owner, except `cancelled` (volatile, any thread), `badRequest` (first invalid request wins) and the
 * Waiter fields the core writes under its lock (`queued`).
 */
final class ChannelPublisher<T> implements Publisher<T> {
    private final ChannelCore core;

    ChannelPublisher(ChannelCore core) {
        this.core = core;
    }

    @Override
    public void subscribe(Subscriber<? super T> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber"); // rule 1.9
        Sub<T> sub = new Sub<>(core, subscriber);
        core.register(sub);
        try {
            subscriber.onSubscribe(sub);
        } catch (Throwable t) {
            core.callbackFailed("onSubscribe", t); // rule 2.13: the subscriber is broken; forget it
            sub.cancel();
        }
        sub.ready = true;
        sub.drain();
    }

    @Override
    public String toString() {
        return "ChannelPublisher[" + core + "]";
    }

    /** One subscription: a standing receive waiter with its own drain loop. */
    static final class Sub<T> extends Waiter implements Subscription {
        private final ChannelCore core;
        private Subscriber<? super T> actual;     // dropped on cancel/terminate (rule 3.13)
        volatile boolean ready;                   // onSubscribe returned: signals may flow
        volatile boolean cancelled;
        volatile long requested;
        volatile int wip;
        private volatile IllegalArgumentException badRequest;
        private boolean done;                     // drain owner only
        /** Items it may still take in its current turn at the head of the receive queue (drain owner only). */
        int turn;

        Sub(ChannelCore core, Subscriber<? super T> actual) {
            this.core = core;
            this.actual = actual;
        }

        long requested() {
            return done || cancelled ? 0L : requested;
        }

        @Override
        boolean isStanding() {
            return true;
        }

        @Override
        boolean coreClocked() {
            return false;
        }

        @Override
        void wake() {
            drain();
        }

        @Override
        public void request(long n) {
            IllegalArgumentException bad = Demand.validate(n);
            if (bad != null) {
                BAD_REQUEST.compareAndSet(this, null, bad);
            } else {
                Demand.getAndAddCap(REQUESTED, this, n);
            }
            drain();
        }

        @Override
        public void cancel() {
            cancelled = true;
            drain();
        }

        void drain() {
            if ((int) WIP.getAndAdd(this, 1) != 0) {
                return;
            }
            int missed = 1;
            for (;;) {
                if (ready && !done) {
                    drainLoop();
                } else if (done || cancelled) {
                    cleanup();
                }
                missed = (int) WIP.getAndAdd(this, -missed) - missed;
                if (missed == 0) {
                    return;
                }
            }
        }

        /* Emits while there is demand and items; the caller owns WIP. */
        @SuppressWarnings("unchecked")
        private void drainLoop() {
            final ChannelCore core = this.core;
            final Subscriber<? super T> a = actual;
            long r = requested;
            long e = 0L;
            for (;;) {
                if (cancelled) {
                    finish();
                    return;
                }
                IllegalArgumentException bad = badRequest;
                if (bad != null) {
                    finish();
                    try {
                        a.onError(bad);
                    } catch (Throwable t) {
                        core.callbackFailed("onError", t);
                    }
                    return;
                }
                if (e == r) {
                    if (e != 0L) {
                        r = Demand.produced(REQUESTED, this, e);
                        e = 0L;
                    } else {
                        r = requested;
                    }
                    if (r == 0L) {
                        core.standDown(this); // no demand: give up our place in line until the next request
                        if (core.isEndForReceive()) {
                            finish();
                            signalEnd(a);
                        }
                        return;
                    }
                }
                Object item = core.takeFor(this);
                if (item == null) {
                    break; // standing in line: woken when items arrive and we are the head
                }
                if (item == ChannelCore.END) {
                    finish();
                    signalEnd(a);
                    return;
                }
                if (cancelled) {
                    core.pushBack(item); // removed for us but no longer wanted: back to the head
                    finish();
                    return;
                }
                try {
                    a.onNext((T) item);
                } catch (Throwable t) {
                    // rule 2.13: the subscriber is broken; the item counts as delivered
                    core.callbackFailed("onNext", t);
                    cancelled = true;
                    finish();
                    return;
                }
                e++;
            }
            if (e != 0L) {
                Demand.produced(REQUESTED, this, e);
            }
        }

        private void signalEnd(Subscriber<? super T> a) {
            try {
                if (core.endIsCompletion()) {
                    a.onComplete();
                } else if (core.mode == ChannelCore.FAILED) {
                    a.onError(core.failure());
                } else {
                    a.onError(core.endException());
                }
            } catch (Throwable t) {
                core.callbackFailed("onComplete/onError", t); // rule 2.13; nothing more will be signalled
            }
        }

        /* Terminal for this subscription: leave the channel and drop the subscriber. */
        private void finish() {
            done = true;
            cleanup();
        }

        private void cleanup() {
            core.unregister(this);
            actual = null;
        }

        private static final VarHandle REQUESTED;
        private static final VarHandle WIP;
        private static final VarHandle BAD_REQUEST;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                REQUESTED = l.findVarHandle(Sub.class, "requested", long.class);
                WIP = l.findVarHandle(Sub.class, "wip", int.class);
                BAD_REQUEST = l.findVarHandle(Sub.class, "badRequest", IllegalArgumentException.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }
}
