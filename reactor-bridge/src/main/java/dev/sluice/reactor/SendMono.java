package dev.sluice.reactor;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.reactivestreams.Subscription;

import dev.sluice.ChannelSender;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/*
 * One sendAsync per subscription. The future is the whole protocol with the core: it completes when the item is
 * accepted, cancelling it before acceptance withdraws the item (the core never enqueues it), and it fails with
 * ChannelClosedException if the channel closes first. An item this Mono did not get accepted (withdrawn by cancel, or
 * refused) goes to Reactor's discard hook exactly once, so leak tracking sees every item either in the channel or
 * discarded, never both.
 */
final class SendMono<T> extends Mono<Void> implements Scannable {

    final ChannelSender<T> sender;
    final T item;

    SendMono(ChannelSender<T> sender, T item) {
        this.sender = Objects.requireNonNull(sender, "sender");
        this.item = Objects.requireNonNull(item, "item");
    }

    @Override
    public void subscribe(CoreSubscriber<? super Void> actual) {
        SendSubscription<T> subscription = new SendSubscription<>(actual, item);
        actual.onSubscribe(subscription);
        subscription.start(sender);
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable's signature
    public Object scanUnsafe(Attr key) {
        if (key == Attr.RUN_STYLE) {
            return Attr.RunStyle.ASYNC;
        }
        return null;
    }

    @Override
    public String stepName() {
        return "sluiceSend";
    }

    /*
     * start() (the subscribing thread) publishes `future` and then reads `state`; cancel() sets CANCELLED and then
     * reads `future`. Both are volatile, so at least one side sees the other: the send is either never made or its
     * future is cancelled, and CompletableFuture.cancel returns true at most once, so the item is discarded once.
     */
    @SuppressWarnings("rawtypes")
    static final class SendSubscription<T> implements Subscription, Scannable {
        final CoreSubscriber<? super Void> actual;
        final T item;

        volatile CompletableFuture<Void> future;

        volatile int state;
        static final AtomicIntegerFieldUpdater<SendSubscription> STATE =
                AtomicIntegerFieldUpdater.newUpdater(SendSubscription.class, "state");
        static final int ACTIVE = 0;
        /** The downstream cancelled. */
        static final int CANCELLED = 1;
        /** The outcome was signalled downstream. */
        static final int DONE = 2;

        SendSubscription(CoreSubscriber<? super Void> actual, T item) {
            this.actual = actual;
            this.item = item;
        }

        void start(ChannelSender<T> sender) {
            if (state == CANCELLED) {
                Operators.onDiscard(item, actual.currentContext()); // cancelled before the offer: never sent
                return;
            }
            CompletableFuture<Void> f;
            try {
                f = sender.sendAsync(item);
            } catch (Throwable e) {
                f = CompletableFuture.failedFuture(e);
            }
            future = f;
            if (state == CANCELLED) {
                f.cancel(false);
            }
            if (f.isDone() && !f.isCompletedExceptionally()) {
                onOutcome(null, null); // accepted at once (there was room): no completion stage to allocate
            } else {
                f.whenComplete(this::onOutcome);
            }
        }

        private void onOutcome(Void ignored, Throwable error) {
            if (error == null) {
                if (STATE.compareAndSet(this, ACTIVE, DONE)) {
                    actual.onComplete();
                }
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            Operators.onDiscard(item, actual.currentContext()); // withdrawn or refused: never entered the channel
            if (!(cause instanceof CancellationException) && STATE.compareAndSet(this, ACTIVE, DONE)) {
                actual.onError(cause);
            }
        }

        @Override
        public void request(long n) {
            // Mono<Void>: no value, demand plays no role
        }

        @Override
        public void cancel() {
            if (STATE.compareAndSet(this, ACTIVE, CANCELLED)) {
                CompletableFuture<Void> f = future;
                if (f != null) {
                    f.cancel(false); // withdraws the item unless it was accepted already
                }
            }
        }

        @Override
        public Object scanUnsafe(Attr key) {
            if (key == Attr.ACTUAL) {
                return actual;
            }
            if (key == Attr.CANCELLED) {
                return state == CANCELLED;
            }
            if (key == Attr.TERMINATED) {
                return state == DONE;
            }
            if (key == Attr.RUN_STYLE) {
                return Attr.RunStyle.ASYNC;
            }
            return null;
        }
    }
}
