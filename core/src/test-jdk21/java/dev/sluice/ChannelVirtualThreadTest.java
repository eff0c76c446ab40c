package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The blocking doors of a channel (send, receive, the iterator, sendAsync joined by its caller, and close/cancel
 * waking blocked callers) driven by 10,000 virtual threads at once: every item arrives exactly once, nothing
 * deadlocks, and no virtual thread is pinned to its carrier inside Sluice code.
 *
 * <p>Pinning is observed with the JFR event {@code jdk.VirtualThreadPinned} (threshold zero, with stack traces),
 * recorded around each scenario; an event whose stack has a frame of the Sluice main code fails the test. A control
 * test shows that the recording does see a pinned park (a park inside a class initializer pins on every JDK).
 *
 * <p>Compiled and run only on JDK 21+ (profile {@code jdk21-tests} in core/pom.xml).
 */
class ChannelVirtualThreadTest {

    private static final int THREADS = 10_000;
    private static final long WAIT_SECONDS = 60;

    @BeforeAll
    static void loadChannelClasses() throws Exception {
        // First use of the channel classes (class init, ServiceLoader lookup of BlockingGuard) happens here, on a
        // platform thread, so that the recordings below measure the steady state only.
        Channel<Integer> channel = Channel.bounded(2);
        channel.send(1);
        channel.sendAsync(2).join();
        try (ChannelIterator<Integer> it = channel.iterator()) {
            it.hasNext();
            it.next();
        }
        channel.receive();
        channel.close();
    }

