package dev.sluice.reliability.vt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import com.sun.management.HotSpotDiagnosticMXBean;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelState;
import dev.sluice.ChannelStats;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingStream;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The virtual-thread soak (JDK 21+ only): 10,000 virtual producers and 1,000 virtual consumers share one channel for a
 * bounded time. Producers use blocking {@code send} (and every fourth one {@code sendAsync(..).get()}); consumers use
 * {@code receive()} or the iterator. Afterwards: every accepted item was received exactly once (per producer: count,
 * sum and sum of squares of its sequence numbers), each consumer saw each producer's items in order, the counters
 * agree, no virtual thread was pinned (JFR {@code jdk.VirtualThreadPinned}, threshold 0, streamed while the soak runs),
 * and nothing deadlocked: a watchdog dumps every thread (virtual ones included) to {@code target/} and fails the test
 * when the soak does not wind down in time.
 *
 * <p>Knobs: {@code -Dsoak.seconds} (default 10 per capacity), {@code -Dsoak.producers}, {@code -Dsoak.consumers}.
 */
class VirtualThreadSoakTest {

    private static final long SECONDS = Long.getLong("soak.seconds", 10);
    private static final int PRODUCERS = Integer.getInteger("soak.producers", 10_000);
    private static final int CONSUMERS = Integer.getInteger("soak.consumers", 1_000);
    private static final long WIND_DOWN_SECONDS = 60;

