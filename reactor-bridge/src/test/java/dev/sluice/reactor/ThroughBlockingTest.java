package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ChannelClosedException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

@Timeout(60)
class ThroughBlockingTest {

    /** The thread that ran the last stage or producer. */
    final AtomicReference<Thread> stageThread = new AtomicReference<>();
    /** How the last stage ended: its exception, or null if it returned. */
    final AtomicReference<Throwable> stageEnd = new AtomicReference<>();
    final List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();
    final List<Object> discarded = new CopyOnWriteArrayList<>();

    @AfterEach
    void resetHooks() {
        Hooks.resetOnErrorDropped();
    }

    private void recordDroppedErrors() {
        Hooks.onErrorDropped(droppedErrors::add);
    }

    /** Spins (yielding) until the condition holds; fails after 10 s. */
    static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.yield();
        }
    }

    /** Wraps a stage to record its thread and how it ended. */
    private <T, R> BlockingStage<T, R> recorded(BlockingStage<T, R> stage) {
        return (in, out) -> {
            stageThread.set(Thread.currentThread());
            try {
                stage.run(in, out);
                stageEnd.set(null);
            } catch (Throwable t) {
                stageEnd.set(t);
                throw t;
            }
        };
    }

    private void assertStageThreadTerminated() throws InterruptedException {
        Thread t = stageThread.get();
        assertNotNull(t, "the stage ran");
        t.join(10_000);
        assertFalse(t.isAlive(), "the stage thread " + t + " must have terminated");
    }

    private long discardedOf(Class<?> type) {
        return discarded.stream().filter(type::isInstance).count();
    }

    /* ---- throughBlocking: data ---- */

    @Test
    void throughBlocking_everyItem_arrivesMappedAndInOrder() throws Exception {
        List<Integer> got = Flux.range(0, 10_000)
                .transform(ReactorChannels.<Integer, Integer>throughBlocking(16, recorded((in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next() * 2);
                    }
                })))
                .collectList()
                .block(Duration.ofSeconds(30));
        assertEquals(IntStream.range(0, 10_000).map(i -> i * 2).boxed().collect(Collectors.toList()), got);
        assertStageThreadTerminated();
    }

    @Test
    void throughBlocking_slowDownstream_upstreamDemandNeverExceedsCapacityPlusTaken() throws Exception {
        int capacity = 4;
        TestPublisher<Integer> upstream = TestPublisher.createCold();
        for (int i = 0; i < 100; i++) {
            upstream.next(i);
        }
        upstream.complete();
        AtomicLong requested = new AtomicLong();
        AtomicLong emitted = new AtomicLong();
        AtomicInteger taken = new AtomicInteger();   // items the stage removed from `in` (hasNext() == true)
        AtomicInteger sent = new AtomicInteger();    // items the stage's out.send accepted
        List<String> violations = new CopyOnWriteArrayList<>();
        Flux<Integer> source = upstream.flux()
                .doOnRequest(n -> {
                    long total = requested.addAndGet(n);
                    // a request may be made inside hasNext(), after it removed an item and before taken counts it
                    if (total > capacity + taken.get() + 1) {
                        violations.add("requested " + total + " with taken " + taken.get());
                    }
                })
                .doOnNext(i -> emitted.incrementAndGet());
        Flux<Integer> flux = source.transform(ReactorChannels.throughBlocking(capacity, recorded((in, out) -> {
            while (in.hasNext()) {
                taken.incrementAndGet();
                out.send(in.next());
                sent.incrementAndGet();
            }
        })));
        StepVerifier.create(flux, 0)
                .expectSubscription()
                // out holds `capacity`, the stage holds one more in a blocked send, `in` fills up behind it
                .then(() -> await(() -> taken.get() == capacity + 1 && emitted.get() == 2 * capacity + 1,
                        "the pipeline is full"))
                .then(() -> {
                    assertEquals(capacity, sent.get());
                    assertEquals(2L * capacity + 1, requested.get(), "upstream asked for in's slots only");
                    upstream.assertMaxRequested(0); // nothing outstanding while the stage is stuck
                })
                .thenRequest(10)
                .expectNextCount(10)
                .then(() -> await(() -> taken.get() == capacity + 11 && emitted.get() == 2 * capacity + 11,
                        "the pipeline is full again"))
                .then(() -> assertTrue(requested.get() <= capacity + taken.get(), "requested " + requested))
                .thenRequest(Long.MAX_VALUE)
                .expectNextCount(90)
                .verifyComplete();
        assertEquals(List.of(), violations);
        assertEquals(100, taken.get());
        assertStageThreadTerminated();
        upstream.assertNoRequestOverflow();
        System.out.printf("throughBlocking demand: capacity %d, upstream requested %d in total for %d items%n",
                capacity, requested.get(), taken.get());
    }

    /* ---- throughBlocking: the four error/cancel paths ---- */

    @Test
    void throughBlocking_upstreamError_stageSeesItInHasNextAndDownstreamGetsIt() throws Exception {
        IllegalStateException boom = new IllegalStateException("upstream broke");
        AtomicInteger taken = new AtomicInteger();
        Flux<Integer> flux = Flux.range(0, 10).concatWith(Flux.error(boom))
                .transform(ReactorChannels.throughBlocking(4, recorded((in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next());
                        taken.incrementAndGet();
                    }
                })));
        StepVerifier.create(flux)
                .expectNext(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
                .expectErrorSatisfies(e -> assertSame(boom, e, "the upstream's own error"))
                .verify(Duration.ofSeconds(10));
        assertStageThreadTerminated();
        assertInstanceOf(ChannelClosedException.class, stageEnd.get(), "hasNext() threw");
        assertSame(boom, stageEnd.get().getCause());
        assertEquals(10, taken.get(), "no item lost or duplicated");
    }

    @Test
    void throughBlocking_stageThrows_downstreamGetsItAfterSentItemsAndUpstreamIsCancelled() throws Exception {
        IllegalStateException legacy = new IllegalStateException("legacy code failed");
        AtomicLong emitted = new AtomicLong();
        AtomicBoolean upstreamCancelled = new AtomicBoolean();
        Flux<String> flux = Flux.range(0, 1_000)
                .doOnNext(i -> emitted.incrementAndGet())
                .doOnCancel(() -> upstreamCancelled.set(true))
                .transform(ReactorChannels.<Integer, String>throughBlocking(8, recorded((in, out) -> {
                    for (int i = 0; i < 5; i++) {
                        out.send("r" + in.next());
                    }
                    throw legacy;
                })))
                .doOnDiscard(Object.class, discarded::add);
        StepVerifier.create(flux)
                .expectNext("r0", "r1", "r2", "r3", "r4")
                .expectErrorSatisfies(e -> assertSame(legacy, e))
                .verify(Duration.ofSeconds(10));
        assertStageThreadTerminated();
        assertTrue(upstreamCancelled.get(), "upstream cancelled");
        assertEquals(emitted.get(), 5 + discardedOf(Integer.class), "emitted = taken + discarded input");
        assertEquals(0, discardedOf(String.class));
    }

    @Test
    void throughBlocking_stageReturnsEarly_downstreamCompletesAndUnreadInputIsDiscarded() throws Exception {
        AtomicLong emitted = new AtomicLong();
        AtomicBoolean upstreamCancelled = new AtomicBoolean();
        Flux<String> flux = Flux.range(0, 1_000)
                .doOnNext(i -> emitted.incrementAndGet())
                .doOnCancel(() -> upstreamCancelled.set(true))
                .transform(ReactorChannels.<Integer, String>throughBlocking(8, recorded((in, out) -> {
                    for (int i = 0; i < 3; i++) {
                        out.send("r" + in.next());
                    }
                })))
                .doOnDiscard(Object.class, discarded::add);
        StepVerifier.create(flux).expectNext("r0", "r1", "r2").verifyComplete();
        assertStageThreadTerminated();
        assertTrue(upstreamCancelled.get(), "upstream cancelled");
        assertEquals(emitted.get(), 3 + discardedOf(Integer.class), "emitted = taken + discarded input");
    }

    @Test
    void throughBlocking_downstreamCancel_upstreamCancelledStageEndsNothingLost() throws Exception {
        recordDroppedErrors();
        AtomicLong emitted = new AtomicLong();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger delivered = new AtomicInteger();
        CountDownLatch upstreamCancelled = new CountDownLatch(1);
        Flux<String> flux = Flux.range(0, 1_000_000)
                .doOnNext(i -> emitted.incrementAndGet())
                .doOnCancel(upstreamCancelled::countDown)
                .transform(ReactorChannels.<Integer, String>throughBlocking(8, recorded((in, out) -> {
                    while (in.hasNext()) {
                        Integer x = in.next();
                        taken.incrementAndGet();
                        out.send("r" + x);
                        sent.incrementAndGet();
                    }
                })))
                .doOnNext(s -> delivered.incrementAndGet())
                .doOnDiscard(Object.class, discarded::add);
        StepVerifier.create(flux, 0)
                .thenRequest(10)
                .expectNextCount(10)
                .then(() -> await(() -> sent.get() == 18, "the stage fills out and blocks"))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertTrue(upstreamCancelled.await(10, TimeUnit.SECONDS), "upstream cancelled");
        assertStageThreadTerminated();
        Throwable end = stageEnd.get();
        assertTrue(end instanceof ChannelClosedException || end instanceof CancellationException,
                "the stage ended through its channels: " + end);
        assertEquals(emitted.get(), taken.get() + discardedOf(Integer.class), "input: taken or discarded");
        assertEquals(sent.get(), delivered.get() + discardedOf(String.class), "output: delivered or discarded");
        assertEquals(10, delivered.get());
        assertEquals(List.of(), droppedErrors, "expected cancellation errors are not reported as dropped");
    }

    @Test
    void throughBlocking_downstreamCancelWhileStageBlocksElsewhere_interruptsIt() throws Exception {
        recordDroppedErrors();
        CountDownLatch blocked = new CountDownLatch(1);
        Flux<Integer> flux = Flux.range(0, 100)
                .transform(ReactorChannels.throughBlocking(4, recorded((in, out) -> {
                    out.send(in.next());
                    blocked.countDown();
                    new CountDownLatch(1).await(); // legacy code stuck in a wait of its own
                })));
        StepVerifier.create(flux)
                .expectNext(0)
                .then(() -> assertTrue(await(blocked)))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertStageThreadTerminated();
        assertInstanceOf(InterruptedException.class, stageEnd.get());
        assertEquals(List.of(), droppedErrors);
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void throughBlocking_cancelRacingTheStage_conservesItemsAndEndsTheThread() throws Exception {
        recordDroppedErrors();
        int rounds = 1_000;
        java.util.Random random = new java.util.Random(42);
        int completedRounds = 0;
        for (int round = 0; round < rounds; round++) {
            AtomicLong emitted = new AtomicLong();
            AtomicInteger taken = new AtomicInteger();
            AtomicInteger sent = new AtomicInteger();
            AtomicReference<Thread> thread = new AtomicReference<>();
            Flux<String> flux = Flux.range(0, 40)
                    .doOnNext(i -> emitted.incrementAndGet())
                    .transform(ReactorChannels.<Integer, String>throughBlocking(1 + random.nextInt(8), (in, out) -> {
                        while (in.hasNext()) {
                            Integer x = in.next();
                            taken.incrementAndGet();
                            out.send("r" + x);
                            sent.incrementAndGet();
                        }
                    }, command -> { // a thread per run that we can join, even when the stage never starts
                        Thread stage = new Thread(command, "race-stage");
                        thread.set(stage);
                        stage.start();
                    }));
            FluxViewTest.Recorder<String> downstream = new FluxViewTest.Recorder<>(random.nextInt(45));
            flux.subscribe(downstream);
            int spins = random.nextInt(20_000);
            for (int i = 0; i < spins; i++) {
                Thread.onSpinWait();
            }
            downstream.cancel();
            Thread t = thread.get(); // started inside subscribe()
            t.join(10_000);
            assertFalse(t.isAlive(), "round " + round + ": the stage thread ended");
            long discardedIn = downstream.discarded.stream().filter(Integer.class::isInstance).count();
            long discardedOut = downstream.discarded.stream().filter(String.class::isInstance).count();
            assertEquals(emitted.get(), taken.get() + discardedIn, "round " + round + ": input taken or discarded");
            assertEquals(sent.get(), downstream.values.size() + discardedOut,
                    "round " + round + ": output delivered or discarded");
            assertEquals(downstream.values.size(), downstream.valueSet().size(), "nothing twice");
            completedRounds += downstream.completed ? 1 : 0;
        }
        assertEquals(List.of(), droppedErrors);
        System.out.printf("throughBlocking cancel race: %d rounds, %d completed before the cancel%n", rounds,
                completedRounds);
    }

    /* ---- throughBlocking: threads and executors ---- */

    @Test
    void throughBlocking_defaultThread_isVirtualOnJdk21ElseNamedDaemon() throws Exception {
        Flux.range(0, 3)
                .transform(ReactorChannels.throughBlocking(2, recorded((in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next());
                    }
                })))
                .blockLast(Duration.ofSeconds(10));
        Thread t = stageThread.get();
        boolean virtual = isVirtual(t);
        if (Runtime.version().feature() >= 21) {
            assertTrue(virtual, "virtual thread on JDK " + Runtime.version());
        } else {
            assertFalse(virtual);
            assertTrue(t.isDaemon());
        }
        assertTrue(t.getName().startsWith("sluice-stage-"), t.getName());
        assertEquals(virtual, StageThreads.virtual());
        assertStageThreadTerminated();
    }

    static boolean isVirtual(Thread t) {
        try {
            return (boolean) Thread.class.getMethod("isVirtual").invoke(t);
        } catch (NoSuchMethodException e) {
            return false;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void throughBlocking_userExecutor_runsThereAndLeavesNoInterruptBehind() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "legacy-pool"));
        try {
            CountDownLatch blocked = new CountDownLatch(1);
            Flux<Integer> flux = Flux.range(0, 100)
                    .transform(ReactorChannels.throughBlocking(4, recorded((in, out) -> {
                        out.send(in.next());
                        blocked.countDown();
                        new CountDownLatch(1).await();
                    }), pool));
            StepVerifier.create(flux)
                    .expectNext(0)
                    .then(() -> assertTrue(await(blocked)))
                    .thenCancel()
                    .verify(Duration.ofSeconds(10));
            assertEquals("legacy-pool", stageThread.get().getName());
            Future<?> stageDone = pool.submit(() -> { }); // single thread: runs after the stage has returned
            stageDone.get(10, TimeUnit.SECONDS);
            assertInstanceOf(InterruptedException.class, stageEnd.get());
            // the pool thread runs its next task without a stale interrupt
            assertFalse(pool.submit(() -> Thread.currentThread().isInterrupted()).get(10, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void throughBlocking_rejectingExecutor_failsDownstreamAndCancelsUpstream() {
        AtomicBoolean upstreamCancelled = new AtomicBoolean();
        Flux<Integer> flux = Flux.range(0, 100)
                .doOnCancel(() -> upstreamCancelled.set(true))
                .transform(ReactorChannels.throughBlocking(4, (in, out) -> fail("never runs"), command -> {
                    throw new RejectedExecutionException("pool is full");
                }));
        StepVerifier.create(flux).expectError(RejectedExecutionException.class).verify(Duration.ofSeconds(10));
        assertTrue(upstreamCancelled.get());
    }

    @Test
    void throughBlocking_stageOnANonBlockingThread_failsWithTheGuardMessage() {
        Flux<Integer> flux = Flux.range(0, 10)
                .transform(ReactorChannels.throughBlocking(4, (in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next());
                    }
                }, command -> Schedulers.parallel().schedule(command)));
        StepVerifier.create(flux)
                .expectErrorSatisfies(e -> {
                    assertInstanceOf(IllegalStateException.class, e);
                    assertTrue(e.getMessage().contains("ChannelIterator.hasNext()"), e.getMessage());
                    assertTrue(e.getMessage().contains("Schedulers.boundedElastic()"), e.getMessage());
                })
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void throughBlocking_twoSubscriptions_runTheStageTwice() {
        AtomicInteger runs = new AtomicInteger();
        Flux<Integer> flux = Flux.range(0, 5)
                .transform(ReactorChannels.throughBlocking(2, (in, out) -> {
                    runs.incrementAndGet();
                    while (in.hasNext()) {
                        out.send(in.next());
                    }
                }));
        StepVerifier.create(flux).expectNextCount(5).verifyComplete();
        StepVerifier.create(flux).expectNextCount(5).verifyComplete();
        assertEquals(2, runs.get());
    }

    @Test
    void throughBlocking_badArguments_throwNamingThem() {
        BlockingStage<Object, Object> stage = (in, out) -> { };
        assertEquals("capacity must be >= 1 but was 0", assertThrows(IllegalArgumentException.class,
                () -> ReactorChannels.throughBlocking(0, stage)).getMessage());
        assertEquals("stage", assertThrows(NullPointerException.class,
                () -> ReactorChannels.throughBlocking(1, null)).getMessage());
        assertEquals("executor", assertThrows(NullPointerException.class,
                () -> ReactorChannels.throughBlocking(1, stage, null)).getMessage());
    }

    /* ---- fromBlocking ---- */

    @Test
    void fromBlocking_sendsBlockUntilTheSubscriberRequests() throws Exception {
        AtomicInteger sent = new AtomicInteger();
        Flux<Integer> flux = ReactorChannels.fromBlocking(4, out -> {
            stageThread.set(Thread.currentThread());
            for (int i = 0; i < 100; i++) {
                out.send(i);
                sent.incrementAndGet();
            }
        });
        StepVerifier.create(flux, 0)
                .then(() -> await(() -> sent.get() == 4, "the channel is full"))
                .thenRequest(3)
                .expectNext(0, 1, 2)
                .then(() -> await(() -> sent.get() == 7, "three more sent"))
                .then(() -> assertEquals(7, sent.get()))
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(IntStream.range(3, 100).boxed().collect(Collectors.toList()))
                .verifyComplete();
        assertStageThreadTerminated();
    }

    @Test
    void fromBlocking_producerThrows_subscriberGetsItAfterTheSentItems() throws Exception {
        IllegalStateException broken = new IllegalStateException("reader broke");
        Flux<Integer> flux = ReactorChannels.fromBlocking(4, out -> {
            stageThread.set(Thread.currentThread());
            out.send(1);
            out.send(2);
            throw broken;
        });
        StepVerifier.create(flux).expectNext(1, 2).expectErrorSatisfies(e -> assertSame(broken, e))
                .verify(Duration.ofSeconds(10));
        assertStageThreadTerminated();
    }

    @Test
    void fromBlocking_cancel_producerSendFailsThreadEndsNothingLost() throws Exception {
        recordDroppedErrors();
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger delivered = new AtomicInteger();
        Flux<Integer> flux = ReactorChannels.<Integer>fromBlocking(8, out -> {
            stageThread.set(Thread.currentThread());
            try {
                for (int i = 0; ; i++) {
                    out.send(i);
                    sent.incrementAndGet();
                }
            } catch (Throwable t) {
                stageEnd.set(t);
                throw t;
            }
        }).doOnNext(i -> delivered.incrementAndGet()).doOnDiscard(Object.class, discarded::add);
        StepVerifier.create(flux, 5)
                .expectNextCount(5)
                .then(() -> await(() -> sent.get() == 13, "the producer fills the channel"))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertStageThreadTerminated();
        assertTrue(stageEnd.get() instanceof ChannelClosedException || stageEnd.get() instanceof InterruptedException,
                String.valueOf(stageEnd.get()));
        assertEquals(sent.get(), delivered.get() + discarded.size(), "sent = delivered + discarded");
        assertEquals(8, discarded.size());
        assertEquals(List.of(), droppedErrors);
    }

    @Test
    void fromBlocking_badArguments_throwNamingThem() {
        assertEquals("capacity must be >= 1 but was -3", assertThrows(IllegalArgumentException.class,
                () -> ReactorChannels.fromBlocking(-3, out -> { })).getMessage());
        assertEquals("producer", assertThrows(NullPointerException.class,
                () -> ReactorChannels.fromBlocking(1, null)).getMessage());
        assertEquals("executor", assertThrows(NullPointerException.class,
                () -> ReactorChannels.fromBlocking(1, out -> { }, null)).getMessage());
    }
}
