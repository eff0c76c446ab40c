package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * What the channel writes to its logger, {@code System.getLogger("dev.sluice.Channel")} (java.util.logging here):
 * a throwing {@code onUndelivered} is logged once with its stack trace and then summarized with counts, naming the
 * reason (issue 17 item 2); a misused {@code asSubscriber()} is logged once at INFO with the reason (item 5).
 */
@Timeout(30)
class ChannelLogTest {

    private final Logger logger = Logger.getLogger("dev.sluice.Channel");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Level levelBefore;
    private boolean parentHandlersBefore;

    @BeforeEach
    void capture() {
        levelBefore = logger.getLevel();
        parentHandlersBefore = logger.getUseParentHandlers();
        logger.setLevel(Level.ALL);
        logger.setUseParentHandlers(false); // keep the expected stack trace out of the build log
        logger.addHandler(capture);
    }

    @AfterEach
    void release() {
        logger.removeHandler(capture);
        logger.setLevel(levelBefore);
        logger.setUseParentHandlers(parentHandlersBefore);
    }

    private String lines() {
        return records.stream().map(r -> r.getLevel() + " " + r.getMessage() + (r.getThrown() == null ? ""
                : " [" + r.getThrown() + "]")).collect(Collectors.joining("\n"));
    }

    /* ---- item 2: a throwing onUndelivered ---- */

    @Test
    void cancelOf100_handlerThrowingOnEveryItem_oneStackTraceThenASummaryNamingTheReason() {
        AtomicInteger handed = new AtomicInteger();
        Channel<Integer> channel = Channel.<Integer>builder().capacity(100).onUndelivered((item, reason) -> {
            handed.incrementAndGet();
            throw new IllegalStateException("release failed for " + item);
        }).build();
        for (int i = 0; i < 100; i++) {
            channel.trySend(i);
        }

        channel.cancel();

        assertEquals(100, handed.get(), "every item was handed over");
        assertEquals(100, channel.stats().callbackFailures());
        List<LogRecord> withStack = records.stream().filter(r -> r.getThrown() != null).collect(Collectors.toList());
        assertEquals(1, withStack.size(), lines());
        LogRecord first = withStack.get(0);
        assertEquals(Level.WARNING, first.getLevel());
        assertTrue(first.getMessage().contains("onUndelivered(CANCELLED)"), first.getMessage());
        assertEquals("release failed for 0", first.getThrown().getMessage());
        List<LogRecord> summaries = records.stream().filter(r -> r.getThrown() == null).collect(Collectors.toList());
        assertEquals(1, summaries.size(), "the rest in one summary line: " + lines());
        String summary = summaries.get(0).getMessage();
        assertEquals(Level.WARNING, summaries.get(0).getLevel());
        assertTrue(summary.contains("onUndelivered(CANCELLED)"), summary);
        assertTrue(summary.contains("99 more"), summary);
        assertTrue(summary.contains("100 in all"), summary);
        assertTrue(summary.contains("release failed for 99"), "the latest failure: " + summary);
    }

    @Test
    void cancel_handlerThrowingOnce_onlyTheStackTrace() {
        Channel<Integer> channel = Channel.<Integer>builder().capacity(8).onUndelivered((item, reason) -> {
            if (item == 3) {
                throw new IllegalStateException("only item 3");
            }
        }).build();
        for (int i = 0; i < 8; i++) {
            channel.trySend(i);
        }

        channel.cancel();

        assertEquals(1, records.size(), lines());
        assertNotNull(records.get(0).getThrown());
    }

    @Test
    void cancel_handlerThatDoesNotThrow_logsNothing() {
        Channel<Integer> channel = Channel.<Integer>builder().capacity(8).onUndelivered((item, reason) -> { })
                .build();
        channel.trySend(1);

        channel.cancel();

        assertEquals("", lines());
    }

    @Test
    void rejectedItems_handlerThrowing_summaryNamesRejected() {
        Channel<Integer> channel = Channel.<Integer>builder().capacity(4).onUndelivered((item, reason) -> {
            throw new IllegalStateException("cannot release " + item);
        }).build();
        channel.close();
        Subscriber<Integer> sink = channel.asSubscriber();
        // a hostile upstream that sends without being asked: every item is REJECTED, the handler throws each time
        sink.onSubscribe(new NoopSubscription());
        for (int i = 0; i < 5; i++) {
            sink.onNext(i);
        }

        assertEquals(5, channel.stats().callbackFailures());
        LogRecord first = records.stream().filter(r -> r.getThrown() != null).findFirst().orElseThrow();
        assertTrue(first.getMessage().contains("onUndelivered(REJECTED)"), lines());
    }

    /* ---- item 5: asSubscriber() misuse ---- */

    @Test
    void asSubscriber_subscribedTwice_secondIsCancelledAndLoggedOnceAtInfo() {
        Channel<Integer> channel = Channel.bounded(4);
        Subscriber<Integer> sink = channel.asSubscriber();
        NoopSubscription first = new NoopSubscription();
        NoopSubscription second = new NoopSubscription();
        sink.onSubscribe(first);

        sink.onSubscribe(second);

        assertTrue(second.cancelled, "rule 2.5: the second subscription is cancelled");
        assertTrue(!first.cancelled && first.requested > 0, "the first one goes on");
        assertEquals(1, records.size(), lines());
        LogRecord record = records.get(0);
        assertEquals(Level.INFO, record.getLevel());
        assertNull(record.getThrown());
        assertTrue(record.getMessage().contains("second onSubscribe"), record.getMessage());
        assertTrue(record.getMessage().contains("2.5"), record.getMessage());
    }

    @Test
    void asSubscriber_newOneOnAnEndedChannel_isCancelledAndLoggedOnceAtInfoWithTheState() {
        Channel<Integer> channel = Channel.bounded(4);
        channel.close();
        Subscriber<Integer> sink = channel.asSubscriber();
        NoopSubscription upstream = new NoopSubscription();

        sink.onSubscribe(upstream);

        assertTrue(upstream.cancelled);
        assertEquals(0, upstream.requested, "nothing requested from an upstream that cannot be served");
        assertEquals(1, records.size(), lines());
        LogRecord record = records.get(0);
        assertEquals(Level.INFO, record.getLevel());
        assertTrue(record.getMessage().contains("no longer accepts items (COMPLETED)"), record.getMessage());
    }

    @Test
    void asSubscriber_normalUse_logsNothing() {
        Channel<Integer> channel = Channel.bounded(4);
        Subscriber<Integer> sink = channel.asSubscriber();
        NoopSubscription upstream = new NoopSubscription();
        sink.onSubscribe(upstream);
        sink.onNext(1);
        sink.onComplete();

        assertEquals(1, channel.tryReceive());
        assertEquals("", lines());
    }

    /** A subscription that records what it was asked. */
    static final class NoopSubscription implements Subscription {
        volatile long requested;
        volatile boolean cancelled;

        @Override
        public void request(long n) {
            requested += n;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }
}
