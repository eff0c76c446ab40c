package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.internal.ChannelAccess;

/**
 * Issue 17 item 1 in core: the table in {@link ChannelIterator}'s Javadoc, row by row, for {@code hasNext()} and
 * {@code hasNext(Duration)}, with the situation already there when the call starts and arriving while it waits; and a
 * race of {@link ChannelAccess#endIteration} + {@code cancel()} + interrupt (what a {@code throughBlocking} stage's
 * input sees when the downstream cancels) against a consuming loop, in which the loop may only see its iteration
 * end normally.
 */
@Timeout(value = 60, threadMode = SEPARATE_THREAD)
class IteratorEndSignalsTest {

    /** The two ways to ask. */
    enum Ask {
        PLAIN, TIMED;

        boolean hasNext(ChannelIterator<?> it) throws InterruptedException {
            return this == PLAIN ? it.hasNext() : it.hasNext(PATIENCE.multipliedBy(2));
        }
    }

    private static final int RUNNING = 0;
    private static final int FINISHED = 1;
    private static final int INTERRUPTING = 2;
    private static final int INTERRUPTED = 3;

    private static ExecutorService pool;

    @BeforeAll
    static void startPool() {
        pool = RaceTestSupport.racerPool("iterator-end", 1);
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    /* ---- close and drain ---- */

    @ParameterizedTest
    @EnumSource(Ask.class)
    void closedAndDrained_returnsFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("a");
        channel.close();
        try (ChannelIterator<String> it = channel.iterator()) {
            assertTrue(ask.hasNext(it));
            assertEquals("a", it.next());
            assertFalse(ask.hasNext(it));
            assertFalse(ask.hasNext(it), "the end is sticky");
        }
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void closedWhileWaiting_returnsFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> ask.hasNext(it));
        awaitBlockedReceiver(channel, waiting, 1);

        channel.close();

