package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import dev.sluice.ChannelState;
import dev.sluice.ChannelStats;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/*
 * "A throwing onNext never breaks the channel" reached through ReactorChannels.flux (issue 12): the broken consumer
 * waits first with unbounded demand, a healthy Flux subscriber second; the producer sends item 0 on the test thread,
 * and the broken consumer's onNext, run inside that send, throws. The send must return normally (the item was
 * accepted and handed to onNext), the broken subscription must leave the channel, and items 1..3 must reach the
 * healthy subscriber, which completes on close().
 *
 * Reactor's own subscribers catch what a lambda throws, cancel and signal onError, except JVM-fatal errors
 * (Exceptions.throwIfFatal: VirtualMachineError, LinkageError, ThreadDeath), which they rethrow into the caller of
 * onNext, that is into the channel. FluxCallbackErrorTest runs these with a RuntimeException and an Error (they pass
 * today); ReactorBridgeRegressionTest with a StackOverflowError (fails today: it surfaces in the producer's send).
 */
final class FluxCallbackFaults {

    private static final long PATIENCE_MILLIS = 5_000;

    private FluxCallbackFaults() {
    }

    /** How the broken consumer subscribes. */
    enum Consumer {
        /** {@code flux.subscribe(onNext, onError)}: Reactor's LambdaSubscriber. */
        LAMBDA,
        /** A {@link BaseSubscriber} whose {@code hookOnNext} throws. */
        BASE_SUBSCRIBER,
        /** A raw {@link CoreSubscriber} whose {@code onNext} throws (breaks rule 2.13). */
        RAW
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw new AssertionError("unchecked throwables only, not " + t, t);
    }

    static void onNext_throwingInsideTheProducersSend(Consumer kind, Supplier<Throwable> failure) throws Exception {
        Channel<Integer> channel = Channel.bounded(4);
        Flux<Integer> flux = ReactorChannels.flux(channel.receiver());
        List<Integer> brokenItems = new CopyOnWriteArrayList<>();
        List<Throwable> brokenErrors = new CopyOnWriteArrayList<>();
        AtomicInteger brokenCompletions = new AtomicInteger();
        java.util.function.Consumer<Integer> throwing = item -> {
            brokenItems.add(item);
            throw rethrow(failure.get());
        };
        switch (kind) {
            case LAMBDA:
                flux.subscribe(throwing, brokenErrors::add, brokenCompletions::incrementAndGet);
                break;
            case BASE_SUBSCRIBER:
                flux.subscribe(new BaseSubscriber<Integer>() {
                    @Override
                    protected void hookOnNext(Integer value) {
                        throwing.accept(value);
                    }

                    @Override
                    protected void hookOnError(Throwable throwable) {
                        brokenErrors.add(throwable);
                    }

                    @Override
                    protected void hookOnComplete() {
                        brokenCompletions.incrementAndGet();
                    }
                });
                break;
            default:
                flux.subscribe(new CoreSubscriber<Integer>() {
                    @Override
                    public void onSubscribe(Subscription s) {
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(Integer item) {
                        throwing.accept(item);
                    }

                    @Override
                    public void onError(Throwable t) {
                        brokenErrors.add(t);
                    }

                    @Override
                    public void onComplete() {
                        brokenCompletions.incrementAndGet();
                    }
                });
                break;
        }
        awaitState("the broken consumer to wait with demand", () -> channel.stats().waitingReceivers() == 1);
        List<Integer> healthy = new CopyOnWriteArrayList<>();
        List<Throwable> healthyErrors = new CopyOnWriteArrayList<>();
        CountDownLatch healthyDone = new CountDownLatch(1);
        flux.subscribe(healthy::add, e -> {
            healthyErrors.add(e);
            healthyDone.countDown();
        }, healthyDone::countDown);
        awaitState("the healthy consumer to wait with demand", () -> channel.stats().waitingReceivers() == 2);

        Throwable fromSend = null;
        try {
            channel.send(0);
        } catch (Throwable t) {
            fromSend = t;
        }
        Throwable thrown = fromSend;
        ChannelStats afterFirst = channel.stats();
        assertAll("send(0) while the " + kind + " consumer's onNext throws " + failure.get(),
                () -> {
                    if (thrown != null) {
                        fail("the producer's send threw " + thrown + ", but its item was accepted and passed to"
                                + " onNext: a subscriber's error must not surface in the producer", thrown);
                    }
                },
                () -> assertEquals(List.of(0), brokenItems, "item 0 goes to the consumer that waited first"),
                () -> assertEquals(1, afterFirst.subscribers(), "the broken subscription must leave the channel,"
                        + " the healthy one stays: " + afterFirst),
                () -> assertEquals(1, afterFirst.received(), "item 0 counts as delivered: " + afterFirst));

        for (int i = 1; i < 4; i++) {
            channel.send(i);
        }
        awaitState("the healthy consumer to get items 1..3 (has " + healthy + ")", () -> healthy.size() == 3);
        channel.close();
        assertTrue(healthyDone.await(PATIENCE_MILLIS, TimeUnit.MILLISECONDS), "the healthy consumer completes");
        assertEquals(List.of(), healthyErrors);
        assertEquals(List.of(1, 2, 3), healthy, "later items go to the other consumer");
        assertEquals(List.of(0), brokenItems, "nothing after the failing onNext");
        assertEquals(0, brokenCompletions.get(), "no completion for the broken consumer");
        ChannelStats end = channel.stats();
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertEquals(0, end.subscribers(), end.toString());
        assertEquals(4, end.received(), end.toString());
    }

    static void awaitState(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PATIENCE_MILLIS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
