package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelSender;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.test.StepVerifier;

/**
 * Issue 17 item 1 in the bridge: after the downstream of a {@code throughBlocking} stage cancels ({@code take(n)},
 * {@code timeout}, a dispose), the stage sees exactly what {@link BlockingStage}'s Javadoc promises:
 * {@code in.hasNext()} and {@code in.hasNext(Duration)} return {@code false}, never throw; {@code out.send} throws
 * {@link ChannelClosedException}, also while the thread's interrupt is pending. A race over thousands of rounds checks
 * that the stage sees nothing else, whatever the timing, and that every item is delivered or discarded once.
 */
@Timeout(120)
class StageCancelSignalsTest {

    final List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();

    @AfterEach
    void resetHooks() {
        Hooks.resetOnErrorDropped();
    }

    /** What one stage saw, in order: "hasNext=true|false", "send=ok", "send=" + exception class, "ended". */
    static final class Signals {
        final List<String> seen = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        volatile Throwable escaped;

        /** The usual loop, recording every signal; with {@code timed}, hasNext(Duration) instead of hasNext(). */
        <T> BlockingStage<T, T> loop(boolean timed, AtomicInteger taken, AtomicInteger sent) {
            return loop(timed, Function.identity(), taken, sent);
        }

        /** The loop, mapping each item with {@code f}. */
        <T, R> BlockingStage<T, R> loop(boolean timed, Function<T, R> f, AtomicInteger taken, AtomicInteger sent) {
            return (in, out) -> {
                try {
                    while (hasNext(in, timed)) {
                        T item = in.next();
                        taken.incrementAndGet();
                        send(out, f.apply(item));
                        sent.incrementAndGet();
                    }
                } catch (Throwable t) {
                    escaped = t;
                    throw t;
                } finally {
                    ended.countDown();
                }
            };
        }

        <T> boolean hasNext(ChannelIterator<T> in, boolean timed) throws InterruptedException {
            boolean next;
            try {
                next = timed ? in.hasNext(Duration.ofSeconds(30)) : in.hasNext();
            } catch (RuntimeException | InterruptedException e) {
                seen.add("hasNext=" + e.getClass().getSimpleName());
                throw e;
            }
            if (!next) {
                seen.add("hasNext=false");
            }
            return next;
        }

        <T> void send(ChannelSender<T> out, T item) throws InterruptedException {
            try {
                out.send(item);
            } catch (RuntimeException | InterruptedException e) {
                seen.add("send=" + e.getClass().getSimpleName());
                throw e;
            }
        }

        void awaitEnd() throws InterruptedException {
            assertTrue(ended.await(10, TimeUnit.SECONDS), "the stage ended");
        }

        /** The stage's last signal: how it learnt of the cancel. */
        String last() {
            return seen.isEmpty() ? "none" : seen.get(seen.size() - 1);
        }
    }

    /* ---- take(n) ---- */

    @Test
    void take_stageReadingFasterThanItSends_seesHasNextFalseOrSendClosed() throws Exception {
        Hooks.onErrorDropped(droppedErrors::add);
        for (boolean timed : new boolean[] {false, true}) {
            Signals signals = new Signals();
            AtomicInteger taken = new AtomicInteger();
            AtomicInteger sent = new AtomicInteger();
            List<Integer> got = Flux.range(0, 100_000)
                    .transform(ReactorChannels.throughBlocking(8, signals.loop(timed, taken, sent)))
                    .take(100)
                    .collectList()
                    .block(Duration.ofSeconds(30));
            assertEquals(100, got.size());
            signals.awaitEnd();
            String last = signals.last();
            assertTrue(last.equals("hasNext=false") || last.equals("send=ChannelClosedException"),
                    "timed=" + timed + ": the stage saw " + signals.seen);
            if (last.equals("hasNext=false")) {
                assertEquals(null, signals.escaped, "the stage returned normally");
            } else {
                assertInstanceOf(ChannelClosedException.class, signals.escaped);
            }
        }
        assertEquals(List.of(), droppedErrors, "a stage that ends through its channels reports no dropped error");
    }

