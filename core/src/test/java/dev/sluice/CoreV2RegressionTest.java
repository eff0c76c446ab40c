package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.RaceTestSupport.race;
import static dev.sluice.RaceTestSupport.spin;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Lock;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.ManualPublisher;
import dev.sluice.ContractTestSupport.RecordingHandler;

/**
 * The defects listed in issue 12 (Core v2), each pinned by a test that fails on the core as it was when the issue
 * was filed, for the reason the issue states, so that the rewrite is held to the fix:
 * <ul>
 *   <li>{@code stats().size()} above the capacity under traffic, and the bogus value kept in {@code peakSize};</li>
 *   <li>{@code openSender()} racing the close of the last handle: a handle returned whose channel then closes;</li>
 *   <li>an upstream's own {@code onComplete} rejecting its item still waiting in the send FIFO;</li>
 *   <li>a {@code StackOverflowError} from {@code onUndelivered} during {@code cancel()}: items never handed over, a
 *       blocked {@code send} never woken;</li>
 *   <li>a {@code StackOverflowError} from a subscriber's {@code onNext} surfacing in the producer's call, with the
 *       broken subscription left registered.</li>
 * </ul>
 * The same scenarios with a RuntimeException and a plain Error pass today: {@link UserCallbackErrorTest}.
 */
class CoreV2RegressionTest {

    private static ExecutorService pool;

    @BeforeAll
    static void startPool() {
        pool = RaceTestSupport.racerPool("regression", 2);
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    /* ---- stats().size() never above the capacity ---- */

    /** Items moved per capacity; the test stops at the first bad sample. */
    private static final int STATS_ITEMS = Integer.getInteger("sluice.regression.statsItems", 200_000);
    /** Producers, and as many consumers, beside the sampling thread. */
    private static final int STATS_THREADS = Integer.getInteger("sluice.regression.statsThreads", 2);

    /*
     * Two producers (send) and two consumers (receive) move items while a fifth thread samples stats(): every sample
     * must have 0 <= size <= capacity and peakSize <= capacity. Today stats() reads the consumer and the producer
     * index separately without clamping, so a sampler descheduled between the two reads reports the items moved
     * meanwhile (the issue saw 2-14 at capacity 1 and up to 16,838 at capacity 3), and peakSize keeps the value.
     */
    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {1, 3})
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void stats_sampledWhileProducersAndConsumersRace_sizeAndPeakSizeStayWithinCapacity(int capacity)
            throws Throwable {
        Channel<Integer> channel = Channel.bounded(capacity);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<ChannelStats> bad = new AtomicReference<>();
        AtomicLong samples = new AtomicLong();
        AtomicLong moved = new AtomicLong();
        AtomicLong producersLeft = new AtomicLong(STATS_THREADS);
        long start = System.nanoTime();
        List<Forked<Void>> racers = new ArrayList<>();
        for (int p = 0; p < STATS_THREADS; p++) {
            racers.add(ContractTestSupport.fork("stats-producer-" + p, () -> {
                try {
                    for (int i = 0; i < STATS_ITEMS / STATS_THREADS && !stop.get(); i++) {
                        channel.send(i);
                    }
                } finally {
                    if (producersLeft.decrementAndGet() == 0) {
                        channel.close();
                    }
                }
                return null;
            }));
        }
        for (int c = 0; c < STATS_THREADS; c++) {
            racers.add(ContractTestSupport.fork("stats-consumer-" + c, () -> {
                try {
                    for (;;) {
                        channel.receive();
                        moved.incrementAndGet();
                    }
                } catch (ChannelClosedException end) {
                    return null;
                }
            }));
        }
        Forked<Void> sampler = ContractTestSupport.fork("stats-sampler", () -> {
            while (!channel.isClosedForReceive()) {
                ChannelStats s = channel.stats();
                samples.incrementAndGet();
                if (s.size() < 0 || s.size() > capacity || s.peakSize() > capacity) {
                    bad.compareAndSet(null, s);
                    stop.set(true);
                    return null;
                }
            }
            return null;
        });
        for (Forked<Void> racer : racers) {
            joinLong(racer);
        }
        joinLong(sampler);
        ChannelStats last = channel.stats();
        System.out.printf("[regression] stats at capacity %d: %,d items moved, %,d samples in %d ms, first bad: %s%n",
                capacity, moved.get(), samples.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                bad.get());
        ChannelStats firstBad = bad.get();
        assertAll("stats() of a capacity-" + capacity + " channel under traffic",
                () -> {
                    if (firstBad != null) {
                        fail("a stats() sample reported size " + firstBad.size() + " / peakSize "
                                + firstBad.peakSize() + " at capacity " + capacity + " (after " + moved.get()
                                + " items): " + firstBad);
                    }
                },
                () -> assertTrue(last.peakSize() <= capacity, "peakSize must never exceed the capacity: " + last),
                () -> assertEquals(0, last.size(), last.toString()),
                () -> assertEquals(moved.get(), last.sent(), "every accepted item received: " + last),
                () -> assertEquals(moved.get(), last.received(), last.toString()));
    }

