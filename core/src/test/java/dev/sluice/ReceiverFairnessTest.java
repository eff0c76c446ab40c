package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitWaitingReceivers;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/**
 * Fairness among receivers when a subscription has (much) demand: what must hold both today, where a subscription is
 * served one item per turn of the receive FIFO, and under Core v2, where it may be served a bounded run per turn
 * ("FIFO per unit of demand with a bounded quota", DESIGN.md). Strict alternation is not asserted.
 * <ul>
 *   <li>a blocked receiver queued behind a subscription with large demand is served after at most
 *       {@link #quotaBound(int) capacity} items have gone to that subscription;</li>
 *   <li>a receiver beside a subscription with unbounded demand and a steady producer never starves;</li>
 *   <li>two subscriptions with equal demand and a steady producer both get items.</li>
 * </ul>
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReceiverFairnessTest {

    /**
     * The most items a subscription may take in one turn before a receiver queued behind it is served. Core v2's
     * quota is meant to be bounded by the buffer (a run is claimed from the ring); if the contract fixes another
     * bound, this is the one place to change.
     */
    static int quotaBound(int capacity) {
        return capacity;
    }

    /** How a blocked receiver takes one item. */
    enum ReceiverKind {
        RECEIVE, RECEIVE_WITH_TIMEOUT, ITERATOR;

        Integer takeOne(Channel<Integer> channel) throws InterruptedException {
            switch (this) {
                case RECEIVE:
                    return channel.receive();
                case RECEIVE_WITH_TIMEOUT:
                    return channel.receive(PATIENCE);
                default:
                    try (ChannelIterator<Integer> it = channel.iterator()) {
                        return it.hasNext() ? it.next() : null;
                    }
            }
        }
    }

    static Stream<Arguments> queuedBehindGreedy() {
        List<Arguments> cases = new ArrayList<>();
        for (int capacity : new int[] {1, 3, 16}) {
            for (ReceiverKind kind : ReceiverKind.values()) {
                for (long demand : new long[] {1_000_000L, Long.MAX_VALUE}) {
                    cases.add(Arguments.of(capacity, kind, demand));
                }
            }
        }
        return cases.stream();
    }

    /* ---- a receiver queued behind a subscription with large demand ---- */

    @ParameterizedTest(name = "capacity {0}, {1}, demand {2}")
    @MethodSource("queuedBehindGreedy")
    void receiver_queuedBehindASubscriptionWithLargeDemand_isServedWithinTheQuota(int capacity, ReceiverKind kind,
            long demand) throws Throwable {
        Channel<Integer> channel = Channel.bounded(capacity);
        RecordingSubscriber<Integer> greedy = new RecordingSubscriber<>(demand);
        channel.asPublisher().subscribe(greedy);
        awaitWaitingReceivers(channel, 1);
        Forked<Integer> receiver = fork("receiver-" + kind, () -> kind.takeOne(channel));
        awaitBlockedReceiver(channel, receiver, 2);

        int total = 4 * capacity + 4; // enough to pass the receiver by several quotas if it were skipped
        for (int i = 0; i < total; i++) {
            channel.send(i);
        }
        Integer taken = receiver.join();
        greedy.awaitItems(total - 1);
        channel.close();
        greedy.awaitCompleted();
        greedy.assertNoViolations();

        // items are FIFO, so the receiver's item tells how many went to the subscription after the receiver queued
        assertTrue(taken != null && taken <= quotaBound(capacity), "the receiver queued behind the subscription"
                + " got item " + taken + ": " + taken + " items went to the subscription after the receiver queued,"
                + " more than the bound " + quotaBound(capacity) + "; subscription got " + greedy.items());
        List<Integer> expectedGreedy = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            if (i != taken) {
                expectedGreedy.add(i);
            }
        }
        assertEquals(expectedGreedy, greedy.items(), "every other item goes to the subscription, in order");
        assertEquals(total, channel.stats().received());
    }

    /* ---- a receiver beside a subscription with unbounded demand never starves ---- */

    /*
     * How long one receive may wait beside the greedy subscription before it counts as starved. Generous on purpose:
     * today such a receive spends most of its time before it even queues, in the pre-queue backoff (256 spins, then
     * 16 Thread.yield() calls, each retrying a fast path that cannot succeed while the subscription is queued, since
     * receiveWaiters != 0); on a loaded 2-vCPU machine each yield gives the CPU away for milliseconds. Sampling the
     * receiver's stack every 1 ms there found it in ChannelCore.backoff's yield in 149 of 180 samples, waiting for
     * the lock in 5 and parked as a queued waiter in 6; single receives took up to 0.4 s (6-120 ms on average)
     * while the subscription got millions of items.
     */
    private static final Duration STARVATION_LIMIT = Duration.ofSeconds(20);

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {1, 3, 16})
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void receiver_besideAGreedySubscriptionAndASteadyProducer_neverStarves(int capacity) throws Throwable {
        final int receives = 30;
        Channel<Integer> channel = Channel.bounded(capacity);
        Collector greedy = new Collector(Long.MAX_VALUE);
        channel.asPublisher().subscribe(greedy);
        awaitWaitingReceivers(channel, 1);
        AtomicBoolean stop = new AtomicBoolean();
        Forked<Integer> producer = fork("steady-producer", () -> {
            int sent = 0;
            try {
                while (!stop.get()) {
                    channel.send(sent++);
                }
            } finally {
                channel.close();
            }
            return sent;
        });
        BitSet received = new BitSet();
        int last = -1;
        long longestWaitNanos = 0;
        long start = System.nanoTime();
        try {
            for (int i = 0; i < receives; i++) {
                long t0 = System.nanoTime();
                Integer item = channel.receive(STARVATION_LIMIT);
                longestWaitNanos = Math.max(longestWaitNanos, System.nanoTime() - t0);
                if (item == null) {
                    fail("receive " + i + " starved for " + STARVATION_LIMIT + " beside a subscription with unbounded"
                            + " demand (the subscription had " + greedy.itemCount() + " items): " + channel.stats());
                }
                if (item <= last) {
                    fail("receive out of order: " + last + " then " + item);
                }
                last = item;
                received.set(item);
            }
        } finally {
            stop.set(true);
        }
        int sent = producer.join();
        greedy.awaitCompleted();
        long elapsed = System.nanoTime() - start;
        System.out.printf("[fairness] capacity %d: receiver %d, subscription %d of %d items in %d ms; receive"
                        + " average %d us, longest %d us%n", capacity, received.cardinality(), greedy.itemCount(),
                sent, TimeUnit.NANOSECONDS.toMillis(elapsed), TimeUnit.NANOSECONDS.toMicros(elapsed / receives),
                TimeUnit.NANOSECONDS.toMicros(longestWaitNanos));

        assertEachOnce(sent, received, greedy.items());
    }

    /* ---- two subscriptions with equal demand both get items ---- */

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {1, 3, 16})
    void twoSubscriptionsWithEqualDemand_steadyProducer_bothGetItems(int capacity) throws Throwable {
        final int items = 10_000;
        for (long demand : new long[] {items, Long.MAX_VALUE}) {
            Channel<Integer> channel = Channel.bounded(capacity);
            Collector first = new Collector(demand);
            Collector second = new Collector(demand);
            channel.asPublisher().subscribe(first);
            awaitWaitingReceivers(channel, 1);
            channel.asPublisher().subscribe(second);
            awaitWaitingReceivers(channel, 2);
            Forked<Void> producer = fork("steady-producer", () -> {
                for (int i = 0; i < items; i++) {
                    channel.send(i);
                }
                channel.close();
                return null;
            });
            producer.join();
            first.awaitCompleted();
            second.awaitCompleted();
            System.out.printf("[fairness] capacity %d, demand %d each: %d and %d of %d items%n", capacity, demand,
                    first.itemCount(), second.itemCount(), items);

            String split = "capacity " + capacity + ", demand " + demand + ": first got " + first.itemCount()
                    + ", second " + second.itemCount();
            assertTrue(first.itemCount() > 0, "the first subscription starved: " + split);
            assertTrue(second.itemCount() > 0, "the second subscription starved: " + split);
            assertEachOnce(items, first.items(), second.items());
        }
    }

    /* Every item 0..count-1 went to exactly one consumer (each consumer's order is checked as it receives). */
    private static void assertEachOnce(int count, BitSet a, BitSet b) {
        BitSet both = (BitSet) a.clone();
        both.and(b);
        if (!both.isEmpty()) {
            fail("items delivered twice: " + both.stream().limit(10).boxed().toList());
        }
        BitSet all = (BitSet) a.clone();
        all.or(b);
        if (all.cardinality() != count || all.length() != count) {
            BitSet missing = new BitSet();
            missing.set(0, count);
            missing.andNot(all);
            fail(count + " items sent but " + all.cardinality() + " delivered; missing (first 10): "
                    + missing.stream().limit(10).boxed().toList());
        }
    }

    /*
     * A subscriber for long runs: requests `demand` once, marks items in a BitSet written only inside onNext
     * (signals are serial, rule 1.3) and read after onComplete (the latch orders them), and checks that items come
     * in order, never concurrently and never after the end. (RecordingSubscriber copies its list on every item, too
     * slow and too big for millions.)
     */
    static final class Collector implements Subscriber<Integer> {
        private final long demand;
        private final BitSet items = new BitSet();
        private final CountDownLatch completed = new CountDownLatch(1);
        private final AtomicInteger inSignal = new AtomicInteger();
        private final AtomicInteger count = new AtomicInteger();
        private final List<String> violations = new CopyOnWriteArrayList<>();
        private int last = -1;
        private volatile boolean terminated;

        Collector(long demand) {
            this.demand = demand;
        }

        @Override
        public void onSubscribe(Subscription s) {
            s.request(demand);
        }

        @Override
        public void onNext(Integer item) {
            if (inSignal.getAndIncrement() != 0) {
                violations.add("concurrent onNext(" + item + ")");
            }
            if (terminated) {
                violations.add("onNext(" + item + ") after the end");
            }
            if (item <= last) {
                violations.add("out of order: " + last + " then " + item);
            }
            last = item;
            items.set(item);
            count.incrementAndGet();
            inSignal.decrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
            violations.add("onError(" + t + ")");
            terminated = true;
            completed.countDown();
        }

        @Override
        public void onComplete() {
            terminated = true;
            completed.countDown();
        }

        int itemCount() {
            return count.get();
        }

        /** The items, once completed. */
        BitSet items() {
            if (completed.getCount() != 0) {
                throw new IllegalStateException("items() before the end");
            }
            return items;
        }

        void awaitCompleted() throws InterruptedException {
            if (!completed.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("no onComplete within " + PATIENCE + " (" + count + " items)");
            }
            if (!violations.isEmpty()) {
                fail("subscriber saw: " + violations);
            }
        }
    }
}
