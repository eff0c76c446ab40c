package dev.sluice.reactor;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;

import org.reactivestreams.Subscription;

import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelState;
import dev.sluice.internal.ChannelAccess;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/*
 * A competing-consumer Flux over a channel: each subscription is one subscription of the core's Publisher view,
 * wrapped so that Reactor sees a Scannable operator and a discard hook.
 *
 * Items leave the channel only against request(n), straight into onNext (the core's Publisher view has no prefetch),
 * so this class keeps no queue. The only item it can hold is one that the core had already handed over when the
 * downstream cancelled at that instant: it counts as delivered for the channel and goes to Reactor's discard hook with
 * the subscriber's Context (contract rule 1), never silently away.
 */
final class ChannelFlux<T> extends Flux<T> implements Scannable {

    final ChannelReceiver<T> receiver;

    ChannelFlux(ChannelReceiver<T> receiver) {
        this.receiver = Objects.requireNonNull(receiver, "receiver");
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        subscribe(actual, null);
    }

    /** Subscribes {@code actual}; {@code onCancel} (may be null) runs once after the downstream cancels. */
    void subscribe(CoreSubscriber<? super T> actual, Runnable onCancel) {
        receiver.asPublisher().subscribe(new ChannelFluxSubscriber<>(actual, receiver, onCancel));
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable's signature
    public Object scanUnsafe(Attr key) {
        if (key == Attr.REQUESTED_FROM_DOWNSTREAM) {
            return receiver.stats().outstandingDemand();
        }
        if (key == Attr.CANCELLED) {
            return ChannelAccess.state(receiver) == ChannelState.CANCELLED;
        }
        return scanReceiver(receiver, key);
    }

    /** The attributes every view over a receiver reports: its buffer, capacity, end, no prefetch, async. */
    @SuppressWarnings("rawtypes") // Scannable's signature
    static Object scanReceiver(ChannelReceiver<?> receiver, Attr key) {
        if (key == Attr.BUFFERED) {
            return receiver.stats().size();
        }
        if (key == Attr.CAPACITY) {
            return receiver.stats().capacity();
        }
        if (key == Attr.TERMINATED) {
            return receiver.isClosedForReceive();
        }
        if (key == Attr.PREFETCH) {
            return 0;
        }
        if (key == Attr.RUN_STYLE) {
            return Attr.RunStyle.ASYNC;
        }
        return null;
    }

    @Override
    public String stepName() {
        return "sluiceChannel";
    }

    /*
     * Threads: onSubscribe/onNext/onError/onComplete come from the core (serialized, on the thread that sent the item
     * or called request); request and cancel come from the downstream, any thread. `requested` (all requests so far,
     * capped) and `emitted` (written only by onNext, whose calls are serial) are only bookkeeping
     * for Scannable; the real demand lives in the core's subscription.
     */
    @SuppressWarnings("rawtypes")
    static final class ChannelFluxSubscriber<T> implements CoreSubscriber<T>, Subscription, Scannable {
        final CoreSubscriber<? super T> actual;
        final ChannelReceiver<T> receiver;
        final Runnable onCancel;

        Subscription s;

        volatile long requested;
        static final AtomicLongFieldUpdater<ChannelFluxSubscriber> REQUESTED =
                AtomicLongFieldUpdater.newUpdater(ChannelFluxSubscriber.class, "requested");
        /** Items passed to onNext; plain: only onNext writes it (no atomic per item), Scannable reads it racily. */
        long emitted;

        /** Bit set of {@link #CANCELLED} and {@link #DONE}. */
        volatile int state;
        static final AtomicIntegerFieldUpdater<ChannelFluxSubscriber> STATE =
                AtomicIntegerFieldUpdater.newUpdater(ChannelFluxSubscriber.class, "state");
        /** The downstream cancelled. */
        static final int CANCELLED = 1;
        /** onComplete or onError was passed downstream. */
        static final int DONE = 2;

        ChannelFluxSubscriber(CoreSubscriber<? super T> actual, ChannelReceiver<T> receiver, Runnable onCancel) {
            this.actual = actual;
            this.receiver = receiver;
            this.onCancel = onCancel;
        }

        @Override
        public Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.validate(this.s, s)) {
                this.s = s;
                actual.onSubscribe(this);
            }
        }

        @Override
        public void onNext(T t) {
            if ((state & CANCELLED) != 0) {
                // handed over by the core as the downstream cancelled: delivered, so Reactor's hook reports it
                Operators.onDiscard(t, actual.currentContext());
                return;
            }
            emitted++;
            actual.onNext(t);
        }

        @Override
        public void onError(Throwable t) {
            if (!markDone()) {
                Operators.onErrorDropped(t, actual.currentContext());
                return;
            }
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            if (markDone()) {
                actual.onComplete();
            }
        }

        private boolean markDone() {
            for (;;) {
                int current = state;
                if ((current & DONE) != 0) {
                    return false;
                }
                if (STATE.compareAndSet(this, current, current | DONE)) {
                    return true;
                }
            }
        }

        @Override
        public void request(long n) {
            if (n > 0) {
                Operators.addCap(REQUESTED, this, n);
            }
            s.request(n); // the core answers n <= 0 with onError(IllegalArgumentException), rule 3.9
        }

        @Override
        public void cancel() {
            int previous = STATE.getAndUpdate(this, current -> current | CANCELLED);
            if ((previous & CANCELLED) == 0) {
                s.cancel();
                if (onCancel != null) {
                    onCancel.run();
                }
            }
        }

        @Override
        public Object scanUnsafe(Attr key) {
            if (key == Attr.PARENT) {
                return s;
            }
            if (key == Attr.ACTUAL) {
                return actual;
            }
            if (key == Attr.BUFFERED) {
                return receiver.stats().size();
            }
            if (key == Attr.CAPACITY) {
                return receiver.stats().capacity();
            }
            if (key == Attr.REQUESTED_FROM_DOWNSTREAM) {
                long r = requested;
                return r == Long.MAX_VALUE ? r : Math.max(0L, r - emitted);
            }
            if (key == Attr.TERMINATED) {
                return (state & DONE) != 0;
            }
            if (key == Attr.CANCELLED) {
                return (state & CANCELLED) != 0;
            }
            if (key == Attr.PREFETCH) {
                return 0;
            }
            if (key == Attr.RUN_STYLE) {
                return Attr.RunStyle.ASYNC;
            }
            return null;
        }

        @Override
        public String stepName() {
            return "sluiceChannel";
        }
    }
}