    private static void joinLong(Forked<?> forked) throws Throwable {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(100);
        while (!forked.isDone() && System.nanoTime() < deadline) {
            forked.thread().join(1_000);
        }
        forked.join();
    }

    /* ---- openSender() vs the close of the last handle ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void openSender_racingTheCloseOfTheLastHandle_refusesOnlyAClosedChannelAndAReturnedHandleSends() {
        int rounds = RaceTestSupport.ROUNDS * 2;
        SplittableRandom random = new SplittableRandom(12);
        int opened = 0;
        int refused = 0;
        int broken = 0;
        String firstBroken = null;
        long start = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            String round = "openSender vs last close, round " + r;
            Channel<Integer> channel = Channel.bounded(2);
            ChannelSender<Integer> last = channel.openSender();
            AtomicReference<ChannelSender<Integer>> handle = new AtomicReference<>();
            AtomicReference<ChannelClosedException> refusal = new AtomicReference<>();
            int closeDelay = random.nextInt(48);
            int openDelay = random.nextInt(48);
            int noiseDelay = random.nextInt(16);
            race(pool, round,
                    () -> {
                        spin(closeDelay);
                        last.close();
                    },
                    () -> {
                        spin(openDelay);
                        try {
                            handle.set(channel.openSender());
                        } catch (ChannelClosedException e) {
                            refusal.set(e);
                        }
                    },
                    () -> {
                        // takes the channel's lock now and then, so that the close of the last handle sometimes
                        // waits for it: that widens the window between the count reaching zero and the close
                        spin(noiseDelay);
                        for (int i = 0; i < 8; i++) {
                            channel.stats();
                        }
                    });
            ChannelSender<Integer> opener = handle.get();
            if (opener == null) {
                refused++;
                if (refusal.get() == null || !channel.isClosedForSend()) {
                    fail(round + ": openSender threw " + refusal.get() + " but the channel is " + channel.state());
                }
                continue;
            }
            opened++;
            // `last` is closed and `opener` is open: the channel must be open and the handle must send
            SendResult result = channel.isClosedForSend() ? SendResult.CLOSED : opener.trySend(r);
            if (result != SendResult.OK) {
                broken++;
                if (firstBroken == null) {
                    firstBroken = round + ": openSender() returned a handle, the other handle was closed, and"
                            + " the channel is " + channel.state() + " (handle's trySend: " + result + ")";
                }
            } else {
                opener.close();
                if (!channel.isClosedForSend()) {
                    fail(round + ": closing the last handle must close the channel, but it is " + channel.state());
                }
            }
        }
        System.out.printf("[regression] openSender vs last close: %,d rounds in %d ms: opened %,d, refused %,d,"
                        + " handle on a closed channel %,d%n", rounds,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), opened, refused, broken);
        if (broken > 0) {
            fail("in " + broken + " of " + opened + " rounds where openSender() returned a handle, the channel"
                    + " closed under it; first: " + firstBroken);
        }
        assertTrue(opened > 0 && refused > 0, "both orders must occur: opened " + opened + ", refused " + refused);
    }

    /*
     * The same interleaving made to happen on every run. The window of the race above is a few instructions (the
     * count reaching zero, then the close taking the channel's lock and setting the mode), and on a loaded 2-vCPU
     * machine the racers often do not overlap at all. Here the test holds the channel's internal lock (found by
     * reflection, if the implementation has one) while the last handle is closed and openSender() is called, then
     * lets go. The assertions are the contract only; on an implementation without such a lock the test is a plain
     * sequential check of the same contract.
     */
    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void openSender_whileTheCloseOfTheLastHandleIsHeldUp_refusesOrReturnsAHandleThatSends() throws Throwable {
        Channel<Integer> channel = Channel.bounded(2);
        ChannelSender<Integer> last = channel.openSender();
        Lock lock = internalLock(channel);
        Forked<Void> closer;
        Forked<ChannelSender<Integer>> opener;
        if (lock != null) {
            lock.lock();
        }
        try {
            closer = ContractTestSupport.fork("close-last-handle", () -> {
                last.close();
                return null;
            });
            awaitDoneOrParked(closer);
            opener = ContractTestSupport.fork("openSender", channel::openSender);
            awaitDoneOrParked(opener);
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
        closer.join();
        ChannelSender<Integer> handle;
        try {
            handle = opener.join();
        } catch (ChannelClosedException refused) {
            assertTrue(channel.isClosedForSend(), "openSender threw " + refused + " on a channel that is "
                    + channel.state());
            return;
        }
        assertEquals(ChannelState.OPEN, channel.state(), "openSender() returned a handle while the other (last)"
                + " handle was being closed, and then the channel closed under it: the count change and the close"
                + " must be one step");
        assertEquals(SendResult.OK, handle.trySend(1), "a handle returned by openSender() sends until it is closed");
        handle.close();
        assertTrue(channel.isClosedForSend(), "closing the last handle closes the channel: " + channel.state());
    }

    /* The first java.util.concurrent.locks.Lock held by the channel or by an object it holds directly; or null. */
    private static Lock internalLock(Channel<?> channel) throws IllegalAccessException {
        for (Field f : channel.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                continue;
            }
            f.setAccessible(true);
            Object value = f.get(channel);
            if (value instanceof Lock) {
                return (Lock) value;
            }
            if (value == null || !value.getClass().getName().startsWith("dev.sluice.")) {
                continue;
            }
            for (Field g : value.getClass().getDeclaredFields()) {
                if (!Modifier.isStatic(g.getModifiers()) && Lock.class.isAssignableFrom(g.getType())) {
                    g.setAccessible(true);
                    return (Lock) g.get(value);
                }
            }
        }
        return null;
    }

