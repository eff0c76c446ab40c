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
 * The next item of a channel as a Mono. Nothing happens until the downstream requests. Then the fast path takes an
 * item with tryReceive (which respects the FIFO of waiting receivers: it finds nothing while earlier receivers wait);
 * only if there is none does the Mono subscribe to the core's Publisher view and request exactly 1, so it waits in
 * the same FIFO as every other receiver. The core hands an item over only to deliver it at once (it checks for
 * cancellation after removing the item and puts it back if cancelled), so a cancelled Mono leaves every item it did
 * not take in the channel. The one exception is the instant of a race: an item was taken (by tryReceive, or passed to
 * onNext by the core) while the downstream was cancelling; it then counts as delivered and goes to Reactor's discard
 * hook.
 */
final class ReceiveMono<T> extends Mono<T> implements Scannable {

    final ChannelReceiver<T> receiver;

    ReceiveMono(ChannelReceiver<T> receiver) {
        this.receiver = Objects.requireNonNull(receiver, "receiver");
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
        actual.onSubscribe(new ReceiveSubscriber<>(actual, receiver));
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
        final ChannelReceiver<T> receiver;

        /** The core's subscription, once the fast path found no item; see cancel() for the race with onSubscribe. */
        volatile Subscription s;

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

        ReceiveSubscriber(CoreSubscriber<? super T> actual, ChannelReceiver<T> receiver) {
            this.actual = actual;
            this.receiver = receiver;
        }

        @Override
        public Context currentContext() {
            return actual.currentContext();
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.validate(this.s, s)) {
                this.s = s; // then read state; cancel() writes state, then reads s: one of the two cancels
                if ((state & CANCELLED) != 0) {
                    s.cancel();
                } else {
                    s.request(1);
                }
            }
        }

        @Override
        public void onNext(T t) {
            if (!setFlag(DONE)) {
                Operators.onNextDropped(t, actual.currentContext());
                return;
            }
            s.cancel(); // our one item arrived: leave the channel's consumer list
            emit(t);
        }

        private void emit(T t) {
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
                if (setFlag(DONE)) {
                    actual.onError(new IllegalArgumentException(
                            "Reactive Streams rule 3.9: request(n) needs n > 0 but n was " + n));
                }
                return;
            }
            if ((state & (CANCELLED | DONE)) != 0 || !setFlag(REQUESTED)) {
                return;
            }
            T t = receiver.tryReceive();
            if (t != null) {
                if (setFlag(DONE)) { // always: nothing else can end us before we subscribe to the core
                    emit(t);
                }
                return;
            }
            receiver.asPublisher().subscribe(this); // none now: wait in the channel's FIFO of receivers
        }

        @Override
        public void cancel() {
            if (setFlag(CANCELLED)) {
                Subscription current = s;
                if (current != null) {
                    current.cancel();
                }
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
