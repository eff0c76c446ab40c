package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;
import reactor.util.context.Context;

@Timeout(60)
class FluxViewTest {

    private static Channel<Integer> filled(int capacity, int items) {
        Channel<Integer> channel = Channel.bounded(capacity);
        for (int i = 0; i < items; i++) {
            assertEquals(dev.sluice.SendResult.OK, channel.trySend(i));
        }
        return channel;
    }

    /** Sends 0..n-1 from a platform thread, then closes. */
    private static Thread produce(Channel<Integer> channel, int n) {
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    channel.send(i);
                }
                channel.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "test-producer");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /* ---- demand ---- */

    @Test
    void flux_withoutRequest_takesNothingUntilThenExactlyN() {
        Channel<Integer> channel = filled(16, 10);
        StepVerifier.create(ReactorChannels.flux(channel.receiver()), 0)
                .expectSubscription()
                .then(() -> assertEquals(10, channel.stats().size(), "nothing may leave before request"))
                .thenRequest(3)
                .expectNext(0, 1, 2)
                .then(() -> assertEquals(7, channel.stats().size(), "exactly 3 left"))
                .thenRequest(1)
                .expectNext(3)
                .then(() -> assertEquals(6, channel.stats().size()))
                .thenRequest(2)
                .expectNext(4, 5)
                .then(() -> {
                    assertEquals(4, channel.stats().size());
                    assertEquals(6, channel.stats().received());
                })
                .thenCancel()
                .verify(Duration.ofSeconds(5));
        assertEquals(4, channel.stats().size(), "cancel keeps the rest in the channel");
        assertEquals(0, channel.stats().subscribers(), "the cancelled subscription left the channel");
    }

    @Test
    void flux_demandBeforeItems_isServedAsItemsArrive() {
        Channel<Integer> channel = Channel.bounded(4);
        StepVerifier.create(ReactorChannels.flux(channel.receiver()), 2)
                .expectSubscription()
                .then(() -> assertEquals(2, channel.stats().outstandingDemand()))
                .then(() -> channel.trySend(7))
                .expectNext(7)
                .then(() -> channel.trySend(8))
                .expectNext(8)
                .then(() -> channel.trySend(9))
                .then(() -> assertEquals(1, channel.stats().size(), "no demand left: 9 stays in the channel"))
                .thenRequest(1)
                .expectNext(9)
                .then(channel::close)
                .verifyComplete();
    }

    @Test
    void flux_limitRate_neverHasMoreThanTheRateOutstanding() throws Exception {
        Channel<Integer> channel = Channel.bounded(8);
        Demand demand = new Demand();
        produce(channel, 2_000);
        List<Integer> got = demand.track(ReactorChannels.flux(channel.receiver()))
                .limitRate(5)
                .collectList()
                .block(Duration.ofSeconds(30));
        assertEquals(IntStream.range(0, 2_000).boxed().collect(Collectors.toList()), got);
        assertTrue(demand.requests.stream().allMatch(n -> n <= 5), "limitRate(5) requests: " + demand.requests);
        assertTrue(demand.maxOutstanding.get() <= 5, "outstanding demand: " + demand.maxOutstanding);
        assertEquals(2_000, channel.stats().received(), "every item left the channel against a request");
    }

    @Test
    void flux_publishOn_deliversAllInOrderWithBoundedDemand() throws Exception {
        Channel<Integer> channel = Channel.bounded(16);
        Demand demand = new Demand();
        produce(channel, 20_000);
        List<Integer> got = demand.track(ReactorChannels.flux(channel.receiver()))
                .publishOn(Schedulers.parallel(), 8)
                .collectList()
                .block(Duration.ofSeconds(30));
        assertEquals(IntStream.range(0, 20_000).boxed().collect(Collectors.toList()), got);
        assertTrue(demand.maxOutstanding.get() <= 8, "publishOn(8) bounds demand: " + demand.maxOutstanding);
        assertEquals(0, channel.stats().size());
    }

    /** Requested minus delivered, measured right at the channel's Flux. */
    static final class Demand {
        final List<Long> requests = new CopyOnWriteArrayList<>();
        final AtomicLong outstanding = new AtomicLong();
        final AtomicLong maxOutstanding = new AtomicLong();

        <T> Flux<T> track(Flux<T> flux) {
            return flux.doOnRequest(n -> {
                requests.add(n);
                maxOutstanding.accumulateAndGet(outstanding.addAndGet(n), Math::max);
            }).doOnNext(t -> {
                if (outstanding.decrementAndGet() < 0) {
                    throw new AssertionError("an item left the channel without demand");
                }
            });
        }
    }

    /* ---- termination ---- */

    @Test
    void flux_closed_completesAfterDraining() {
        Channel<Integer> channel = filled(4, 3);
        channel.close();
        StepVerifier.create(ReactorChannels.flux(channel.receiver())).expectNext(0, 1, 2).verifyComplete();
    }

    @Test
    void flux_failed_signalsTheCauseAfterDraining() {
        Channel<Integer> channel = filled(4, 2);
        IllegalStateException boom = new IllegalStateException("boom");
        channel.fail(boom);
        StepVerifier.create(ReactorChannels.flux(channel.receiver()))
                .expectNext(0, 1)
                .expectErrorSatisfies(e -> assertSame(boom, e))
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void flux_cancelledChannel_signalsChannelClosedException() {
        Channel<Integer> channel = filled(4, 2);
        StepVerifier.create(ReactorChannels.flux(channel.receiver()), 0)
                .expectSubscription()
                .then(channel::cancel)
                .expectError(ChannelClosedException.class)
                .verify(Duration.ofSeconds(5));
    }

    /* ---- competing consumers ---- */

    @Test
    void flux_twoSubscribers_eachItemExactlyOnce() throws Exception {
        Channel<Integer> channel = Channel.bounded(32);
        Flux<Integer> flux = ReactorChannels.flux(channel.receiver());
        ConcurrentLinkedQueue<Integer> a = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Integer> b = new ConcurrentLinkedQueue<>();
        var doneA = flux.publishOn(Schedulers.parallel(), 4).doOnNext(a::add).then().toFuture();
        var doneB = flux.limitRate(3).doOnNext(b::add).then().toFuture();
        produce(channel, 20_000);
        doneA.get(30, TimeUnit.SECONDS);
        doneB.get(30, TimeUnit.SECONDS);
        List<Integer> all = new ArrayList<>(a);
        all.addAll(b);
        Collections.sort(all);
        assertEquals(IntStream.range(0, 20_000).boxed().collect(Collectors.toList()), all, "each item once");
    }

    /* ---- Scannable ---- */

    @Test
    void flux_scan_reportsChannelAndSubscriptionState() {
        Channel<Integer> channel = filled(8, 3);
        Flux<Integer> flux = ReactorChannels.flux(channel.receiver());
        Scannable scannable = Scannable.from(flux);
        assertTrue(scannable.isScanAvailable());
        assertEquals(3, scannable.scan(Scannable.Attr.BUFFERED));
        assertEquals(8, scannable.scan(Scannable.Attr.CAPACITY));
        assertEquals(0, scannable.scan(Scannable.Attr.PREFETCH));
        assertFalse(scannable.scan(Scannable.Attr.TERMINATED));

        AtomicReference<Scannable> sub = new AtomicReference<>();
        StepVerifier.create(flux, 0)
                .consumeSubscriptionWith(s -> sub.set(Scannable.from(s)))
                .then(() -> {
                    Scannable s = sub.get();
                    assertEquals(0L, s.scan(Scannable.Attr.REQUESTED_FROM_DOWNSTREAM));
                    assertEquals(3, s.scan(Scannable.Attr.BUFFERED));
                    assertEquals(8, s.scan(Scannable.Attr.CAPACITY));
                    assertNotNull(s.scan(Scannable.Attr.PARENT));
                    assertNotNull(s.scan(Scannable.Attr.ACTUAL));
                    assertFalse(s.scan(Scannable.Attr.CANCELLED));
                    assertFalse(s.scan(Scannable.Attr.TERMINATED));
                })
                .thenRequest(5)
                .expectNext(0, 1, 2)
                .then(() -> {
                    assertEquals(2L, sub.get().scan(Scannable.Attr.REQUESTED_FROM_DOWNSTREAM));
                    assertEquals(2L, scannable.scan(Scannable.Attr.REQUESTED_FROM_DOWNSTREAM));
                    assertEquals(0, sub.get().scan(Scannable.Attr.BUFFERED));
                })
                .then(channel::close)
                .verifyComplete();
        assertTrue(sub.get().scan(Scannable.Attr.TERMINATED));
        assertTrue(scannable.scan(Scannable.Attr.TERMINATED));

        Channel<Integer> other = filled(2, 1);
        StepVerifier.create(ReactorChannels.flux(other.receiver()), 0)
                .consumeSubscriptionWith(s -> sub.set(Scannable.from(s)))
                .thenCancel()
                .verify();
        assertTrue(sub.get().scan(Scannable.Attr.CANCELLED));
        other.cancel();
        assertTrue(Scannable.from(ReactorChannels.flux(other)).scan(Scannable.Attr.CANCELLED));
    }

    /* ---- discard ---- */

    @Test
    void flux_itemArrivingAfterDownstreamCancel_goesToDiscardHookWithSubscriberContext() {
        List<Object> discarded = new ArrayList<>();
        List<Object> delivered = new ArrayList<>();
        CoreSubscriber<Integer> downstream = new CoreSubscriber<>() {
            @Override
            public Context currentContext() {
                return Operators.enableOnDiscard(Context.empty(), discarded::add);
            }

            @Override
            public void onSubscribe(Subscription s) {
            }

            @Override
            public void onNext(Integer integer) {
                delivered.add(integer);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        };
        Channel<Integer> channel = Channel.bounded(2);
        List<String> upstreamCalls = new ArrayList<>();
        ChannelFlux.ChannelFluxSubscriber<Integer> subscriber =
                new ChannelFlux.ChannelFluxSubscriber<>(downstream, channel, () -> upstreamCalls.add("onCancel"));
        subscriber.onSubscribe(new Subscription() {
            @Override
            public void request(long n) {
                upstreamCalls.add("request " + n);
            }

            @Override
            public void cancel() {
                upstreamCalls.add("cancel");
            }
        });
        subscriber.request(1);
        subscriber.onNext(1);
        subscriber.cancel();
        subscriber.cancel();
        subscriber.onNext(2); // the core handed it over at the instant of cancellation
        assertEquals(List.of(1), delivered);
        assertEquals(List.of(2), discarded);
        assertEquals(List.of("request 1", "cancel", "onCancel"), upstreamCalls, "cancel forwarded once");
    }

    @Test
    void flux_cancelRacingSend_eachItemDeliveredDiscardedOrLeftExactlyOnce() {
        int rounds = 10_000;
        int discardedTotal = 0;
        for (int round = 0; round < rounds; round++) {
            Channel<Integer> channel = Channel.bounded(2);
            Recorder<Integer> recorder = new Recorder<>(Long.MAX_VALUE);
            ReactorChannels.flux(channel.receiver()).subscribe(recorder);
            Runnable cancel = recorder::cancel;
            Runnable send = () -> {
                channel.trySend(1);
                channel.trySend(2);
            };
            if (round % 2 == 0) {
                RaceTestUtils.race(cancel, send);
            } else {
                RaceTestUtils.race(send, cancel);
            }
            List<Integer> all = new ArrayList<>(recorder.values);
            recorder.discarded.forEach(d -> all.add((Integer) d));
            Integer left;
            while ((left = channel.tryReceive()) != null) {
                all.add(left);
            }
            Collections.sort(all);
            assertEquals(List.of(1, 2), all, "round " + round + ": " + recorder.values + " discarded "
                    + recorder.discarded);
            discardedTotal += recorder.discarded.size();
        }
        System.out.printf("flux cancel-vs-send: %d rounds, %d items went to the discard hook%n", rounds,
                discardedTotal);
    }

    /* ---- bad input ---- */

    @Test
    void flux_nullReceiver_throwsNpeNamingIt() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> ReactorChannels.flux(null));
        assertEquals("receiver", e.getMessage());
    }

    /** A subscriber recording values, terminal signals and discards (through its Context). */
    static final class Recorder<T> implements CoreSubscriber<T> {
        final long initialRequest;
        final List<T> values = Collections.synchronizedList(new ArrayList<>());
        final List<Object> discarded = Collections.synchronizedList(new ArrayList<>());
        final Context context = Operators.enableOnDiscard(Context.empty(), discarded::add);
        volatile Subscription subscription;
        volatile Throwable error;
        volatile boolean completed;

        Recorder(long initialRequest) {
            this.initialRequest = initialRequest;
        }

        @Override
        public Context currentContext() {
            return context;
        }

        @Override
        public void onSubscribe(Subscription s) {
            subscription = s;
            if (initialRequest > 0) {
                s.request(initialRequest);
            }
        }

        @Override
        public void onNext(T t) {
            values.add(t);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
        }

        @Override
        public void onComplete() {
            completed = true;
        }

        void cancel() {
            subscription.cancel();
        }

        Set<T> valueSet() {
            return new HashSet<>(values);
        }
    }

}
