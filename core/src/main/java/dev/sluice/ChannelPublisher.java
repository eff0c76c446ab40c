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
 * Each subscription runs one WIP/missed drain loop (reactor-core style): request(n), cancel() and every signal from
 * ChannelCore's pump call drain(); only the thread that wins WIP 0 -> 1 emits, so signals are serial (rule 1.3) and
 * never recursive (rule 3.3: a request(n) made from inside onNext only bumps WIP).
 *
 * Items leave the channel only against demand: the loop polls one item (ChannelCore.pollFor) per unit of demand and
 * passes it straight to onNext; there is no private queue. When the buffer is empty, pollFor queues the subscription
 * in the channel's receive FIFO (one entry at a time); the pump later hands it exactly one item (waiter.item) and runs
 * drain(), which emits it. If the subscription was cancelled after an item was removed for it, the item goes back to
 * the head of the channel (ChannelCore.pushBack): cancelling a subscriber loses nothing.
 *
 * Fields: requested (VarHandle, capped add, rule 3.17), wip (VarHandle); everything else is written only by the
 * drain-loop owner, except `cancelled` (volatile, any thread) and `badRequest` (first invalid request wins).
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

    static final class Sub<T> implements Subscription {
        private final ChannelCore core;
        private Subscriber<? super T> actual;     // dropped on cancel/terminate (rule 3.13)
        volatile boolean ready;                   // onSubscribe returned: signals may flow
        volatile boolean cancelled;
        volatile long requested;
        volatile int wip;
        private volatile IllegalArgumentException badRequest;
        private boolean done;                     // drain owner only
        volatile ChannelCore.ReceiveWaiter waiter; // this subscription's entry in the receive queue, if any

        Sub(ChannelCore core, Subscriber<? super T> actual) {
            this.core = core;
            this.actual = actual;
        }

        long requested() {
            return done || cancelled ? 0L : requested;
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
                    a.onError(bad);
                    return;
                }
                Object item;
                ChannelCore.ReceiveWaiter w = waiter;
                if (w != null) {
                    int s = w.state;
                    if (s == ChannelCore.Waiter.WAITING) {
                        break; // queued: the pump will hand us an item and call drain()
                    }
                    waiter = null;
                    item = w.item;
                    w.item = null;
                    // s == CLOSED: item is null and pollFor below reports the end
                } else {
                    item = null;
                }
                if (item == null) {
                    if (e == r) {
                        r = requested;
                        if (e == r) {
                            if (core.isEndForReceive()) {
                                finish();
                                signalEnd(a);
                            }
                            break;
                        }
                    }
                    item = core.pollFor(this);
                    if (item == null) {
                        continue; // queued; re-check `waiter` (the pump may already have served it)
                    }
                    if (item == ChannelCore.END) {
                        finish();
                        signalEnd(a);
                        return;
                    }
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
                if (e == r) {
                    r = Demand.produced(REQUESTED, this, e);
                    e = 0L;
                }
            }
            if (e != 0L) {
                Demand.produced(REQUESTED, this, e);
            }
        }

        private void signalEnd(Subscriber<? super T> a) {
            if (core.endIsCompletion()) {
                a.onComplete();
            } else if (core.mode == ChannelCore.FAILED) {
                a.onError(core.failure());
            } else {
                a.onError(core.endException());
            }
        }

        /* Terminal for this subscription: leave the channel, give back a handed item, drop the subscriber. */
        private void finish() {
            done = true;
            cleanup();
        }

        private void cleanup() {
            Object handed = core.unregister(this);
            if (handed != null) {
                core.pushBack(handed);
            }
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