    /* ---- send / receive ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sendReceive_tenThousandVirtualThreads_everyItemOnceAndNoPinning() throws Exception {
        Channel<Integer> channel = Channel.bounded(16);
        Tally tally = new Tally(THREADS);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < THREADS / 2; t++) {
            int first = 2 * t;
            tasks.add(() -> {
                channel.send(first);
                channel.send(first + 1, Duration.ofSeconds(WAIT_SECONDS));
                return null;
            });
            tasks.add(() -> {
                tally.delivered(channel.receive());
                Integer item = channel.receive(Duration.ofSeconds(WAIT_SECONDS));
                if (item == null) {
                    throw new AssertionError("receive(timeout) saw no item although senders are waiting");
                }
                tally.delivered(item);
                return null;
            });
        }
        List<String> pinned = recordPinning(() -> runAll(tasks));
        tally.assertEachOnce(channel);
        assertNoSluicePinning(pinned);
    }

    /* ---- iterator ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void iterator_tenThousandVirtualThreads_everyItemOnceAndNoPinning() throws Exception {
        Channel<Integer> channel = Channel.bounded(16);
        Tally tally = new Tally(THREADS);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < THREADS / 2; t++) {
            int first = 2 * t;
            tasks.add(() -> {
                channel.sendAll(List.of(first, first + 1));
                return null;
            });
            tasks.add(() -> {
                try (ChannelIterator<Integer> it = channel.iterator()) {
                    for (int i = 0; i < 2; i++) {
                        if (!it.hasNext()) {
                            throw new AssertionError("iterator ended on an open channel");
                        }
                        tally.delivered(it.next());
                    }
                }
                return null;
            });
        }
        List<String> pinned = recordPinning(() -> runAll(tasks));
        tally.assertEachOnce(channel);
        assertNoSluicePinning(pinned);
    }

    /* ---- sendAsync ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sendAsync_joinedByTenThousandVirtualThreads_everyItemOnceAndNoPinning() throws Exception {
        Channel<Integer> channel = Channel.bounded(16);
        Tally tally = new Tally(THREADS);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < THREADS / 2; t++) {
            int first = 2 * t;
            tasks.add(() -> {
                channel.sendAsync(first).get(WAIT_SECONDS, TimeUnit.SECONDS);
                channel.sendAsync(first + 1).join();
                return null;
            });
            tasks.add(() -> {
                tally.delivered(channel.receive());
                tally.delivered(channel.receive());
                return null;
            });
        }
        List<String> pinned = recordPinning(() -> runAll(tasks));
        tally.assertEachOnce(channel);
        assertNoSluicePinning(pinned);
    }

    /* ---- cancel wakes blocked senders ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void cancel_tenThousandBlockedVirtualSenders_allWakeAndAcceptedItemsUndelivered() throws Exception {
        Tally tally = new Tally(THREADS);
        Channel<Integer> channel = Channel.<Integer>builder().capacity(4).onUndelivered(tally::undelivered).build();
        AtomicIntegerArray accepted = new AtomicIntegerArray(THREADS);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int item = t;
            tasks.add(() -> {
                try {
                    channel.send(item);
                    accepted.set(item, 1);
                } catch (ChannelClosedException refused) {
                    // the cancel came first: the item is still ours
                }
                return null;
            });
        }
        List<String> pinned = recordPinning(() -> runAll(tasks, () -> {
            awaitState(() -> channel.stats().waitingSenders() == THREADS - 4,
                    () -> "all senders but 4 blocked: " + channel.stats());
            channel.cancel();
        }));
        int acceptedCount = 0;
        for (int i = 0; i < THREADS; i++) {
            acceptedCount += accepted.get(i);
            int fates = tally.delivered.get(i) + tally.undelivered.get(i);
            if (fates != accepted.get(i)) {
                fail("item " + i + (accepted.get(i) == 1 ? " accepted" : " refused") + " but passed to onUndelivered "
                        + tally.undelivered.get(i) + " times");
            }
        }
        assertEquals(4, acceptedCount, "capacity 4 and no receiver: exactly 4 sends succeed");
        assertEquals(ChannelState.CANCELLED, channel.state());
        assertTrue(tally.errors.isEmpty(), tally.errors.toString());
        assertNoSluicePinning(pinned);
    }

    /* ---- close wakes blocked receivers ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void close_tenThousandBlockedVirtualReceivers_allWakeAndEachItemOnce() throws Exception {
        int items = 100;
        Channel<Integer> channel = Channel.bounded(items);
        Tally tally = new Tally(items);
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            tasks.add(() -> {
                try {
                    tally.delivered(channel.receive());
                } catch (ChannelClosedException end) {
                    if (end.getCause() != null) {
                        throw new AssertionError("close() must end receivers without a cause", end);
                    }
                }
                return null;
            });
        }
        List<String> pinned = recordPinning(() -> runAll(tasks, () -> {
            awaitState(() -> channel.stats().waitingReceivers() == THREADS,
                    () -> "all receivers blocked: " + channel.stats());
            for (int i = 0; i < items; i++) {
                assertEquals(SendResult.OK, channel.trySend(i));
            }
            channel.close();
        }));
        tally.assertEachOnce(channel);
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertNoSluicePinning(pinned);
    }

    /* ---- the pinning recorder sees pinning ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void recordPinning_parkInClassInitializer_isSeen() throws Exception {
        List<String> pinned = recordPinning(() -> {
            Thread thread = Thread.ofVirtual().start(PinsWhileInitializing::touch);
            if (!thread.join(Duration.ofSeconds(WAIT_SECONDS))) {
                fail("control thread did not finish");
            }
        });
        assertFalse(pinned.stream().noneMatch(e -> e.contains("PinsWhileInitializing")),
                "the recording must see the control's pinned park, saw: " + pinned);
    }

    /* A class whose initializer parks: a virtual thread running it stays pinned (JDK 21 and later alike). */
    static final class PinsWhileInitializing {
        static {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }

        static void touch() {
        }
    }

    /* ---- support ---- */

    @FunctionalInterface
    interface Scenario {
        void run() throws Exception;
    }

    /* Runs the scenario under a JFR recording of jdk.VirtualThreadPinned; returns one line per event. */
    private static List<String> recordPinning(Scenario scenario) throws Exception {
        Path dump = Files.createTempFile("sluice-pinning", ".jfr");
        try (Recording recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            recording.start();
            scenario.run();
            recording.stop();
            recording.dump(dump);
            List<String> events = new ArrayList<>();
            for (RecordedEvent event : RecordingFile.readAllEvents(dump)) {
                if (event.getEventType().getName().equals("jdk.VirtualThreadPinned")) {
                    events.add(describe(event));
                }
            }
            return events;
        } finally {
            Files.deleteIfExists(dump);
        }
    }