    private static void awaitDoneOrParked(Forked<?> forked) {
        ContractTestSupport.awaitCondition(forked.thread().getName() + " to finish or park", () -> {
            Thread.State state = forked.thread().getState();
            return forked.isDone() || state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
        });
    }

    /* ---- an upstream's completion vs its own item waiting for a slot ---- */

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"asSubscriber", "asFlowSubscriber"})
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void upstream_completesWhileItsItemWaitsForTheSlot_itemIsDeliveredAfterTheSlotFrees(String door)
            throws Exception {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(1).onUndelivered(handler).build();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        if (door.equals("asSubscriber")) {
            upstream.subscribe(channel.asSubscriber());
        } else {
            upstream.subscribe(channel.asFlowSubscriber());
        }
        assertEquals(1, upstream.requested(), "an empty capacity-1 channel grants its upstream one item");

        assertEquals(SendResult.OK, channel.trySend("direct"), "a direct sender takes the slot first");
        upstream.push("upstream");
        assertEquals(1, upstream.emitted(), "the upstream emits its item within demand");
        upstream.complete();

        assertAll("capacity 1, slot taken by a direct send, upstream emits one granted item and completes",
                () -> assertEquals(List.of(), handler.calls(), "the upstream's own onComplete must not reject its"
                        + " accepted-for-delivery item: it waits in the FIFO and goes in when the slot frees"),
                () -> assertEquals("direct", channel.receive(PATIENCE)),
                () -> assertEquals("upstream", channel.receive(PATIENCE),
                        "the upstream's item must be delivered after the slot frees"),
                () -> assertThrows(ChannelClosedException.class, () -> channel.receive(PATIENCE),
                        "then the completion closes the channel"),
                () -> assertEquals(ChannelState.COMPLETED, channel.state()),
                () -> assertEquals(0, channel.stats().undelivered(), channel.stats().toString()));
    }

    /* ---- errors from user code (StackOverflowError) ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void cancel_onUndeliveredThrowsStackOverflowError_everyItemHandedOverAndEveryWaiterWakes() throws Exception {
        UserCallbackFaults.cancel_withHandlerThrowingOnEveryItem(
                () -> new StackOverflowError("injected from onUndelivered"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(UserCallbackFaults.Producer.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void onNext_throwsStackOverflowErrorInsideTheProducersCall_producerUnaffectedAndSubscriptionDropped(
            UserCallbackFaults.Producer producer) throws Exception {
        UserCallbackFaults.onNext_throwingInsideTheProducersCall(producer,
                () -> new StackOverflowError("injected from onNext"));
    }
}
