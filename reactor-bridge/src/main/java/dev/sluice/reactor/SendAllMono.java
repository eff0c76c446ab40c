package dev.sluice.reactor;

import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;

import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelSender;
import dev.sluice.SendResult;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/*
 * Pumps a Publisher into a channel, one item in flight at a time.
 *
 * Demand: request(1) upstream; the item is offered with trySend; if the buffer is full (or senders wait before us) it
 * waits in the channel's send FIFO through sendAsync, and only when it is accepted is the next item requested. So the
 * upstream never produces an item the channel cannot take, nothing is buffered here, and the channel's own fairness
 * decides when we go. Upstream completion completes the Mono with the count after the item in flight is accepted;
 * it does not close the channel.
 *
 * Threads: onNext runs on the upstream's thread; a pending send completes on the thread that freed the slot, which
 * then requests the next item (the upstream runs its next onNext there, serialized by rule 1.3). `count` is written
 * only by whichever of those holds the one in-flight item, and published by the volatile writes of `pending`/`state`.
 */
final class SendAllMono<T> extends Mono<Long> implements Scannable {

    final ChannelSender<T> sender;
    final Publisher<? extends T> source;

    SendAllMono(ChannelSender<T> sender, Publisher<? extends T> source) {
        this.sender = Objects.requireNonNull(sender, "sender");
        this.source = Objects.requireNonNull(source, "publisher");
    }

    @Override
    public void subscribe(CoreSubscriber<? super Long> actual) {
        Flux.<T>from(source).subscribe(new SendAllSubscriber<T>(actual, sender));
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable's signature
    public Object scanUnsafe(Attr key) {
        if (key == Attr.PARENT) {
            return Scannable.from(source);
        }
        if (key == Attr.PREFETCH) {
            return 1;
        }
        if (key == Attr.RUN_STYLE) {
            return Attr.RunStyle.ASYNC;
        }
        return null;
    }

    @Override
    public String stepName() {
        return "sluiceSendAll";
    }

    @SuppressWarnings("rawtypes")
    static final class SendAllSubscriber<T> extends Operators.MonoSubscriber<T, Long> {
        final ChannelSender<T> sender;

        Subscription upstream;

        volatile long count;

        /** The sendAsync of the item in flight, or null when no item waits for a slot. */
        volatile CompletableFuture<Void> pending;

        volatile int phase;
        static final AtomicIntegerFieldUpdater<SendAllSubscriber> PHASE =
                AtomicIntegerFieldUpdater.newUpdater(SendAllSubscriber.class, "phase");
        /** Pumping. */
        static final int RUNNING = 0;
        /** The upstream completed; finish once no item is in flight. */
        static final int UPSTREAM_DONE = 1;
        /** The outcome was signalled (or the downstream cancelled): ignore everything from now on. */
        static final int TERMINATED = 2;

        SendAllSubscriber(CoreSubscriber<? super Long> actual, ChannelSender<T> sender) {
            super(actual);
            this.sender = sender;
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.validate(upstream, s)) {
                upstream = s;
                actual.onSubscribe(this);
                s.request(1);
            }
        }

        @Override
        public void onNext(T item) {
            if (phase == TERMINATED) {
                Operators.onDiscard(item, actual.currentContext());
                return;
            }
            SendResult result;
            try {
                result = sender.trySend(item);
            } catch (Throwable e) {
                fail(e, item);
                return;
            }
            if (result == SendResult.OK) {
                count++; // single writer: the holder of the one in-flight item
                next();
            } else if (result == SendResult.CLOSED) {
                fail(new ChannelClosedException("sendAll: the channel closed before the upstream completed"), item);
            } else {
                CompletableFuture<Void> f = sender.sendAsync(item);
                pending = f;
                if (phase == TERMINATED) {
                    f.cancel(false);
                }
                f.whenComplete((ignored, error) -> onOutcome(item, error));
            }
        }

        private void onOutcome(T item, Throwable error) {
            if (error == null) {
                count++;        // before pending = null: onComplete reads count after it sees null
                pending = null;
                next();
                return;
            }
            Throwable cause = error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            pending = null;
            if (cause instanceof CancellationException) {
                Operators.onDiscard(item, actual.currentContext()); // withdrawn after cancel or upstream error
            } else {
                fail(cause, item);
            }
        }

        /**
         * The item in flight was accepted and counted: ask for the next one, or finish if the upstream completed.
         * Pairs with onComplete (which writes phase, then reads pending) so that one of the two finishes.
         */
        private void next() {
            int p = phase;
            if (p == RUNNING) {
                upstream.request(1);
                return;
            }
            if (p == UPSTREAM_DONE && PHASE.compareAndSet(this, UPSTREAM_DONE, TERMINATED)) {
                complete(count);
            }
        }

        private void fail(Throwable error, T item) {
            Operators.onDiscard(item, actual.currentContext());
            for (;;) {
                int p = phase;
                if (p == TERMINATED) {
                    Operators.onErrorDropped(error, actual.currentContext());
                    return;
                }
                if (PHASE.compareAndSet(this, p, TERMINATED)) {
                    break;
                }
            }
            upstream.cancel();
            actual.onError(error);
        }

        @Override
        public void onError(Throwable t) {
            if (!PHASE.compareAndSet(this, RUNNING, TERMINATED)) {
                Operators.onErrorDropped(t, actual.currentContext());
                return;
            }
            CompletableFuture<Void> f = pending;
            if (f != null) {
                f.cancel(false); // withdraw the item in flight; its callback discards it
            }
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            if (!PHASE.compareAndSet(this, RUNNING, UPSTREAM_DONE)) {
                return;
            }
            // a pending item finishes in accepted(); otherwise nothing is in flight and we finish here
            if (pending == null && PHASE.compareAndSet(this, UPSTREAM_DONE, TERMINATED)) {
                complete(count);
            }
        }

        @Override
        public void cancel() {
            super.cancel();
            int p = PHASE.getAndSet(this, TERMINATED);
            if (p != TERMINATED) {
                upstream.cancel();
                CompletableFuture<Void> f = pending;
                if (f != null) {
                    f.cancel(false);
                }
            }
        }

        @Override
        public Object scanUnsafe(Attr key) {
            if (key == Attr.PARENT) {
                return upstream;
            }
            if (key == Attr.PREFETCH) {
                return 1;
            }
            if (key == Attr.BUFFERED) {
                return pending == null ? 0 : 1;
            }
            return super.scanUnsafe(key);
        }
    }
}