    private static String describe(RecordedEvent event) {
        StringBuilder sb = new StringBuilder("pinned ").append(event.getDuration().toNanos()).append(" ns:");
        if (event.getStackTrace() != null) {
            for (RecordedFrame frame : event.getStackTrace().getFrames()) {
                sb.append(" <- ").append(frame.getMethod().getType().getName()).append('.')
                        .append(frame.getMethod().getName());
            }
        }
        return sb.toString();
    }

    /* Fails on an event whose stack holds a frame of Sluice's main code (dev.sluice, not this test). */
    private static void assertNoSluicePinning(List<String> pinned) {
        List<String> sluice = new ArrayList<>();
        for (String event : pinned) {
            for (String frame : event.split(" <- ")) {
                if (frame.startsWith("dev.sluice.") && !frame.startsWith(ChannelVirtualThreadTest.class.getName())) {
                    sluice.add(event);
                    break;
                }
            }
        }
        if (!sluice.isEmpty()) {
            fail(sluice.size() + " virtual-thread pinning event(s) in Sluice code, first: " + sluice.get(0));
        }
        if (!pinned.isEmpty()) {
            System.out.println("[virtual] " + pinned.size() + " pinning event(s) outside Sluice, first: " + pinned.get(0));
        }
    }

    private static void runAll(List<Callable<Void>> tasks) throws Exception {
        runAll(tasks, () -> { });
    }

    /* Starts one virtual thread per task, runs `meanwhile` on the caller, then waits for every task. */
    private static void runAll(List<Callable<Void>> tasks, Scenario meanwhile) throws Exception {
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        try {
            List<Future<Void>> futures = new ArrayList<>(tasks.size());
            for (Callable<Void> task : tasks) {
                futures.add(executor.submit(task));
            }
            meanwhile.run();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            int finished = 0;
            for (Future<Void> future : futures) {
                try {
                    future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    finished++;
                } catch (ExecutionException e) {
                    throw new AssertionError("a virtual thread failed: " + e.getCause(), e.getCause());
                } catch (TimeoutException e) {
                    throw new AssertionError("deadlock: only " + finished + " of " + tasks.size()
                            + " virtual threads finished within " + WAIT_SECONDS + " s");
                }
            }
        } finally {
            executor.shutdownNow();
        }
    }

    /* Waits for a state of the channel without sleeping: yields until it holds or WAIT_SECONDS pass. */
    private static void awaitState(BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what.get());
            }
            Thread.yield();
        }
    }

    /* How often each item was delivered or passed to the undelivered handler. */
    private static final class Tally {
        final AtomicIntegerArray delivered;
        final AtomicIntegerArray undelivered;
        final Queue<String> errors = new ConcurrentLinkedQueue<>();

        Tally(int items) {
            delivered = new AtomicIntegerArray(items);
            undelivered = new AtomicIntegerArray(items);
        }

        void delivered(Integer item) {
            if (delivered.getAndIncrement(item) != 0) {
                errors.add("item " + item + " delivered twice");
            }
        }

        void undelivered(Integer item, UndeliveredReason reason) {
            if (undelivered.getAndIncrement(item) != 0) {
                errors.add("item " + item + " passed to onUndelivered twice");
            }
        }

        void assertEachOnce(Channel<Integer> channel) {
            StringBuilder problems = new StringBuilder();
            for (int i = 0; i < delivered.length(); i++) {
                if (delivered.get(i) != 1 || undelivered.get(i) != 0) {
                    problems.append("\n  item ").append(i).append(" delivered ").append(delivered.get(i))
                            .append(" times, undelivered ").append(undelivered.get(i));
                    if (problems.length() > 2_000) {
                        break;
                    }
                }
            }
            errors.forEach(e -> problems.append("\n  ").append(e));
            if (problems.length() > 0) {
                fail("conservation broken, " + channel.stats() + ":" + problems);
            }
            ChannelStats stats = channel.stats();
            assertEquals(delivered.length(), stats.sent(), stats.toString());
            assertEquals(delivered.length(), stats.received(), stats.toString());
        }
    }
}