    @Test
    void take_stageBlockedInHasNext_hasNextReturnsFalse() throws Exception {
        for (boolean timed : new boolean[] {false, true}) {
            Signals signals = new Signals();
            AtomicInteger taken = new AtomicInteger();
            AtomicInteger sent = new AtomicInteger();
            // three items, then the upstream goes quiet: the stage waits in hasNext when take(3) cancels
            List<Integer> got = Flux.just(1, 2, 3).concatWith(Flux.never())
                    .transform(ReactorChannels.throughBlocking(8, signals.loop(timed, taken, sent)))
                    .take(3)
                    .collectList()
                    .block(Duration.ofSeconds(30));
            assertEquals(List.of(1, 2, 3), got);
            signals.awaitEnd();
            assertEquals(List.of("hasNext=false"), signals.seen, "timed=" + timed);
            assertEquals(null, signals.escaped);
        }
    }

    /* ---- timeout ---- */

    @Test
    void timeout_stageBlockedInHasNext_hasNextReturnsFalse() throws Exception {
        for (boolean timed : new boolean[] {false, true}) {
            Signals signals = new Signals();
            AtomicInteger taken = new AtomicInteger();
            AtomicInteger sent = new AtomicInteger();
            StepVerifier.create(Flux.just(1).concatWith(Flux.never())
                            .transform(ReactorChannels.throughBlocking(4, signals.loop(timed, taken, sent)))
                            .timeout(Duration.ofMillis(100)))
                    .expectNext(1)
                    .expectError(TimeoutException.class)
                    .verify(Duration.ofSeconds(10));
            signals.awaitEnd();
            assertEquals(List.of("hasNext=false"), signals.seen, "timed=" + timed);
        }
    }

    @Test
    void timeout_stageBlockedInSend_sendThrowsChannelClosedException() throws Exception {
        Signals signals = new Signals();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        // the downstream asks for 1 and then nothing: the stage fills `out` and blocks in send until the timeout
        StepVerifier.create(Flux.range(0, 1_000)
                        .transform(ReactorChannels.throughBlocking(4, signals.loop(false, taken, sent)))
                        .timeout(Duration.ofMillis(200)), 1)
                .expectNext(0)
                .expectError(TimeoutException.class)
                .verify(Duration.ofSeconds(10));
        signals.awaitEnd();
        assertEquals(List.of("send=ChannelClosedException"), signals.seen);
    }

    /* ---- out.send after the cancel, with the interrupt pending ---- */