    /* ---- soak ---- */

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {1, 64})
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void soak_thousandsOfVirtualThreads_conservationInOrderNoPinningNoDeadlock(int capacity) throws Exception {
        warmUp();
        Channel<Long> channel = Channel.bounded(capacity);
        Queue<String> pinned = new ConcurrentLinkedQueue<>();
        Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        long[] sent = new long[PRODUCERS];
        AtomicLongArray counts = new AtomicLongArray(PRODUCERS);
        AtomicLongArray sums = new AtomicLongArray(PRODUCERS);
        AtomicLongArray squares = new AtomicLongArray(PRODUCERS);
        AtomicLong orderViolations = new AtomicLong();
        Queue<String> orderExamples = new ConcurrentLinkedQueue<>();

        try (RecordingStream jfr = new RecordingStream()) {
            jfr.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            jfr.onEvent("jdk.VirtualThreadPinned", e -> pinned.add(describe(e)));
            jfr.startAsync();

            List<Thread> consumers = new ArrayList<>(CONSUMERS);
            for (int c = 0; c < CONSUMERS; c++) {
                boolean iterator = (c & 1) == 1;
                consumers.add(Thread.ofVirtual().name("soak-consumer-" + c).start(() -> {
                    int[] last = new int[PRODUCERS];
                    Arrays.fill(last, -1);
                    try {
                        if (iterator) {
                            try (ChannelIterator<Long> it = channel.iterator()) {
                                while (it.hasNext()) {
                                    record(it.next(), last, counts, sums, squares, orderViolations, orderExamples);
                                }
                            }
                        } else {
                            for (;;) {
                                record(channel.receive(), last, counts, sums, squares, orderViolations,
                                        orderExamples);
                            }
                        }
                    } catch (ChannelClosedException end) {
                        // the end of the channel (receive)
                    } catch (Throwable t) {
                        unexpected.add(t);
                    }
                }));
            }

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            List<Thread> producers = new ArrayList<>(PRODUCERS);
            for (int p = 0; p < PRODUCERS; p++) {
                int id = p;
                boolean async = (p & 3) == 0;
                producers.add(Thread.ofVirtual().name("soak-producer-" + p).start(() -> {
                    long seq = 0;
                    try {
                        while (System.nanoTime() - deadline < 0) {
                            long item = ((long) id << 32) | seq;
                            if (async) {
                                channel.sendAsync(item).get();
                            } else {
                                channel.send(item);
                            }
                            seq++;
                        }
                    } catch (Throwable t) {
                        unexpected.add(t);
                    } finally {
                        sent[id] = seq;
                    }
                }));
            }

            awaitAll(producers, deadline + TimeUnit.SECONDS.toNanos(WIND_DOWN_SECONDS), "producers", channel);
            channel.close();
            awaitAll(consumers, System.nanoTime() + TimeUnit.SECONDS.toNanos(WIND_DOWN_SECONDS), "consumers",
                    channel);
            jfr.stop(); // delivers the events recorded so far
        }

        assertTrue(unexpected.isEmpty(), "unexpected exceptions: " + unexpected);
        long total = 0;
        List<String> problems = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            long n = sent[p];
            total += n;
            long expectedSum = n * (n - 1) / 2;
            long expectedSquares = (n - 1) * n * (2 * n - 1) / 6;
            if (counts.get(p) != n || sums.get(p) != expectedSum || squares.get(p) != expectedSquares) {
                problems.add("producer " + p + ": sent " + n + ", received " + counts.get(p) + " (sum " + sums.get(p)
                        + " expected " + expectedSum + ")");
            }
        }
        assertTrue(problems.isEmpty(), "lost or duplicated items: " + problems.subList(0, Math.min(10,
                problems.size())) + (problems.size() > 10 ? " ... " + problems.size() + " producers" : ""));
        assertEquals(0, orderViolations.get(), "per-producer order broken, e.g. " + orderExamples);
        ChannelStats stats = channel.stats();
        assertEquals(total, stats.sent());
        assertEquals(total, stats.received());
        assertEquals(0, stats.size());
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertTrue(pinned.isEmpty(), pinned.size() + " pinned virtual threads, first: " + pinned.peek());
        System.out.printf("virtual-thread soak, capacity %d: %d producers, %d consumers, %d items in %d s"
                + " (%.0f items/s), %d pinning events, %d ms senders blocked in total%n", capacity, PRODUCERS,
                CONSUMERS, total, SECONDS, total / (double) SECONDS, pinned.size(),
                stats.senderBlockedNanos() / 1_000_000);
        assertTrue(total > 0, "nothing was sent");
    }

    /**
     * Runs every door once on this platform thread, so that class loading and initialization (which still pins a
     * virtual thread that waits for it, even on JDK 24+) happen here and not in the soak.
     */
    private static void warmUp() throws Exception {
        Channel<Long> channel = Channel.bounded(2);
        channel.send(1L);
        channel.sendAsync(2L).get();
        channel.receive();
        try (ChannelIterator<Long> it = channel.iterator()) {
            it.hasNext();
            it.next();
        }
        channel.close();
        try {
            channel.receive();
        } catch (ChannelClosedException expected) {
            // warmed up the end path too
        }
        channel.stats();
    }

    private static void record(long item, int[] last, AtomicLongArray counts, AtomicLongArray sums,
            AtomicLongArray squares, AtomicLong orderViolations, Queue<String> orderExamples) {
        int producer = (int) (item >>> 32);
        int seq = (int) item;
        counts.incrementAndGet(producer);
        sums.addAndGet(producer, seq);
        squares.addAndGet(producer, (long) seq * seq);
        if (seq <= last[producer]) {
            if (orderViolations.incrementAndGet() <= 5) {
                orderExamples.add("producer " + producer + ": " + seq + " after " + last[producer] + " in "
                        + Thread.currentThread().getName());
            }
        }
        last[producer] = seq;
    }

    /* ---- watchdog ---- */

    private static void awaitAll(List<Thread> threads, long deadlineNanos, String what, Channel<Long> channel)
            throws InterruptedException, IOException {
        for (Thread t : threads) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0 || !t.join(Duration.ofNanos(left))) {
                long alive = threads.stream().filter(Thread::isAlive).count();
                Path dump = Path.of("target", "soak-thread-dump-" + System.currentTimeMillis() + ".txt");
                Files.createDirectories(dump.getParent());
                ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class).dumpThreads(
                        dump.toAbsolutePath().toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
                fail(alive + " " + what + " still running at the deadline (deadlock or lost wake-up?); "
                        + channel.stats() + "; all threads, virtual ones included, dumped to " + dump.toAbsolutePath());
            }
        }
    }

    private static String describe(RecordedEvent e) {
        StringBuilder sb = new StringBuilder(e.getThread() == null ? "?" : e.getThread().getJavaName())
                .append(" pinned for ").append(e.getDuration().toNanos() / 1_000).append(" us");
        if (e.getStackTrace() != null) {
            for (RecordedFrame f : e.getStackTrace().getFrames()) {
                sb.append("\n    at ").append(f.getMethod().getType().getName()).append('.')
                        .append(f.getMethod().getName()).append(':').append(f.getLineNumber());
            }
        }
        return sb.toString();
    }
}
