package dev.sluice.reactor;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.reactivestreams.Subscription;

import dev.sluice.ChannelReceiver;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/*
 * The next item of a channel as a Mono: one subscription of the core's Publisher view that requests exactly 1, and
 * only once the downstream has requested. The core hands an item over only to deliver it at once (it checks for
 * cancellation after removing the item and puts it back if cancelled), so a cancelled Mono leaves every item it did
 * not take in the channel. The one exception is the instant of a race: the core passed the item to onNext while the
 * downstream was cancelling; the item then counts as delivered and goes to Reactor's discard hook.
 */
final class ReceiveMono<T> extends Mono<T> implements Scannable {

    final ChannelReceiver<T> receiver;

    ReceiveMono(ChannelReceiver<T> receiver) {
        this.receiver = Objects.requireNonNull(receiver, "receiver");
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        receiver.asPublisher().subscribe(new ReceiveSubscriber<>(actual));
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable's signature
    public Object scanUnsafe(Attr key) {
        return ChannelFlux.scanReceiver(receiver, key);
    }

    @Override
    public String stepName() {
        return "sluiceReceive";
    }

    @SuppressWarnings("rawtypes")
    static final class ReceiveSubscriber<T> implements CoreSubscriber<T>, Subscription, Scannable {
        final CoreSubscriber<? super T> actual;

        Subscription s;

        /** Bit set of the flags below. */
        volatile int state;
        static final AtomicIntegerFieldUpdater<ReceiveSubscriber> STATE =
                AtomicIntegerFieldUpdater.newUpdater(ReceiveSubscriber.class, "state");
        /** request(1) was passed to the core. */
        static final int REQUESTED = 1;
        /** The downstream cancelled. */
        static final int CANCELLED = 2;
        /** A terminal signal (or the item) was passed downstream. */
        static final int DONE = 4;

        ReceiveSubscriber(CoreSubscriber<? super T> actual) {
            this.actual = actual;
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
            if (!setFlag(DONE)) {
                Operators.onNextDropped(t, actual.currentContext());
                return;
            }
            s.cancel(); // our one item arrived: leave the channel's consumer list
            if ((state & CANCELLED) != 0) {
                Operators.onDiscard(t, actual.currentContext());
                return;
            }
            actual.onNext(t);
            actual.onComplete();
        }

        @Override
        public void onError(Throwable t) {
            if (!setFlag(DONE)) {
                Operators.onErrorDropped(t, actual.currentContext());
                return;
            }
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            if (setFlag(DONE)) {
                actual.onComplete();
            }
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                s.request(n); // the core signals IllegalArgumentException (rule 3.9)
                return;
            }
            if (setFlag(REQUESTED)) {
                s.request(1);
            }
        }

        @Override
        public void cancel() {
            if (setFlag(CANCELLED)) {
                s.cancel();
            }
        }

        /** Sets {@code flag}; returns false if it was already set. */
        private boolean setFlag(int flag) {
            for (;;) {
                int current = state;
                if ((current & flag) != 0) {
                    return false;
                }
                if (STATE.compareAndSet(this, current, current | flag)) {
                    return true;
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
            if (key == Attr.TERMINATED) {
                return (state & DONE) != 0;
            }
            if (key == Attr.CANCELLED) {
                return (state & CANCELLED) != 0;
            }
            if (key == Attr.REQUESTED_FROM_DOWNSTREAM) {
                return (state & (REQUESTED | DONE)) == REQUESTED ? 1L : 0L;
            }
            if (key == Attr.PREFETCH) {
                return 0;
            }
            if (key == Attr.RUN_STYLE) {
                return Attr.RunStyle.ASYNC;
            }
            return null;
        }
    }
}
