package dev.sluice.stress;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * A Reactive Streams subscriber that records every signal for an arbiter to inspect.
 */
final class RecordingSubscriber implements Subscriber<Integer> {

    private final long initialRequest;
    volatile Subscription subscription;
    final ConcurrentLinkedQueue<Integer> items = new ConcurrentLinkedQueue<>();
    final AtomicInteger completions = new AtomicInteger();
    final AtomicInteger errors = new AtomicInteger();
    final AtomicInteger subscriptions = new AtomicInteger();

    /**
     * Creates a subscriber.
     *
     * @param initialRequest what to request in {@code onSubscribe}; 0 for nothing
     */
    RecordingSubscriber(long initialRequest) {
        this.initialRequest = initialRequest;
    }

    @Override
    public void onSubscribe(Subscription s) {
        subscriptions.incrementAndGet();
        subscription = s;
        if (initialRequest > 0) {
            s.request(initialRequest);
        }
    }

    @Override
    public void onNext(Integer item) {
        items.add(item);
    }

    @Override
    public void onError(Throwable t) {
        errors.incrementAndGet();
    }

    @Override
    public void onComplete() {
        completions.incrementAndGet();
    }

    /**
     * The items received so far, in order.
     *
     * @return a copy
     */
    List<Integer> received() {
        return new ArrayList<>(items);
    }
}
