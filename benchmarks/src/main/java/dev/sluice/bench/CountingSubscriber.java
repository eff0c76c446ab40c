package dev.sluice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;

/*
 * The S2 downstream: a Reactive Streams (and Flow) subscriber that requests 256, replenishes 192 (75%, Reactor's
 * limit = prefetch - prefetch/4) each time it has consumed 192, sums the items, and completes the current
 * invocation's future after `target` items. It is a CoreSubscriber so that Flux.subscribe does not wrap it in
 * Reactor's StrictSubscriber (two atomic operations per item that would tax every Reactor row).
 *
 * Signals arrive serially (RS rule 1.3) but possibly from different threads; the plain fields rely on the
 * happens-before edges the publishers provide between signals.
 */
final class CountingSubscriber implements CoreSubscriber<Object>, Flow.Subscriber<Object> {

    static final int PREFETCH = 256;
    static final int LIMIT = PREFETCH - (PREFETCH >> 2);

    private Subscription subscription;
    private Flow.Subscription flowSubscription;
    private long sum;
    private int count;
    private int consumed;
    private volatile int target;
    private volatile CompletableFuture<Long> done;
    private volatile Throwable error;

    /** Arms the next invocation: call before emitting its {@code n} items. */
    CompletableFuture<Long> expect(int n) {
        Throwable failed = error;
        if (failed != null) {
            throw new IllegalStateException("the pipeline failed earlier", failed);
        }
        CompletableFuture<Long> future = new CompletableFuture<>();
        target = n;
        done = future;
        return future;
    }

    @Override
    public void onSubscribe(Subscription s) {
        subscription = s;
        s.request(PREFETCH);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        flowSubscription = s;
        s.request(PREFETCH);
    }

    @Override
    public void onNext(Object item) {
        sum += (Long) item;
        if (++consumed == LIMIT) {
            consumed = 0;
            if (subscription != null) {
                subscription.request(LIMIT);
            } else {
                flowSubscription.request(LIMIT);
            }
        }
        if (++count == target) {
            long result = sum;
            sum = 0;
            count = 0;
            done.complete(result);
        }
    }

    @Override
    public void onError(Throwable t) {
        error = t;
        CompletableFuture<Long> future = done;
        if (future != null) {
            future.completeExceptionally(t);
        }
    }

    @Override
    public void onComplete() {
        CompletableFuture<Long> future = done;
        if (future != null && !future.isDone()) {
            future.completeExceptionally(new IllegalStateException("completed early after " + count + " items"));
        }
    }

    /** Cancels the upstream subscription. */
    void cancel() {
        if (subscription != null) {
            subscription.cancel();
        }
        if (flowSubscription != null) {
            flowSubscription.cancel();
        }
    }
}