    @Test
    void cancel_sendWithTheInterruptPending_throwsChannelClosedExceptionEveryTime() throws Exception {
        Hooks.onErrorDropped(droppedErrors::add);
        CountDownLatch sentOne = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        List<String> outcomes = new CopyOnWriteArrayList<>();
        Flux<Integer> flux = Flux.range(0, 10)
                .transform(ReactorChannels.<Integer, Integer>throughBlocking(2, (in, out) -> {
                    out.send(in.next());
                    sentOne.countDown();
                    try {
                        new CountDownLatch(1).await(); // legacy code that waits on something of its own
                    } catch (InterruptedException e) {
                        outcomes.add("interrupted");
                        Thread.currentThread().interrupt(); // legacy code that restores the status and goes on
                    }
                    for (int i = 0; i < 3; i++) {
                        try {
                            out.send(100 + i);
                            outcomes.add("sent");
                        } catch (ChannelClosedException e) {
                            outcomes.add("closed, interrupt pending: " + Thread.currentThread().isInterrupted());
                        }
                    }
                    outcomes.add("hasNext=" + in.hasNext() + ", hasNext(1s)=" + in.hasNext(Duration.ofSeconds(1)));
                    done.countDown();
                }));
        StepVerifier.create(flux)
                .expectNext(0)
                .then(() -> await(sentOne))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertTrue(done.await(10, TimeUnit.SECONDS), "the stage went on to its end");
        assertEquals(List.of("interrupted", "closed, interrupt pending: true", "closed, interrupt pending: true",
                "closed, interrupt pending: true", "hasNext=false, hasNext(1s)=false"), outcomes);
        assertEquals(List.of(), droppedErrors);
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /* ---- the race ---- */

    /**
     * Thousands of rounds of a cancel at a random moment (a dispose, or take(n) of a random n) against a stage that
     * loops with hasNext() or hasNext(Duration): the stage must end either normally (hasNext false: upstream done or
     * iteration ended) or by out.send's ChannelClosedException, and nothing else; every upstream item is taken by the
     * stage or discarded, every sent item delivered or discarded.
     */
    @Test
    void cancelRacingTheStage_stageSeesOnlyTheDocumentedSignals() throws Exception {
        Hooks.onErrorDropped(droppedErrors::add);
        int rounds = Integer.getInteger("sluice.race.rounds", 3_000);
        Random random = new Random(17);
        int[] endings = new int[4]; // hasNext=false, send closed, completed without a cancel, never started
        for (int round = 0; round < rounds; round++) {
            boolean timed = random.nextBoolean();
            Signals signals = new Signals();
            AtomicLong emitted = new AtomicLong();
            AtomicInteger taken = new AtomicInteger();
            AtomicInteger sent = new AtomicInteger();
            AtomicReference<Thread> thread = new AtomicReference<>();
            Flux<String> flux = Flux.range(0, 30)
                    .doOnNext(i -> emitted.incrementAndGet())
                    .transform(ReactorChannels.throughBlocking(1 + random.nextInt(6),
                            signals.loop(timed, i -> "r" + i, taken, sent), command -> {
                                Thread stage = new Thread(command, "race-stage");
                                thread.set(stage);
                                stage.start();
                            }));
            FluxViewTest.Recorder<String> downstream = new FluxViewTest.Recorder<>(random.nextInt(35));
            flux.subscribe(downstream);
            int spins = random.nextInt(20_000);
            for (int i = 0; i < spins; i++) {
                Thread.onSpinWait();
            }
            downstream.cancel();
            Thread t = thread.get();
            t.join(10_000);
            assertFalse(t.isAlive(), "round " + round + ": the stage thread ended");
            String last = signals.last();
            List<String> seen = new ArrayList<>(signals.seen);
            if (signals.ended.getCount() != 0) {
                // cancelled before the stage started: it never runs (and its channels were released)
                assertEquals(List.of(), seen);
                assertEquals(0, taken.get());
                endings[3]++;
                continue;
            }
            if (signals.escaped != null && !(signals.escaped instanceof ChannelClosedException
                    && last.equals("send=ChannelClosedException"))) {
                fail("round " + round + " (timed=" + timed + "): the stage saw " + seen + ", threw "
                        + signals.escaped);
            }
            if (!last.equals("hasNext=false") && !last.equals("send=ChannelClosedException")) {
                fail("round " + round + " (timed=" + timed + "): the stage saw " + seen);
            }
            if (seen.size() != 1) {
                fail("round " + round + " (timed=" + timed + "): one signal per situation, the stage saw " + seen);
            }
            long discardedIn = downstream.discarded.stream().filter(Integer.class::isInstance).count();
            assertEquals(emitted.get(), taken.get() + discardedIn, "round " + round + ": input taken or discarded");
            long discardedOut = downstream.discarded.stream().filter(String.class::isInstance).count();
            // a send that threw did not count in `sent`: its item was never accepted, the stage's own to drop
            assertEquals(sent.get(), downstream.values.size() + discardedOut,
                    "round " + round + ": output delivered or discarded");
            endings[downstream.completed ? 2 : last.equals("hasNext=false") ? 0 : 1]++;
        }
        assertEquals(List.of(), droppedErrors);
        System.out.printf("throughBlocking signal race: %d rounds: in ended %d, out closed %d, completed first %d, "
                + "cancelled before the stage started %d%n", rounds, endings[0], endings[1], endings[2], endings[3]);
    }
}