        assertFalse(waiting.join());
    }

    /* ---- fail ---- */

    @ParameterizedTest
    @EnumSource(Ask.class)
    void failed_throwsChannelClosedExceptionCausedByTheFailureEveryTime(Ask ask) {
        Channel<String> channel = Channel.bounded(4);
        IllegalStateException boom = new IllegalStateException("boom");
        channel.fail(boom);
        ChannelIterator<String> it = channel.iterator();

        ChannelClosedException first = assertThrows(ChannelClosedException.class, () -> ask.hasNext(it));
        ChannelClosedException again = assertThrows(ChannelClosedException.class, () -> ask.hasNext(it));

        assertSame(boom, first.getCause());
        assertSame(boom, again.getCause(), "the end is sticky");
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void failedWhileWaiting_throwsChannelClosedExceptionCausedByTheFailure(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> ask.hasNext(it));
        awaitBlockedReceiver(channel, waiting, 1);
        IllegalStateException boom = new IllegalStateException("boom");

        channel.fail(boom);

        ChannelClosedException e = assertThrows(ChannelClosedException.class, waiting::join);
        assertSame(boom, e.getCause());
    }

    /* ---- cancel ---- */

    @ParameterizedTest
    @EnumSource(Ask.class)
    void cancelled_throwsChannelClosedExceptionCausedByACancellationException(Ask ask) {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("lost");
        channel.cancel();
        ChannelIterator<String> it = channel.iterator();

        ChannelClosedException e = assertThrows(ChannelClosedException.class, () -> ask.hasNext(it));

        assertInstanceOf(CancellationException.class, e.getCause());
        assertThrows(ChannelClosedException.class, () -> ask.hasNext(it), "the end is sticky");
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void cancelledWhileWaiting_throwsChannelClosedExceptionCausedByACancellationException(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> ask.hasNext(it));
        awaitBlockedReceiver(channel, waiting, 1);

        channel.cancel();

        ChannelClosedException e = assertThrows(ChannelClosedException.class, waiting::join);
        assertInstanceOf(CancellationException.class, e.getCause());
    }

    /* ---- the iterator closed, or its iteration ended by the channel's owner ---- */

    @ParameterizedTest
    @EnumSource(Ask.class)
    void iteratorClosedWhileWaiting_returnsFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> ask.hasNext(it));
        awaitBlockedReceiver(channel, waiting, 1);

        it.close();

        assertFalse(waiting.join());
        channel.trySend("kept");
        assertEquals("kept", channel.tryReceive(), "closing the iterator left the channel open");
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void iterationEndedWhileWaiting_returnsFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> ask.hasNext(it));
        awaitBlockedReceiver(channel, waiting, 1);

        ChannelAccess.endIteration(it);

        assertFalse(waiting.join());
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void iterationEnded_reservedItemStillReturnedThenFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("reserved");
        ChannelIterator<String> it = channel.iterator();
        assertTrue(ask.hasNext(it));

        ChannelAccess.endIteration(it);

        assertTrue(ask.hasNext(it), "the reserved item is still there");
        assertEquals("reserved", it.next());
        assertFalse(ask.hasNext(it));
    }

    /** What a throughBlocking stage's input sees when the downstream cancels: end, cancel, interrupt, in that order. */
    @ParameterizedTest
    @EnumSource(Ask.class)
    void iterationEndedThenChannelCancelledThenInterrupted_returnsFalseNeverThrows(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> ask.hasNext(it));
        awaitBlockedReceiver(channel, waiting, 1);

        ChannelAccess.endIteration(it);
        channel.cancel();
        waiting.thread().interrupt();

        assertFalse(waiting.join());
        assertFalse(ask.hasNext(it), "still false, not the channel's cancellation");
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void iterationEndedAndChannelCancelledBeforeTheCall_returnsFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        ChannelAccess.endIteration(it);
        channel.cancel();

        assertFalse(ask.hasNext(it));
    }

    /* ---- interrupt ---- */

    @Test
    void interruptedWhileWaiting_plainHasNextThrowsCancellationExceptionCausedByInterruptedException()
            throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", it::hasNext);
        awaitBlockedReceiver(channel, waiting, 1);

        waiting.thread().interrupt();

        CancellationException e = assertThrows(CancellationException.class, waiting::join);
        assertInstanceOf(InterruptedException.class, e.getCause());
        assertTrue(waiting.interruptStatusAtEnd(), "the interrupt status stays set");
        channel.trySend("next");
        assertTrue(it.hasNext(), "the iterator may be used again");
        assertEquals("next", it.next());
    }

    @Test
    void interruptedWhileWaiting_timedHasNextThrowsInterruptedException() throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> waiting = fork("consumer", () -> it.hasNext(PATIENCE.multipliedBy(2)));
        awaitBlockedReceiver(channel, waiting, 1);

        waiting.thread().interrupt();

        assertThrows(InterruptedException.class, waiting::join);
        assertTrue(waiting.interruptStatusAtEnd() || !waiting.thread().isAlive(),
                "InterruptedException clears the status, as Thread.sleep does");
        channel.trySend("next");
        assertTrue(it.hasNext(Duration.ZERO), "the iterator may be used again");
        assertEquals("next", it.next());
    }

    @Test
    void interruptPending_plainHasNextThrowsCancellationAndTakesNothing() throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("stays");
        ChannelIterator<String> it = channel.iterator();
        Forked<Boolean> call = fork("consumer", () -> {
            Thread.currentThread().interrupt();
            return it.hasNext();
        });

        CancellationException e = assertThrows(CancellationException.class, call::join);

        assertInstanceOf(InterruptedException.class, e.getCause());
        assertTrue(call.interruptStatusAtEnd());
        assertEquals("stays", channel.tryReceive(), "no item lost");
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void interruptPendingOnAnEndedChannel_reportsTheEnd(Ask ask) throws Throwable {
        Channel<String> closed = Channel.bounded(4);
        closed.close();
        Channel<String> failed = Channel.bounded(4);
        IllegalStateException boom = new IllegalStateException("boom");
        failed.fail(boom);
        Channel<String> cancelled = Channel.bounded(4);
        cancelled.cancel();
        Forked<List<Object>> call = fork("consumer", () -> {
            List<Object> outcomes = new ArrayList<>();
            for (Channel<String> channel : List.of(closed, failed, cancelled)) {
                Thread.currentThread().interrupt();
                try {
                    outcomes.add(ask.hasNext(channel.iterator()));
                } catch (ChannelClosedException e) {
                    outcomes.add(e.getCause());
                }
                outcomes.add(Thread.currentThread().isInterrupted());
            }
            return outcomes;
        });

        List<Object> outcomes = call.join();

        assertEquals(false, outcomes.get(0), "closed: false");
        assertSame(boom, outcomes.get(2), "failed: the failure");
        assertInstanceOf(CancellationException.class, outcomes.get(4), "cancelled: a CancellationException");
        assertEquals(List.of(true, true, true), List.of(outcomes.get(1), outcomes.get(3), outcomes.get(5)),
                "the interrupt stays pending");
    }

    @ParameterizedTest
    @EnumSource(Ask.class)
    void interruptPendingOnAClosedIterator_returnsFalse(Ask ask) throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        it.close();
        Forked<Boolean> call = fork("consumer", () -> {
            Thread.currentThread().interrupt();
            return ask.hasNext(it);
        });

        assertFalse(call.join());
    }

    /* ---- timeout ---- */

    @Test
    void timedHasNext_timeoutPasses_returnsFalseAndTheIteratorGoesOn() throws InterruptedException {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();

        assertFalse(it.hasNext(Duration.ofMillis(20)));
        assertFalse(it.hasNext(Duration.ZERO));

        channel.trySend("later");
        assertTrue(it.hasNext(Duration.ZERO));
        assertEquals("later", it.next());
    }

    /* ---- the stage's cancel, raced ---- */

    /**
     * A consumer loop ({@code while (hasNext()) next()}, plain or timed) against the order of a throughBlocking
     * cancel: endIteration, cancel(), interrupt. The loop must end by {@code hasNext()} returning false, never by an
     * exception; every item sent is taken by the loop or handed to the undelivered handler, once.
     */
    @ParameterizedTest
    @EnumSource(Ask.class)
    void stageCancel_racingTheConsumerLoop_loopSeesOnlyTheNormalEnd(Ask ask) {
        int rounds = Math.max(500, RaceTestSupport.ROUNDS / 5);
        int stoppedEarly = 0;
        for (int r = 0; r < rounds; r++) {
            String round = ask + " round " + r;
            ConcurrentLinkedQueue<String> undelivered = new ConcurrentLinkedQueue<>();
            Channel<String> channel = Channel.<String>builder().capacity(1 + r % 4)
                    .onUndelivered((item, reason) -> undelivered.add(item)).build();
            ChannelIterator<String> it = channel.iterator();
            List<String> taken = new ArrayList<>();
            AtomicReference<Throwable> seen = new AtomicReference<>();
            AtomicReference<Thread> consumer = new AtomicReference<>();
            AtomicInteger sent = new AtomicInteger();
            int items = r % 7;
            int shift = r % 64;
            for (int i = 0; i < Math.min(items, 1 + r % 4); i++) {
                channel.trySend(round + "/" + i);
                sent.incrementAndGet();
            }
            // the interrupt handshake of throughBlocking's StageRun: interrupt only while the loop runs, and the
            // loop waits out an interrupt in progress and clears it before its (pooled) thread goes on
            AtomicInteger state = new AtomicInteger(RUNNING);
            RaceTestSupport.race(pool, round, () -> {
                RaceTestSupport.spin(shift);
                ChannelAccess.endIteration(it);
                channel.cancel();
                Thread t = consumer.get(); // null: the loop has not started, and will find its iteration ended
                if (t != null && state.compareAndSet(RUNNING, INTERRUPTING)) {
                    try {
                        t.interrupt();
                    } finally {
                        state.set(INTERRUPTED);
                    }
                }
            }, () -> {
                consumer.set(Thread.currentThread());
                try {
                    while (ask.hasNext(it)) {
                        taken.add(it.next());
                    }
                } catch (Throwable t) {
                    seen.set(t);
                }
                if (!state.compareAndSet(RUNNING, FINISHED)) {
                    RaceTestSupport.spinUntil(() -> state.get() != INTERRUPTING);
                    Thread.interrupted();
                }
            });
            if (seen.get() != null) {
                throw new AssertionError(round + ": the loop saw " + seen.get(), seen.get());
            }
            List<String> all = new ArrayList<>(taken);
            all.addAll(undelivered);
            assertEquals(sent.get(), all.size(), round + ": taken " + taken + " undelivered " + undelivered);
            assertEquals(sent.get(), all.stream().distinct().count(), round + ": nothing twice");
            stoppedEarly += taken.size() < sent.get() ? 1 : 0;
        }
        System.out.printf("iterator stage-cancel race (%s): %d rounds, %d ended before taking everything%n", ask,
                rounds, stoppedEarly);
    }
}
