package dev.sluice.reliability.leak;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The leak matrix, in the style of reactor-core's {@code OnDiscardShouldNotLeakTest}: for every pair of doors
 * (sending: blocking send, sendAsync, an upstream Publisher through asSubscriber; receiving: blocking receive, the
 * iterator, an asPublisher subscriber) race a terminal event (close, fail, cancel, the consumer detaching, the producer
 * giving up) against the traffic, many rounds each. After each round, when every thread is done and a final
 * {@code cancel()} has swept the buffer, every accepted item must have been delivered or released exactly once and
 * every refused item neither (contract 1).
 *
 * <p>Each round uses a fresh channel of capacity 1, 2 or 4 and six items; the terminal event fires once the round has
 * made a random amount of progress (0 to 12 accept/deliver steps), plus a random spin, so it lands in every phase. Two
 * worker threads (sender, receiver) are reused; the test thread is the terminator. Rounds per combination:
 * {@code -Dleak.rounds} (default 2,500).
 */
class LeakMatrixTest {

    private static final int ROUNDS = Integer.getInteger("leak.rounds", 2_500);
    private static final int ITEMS = 6;
    private static final int[] CAPACITIES = {1, 2, 4};
    private static final long WAIT_SECONDS = 10;

    private static ExecutorService workers;

    @BeforeAll
    static void startWorkers() {
        AtomicInteger n = new AtomicInteger();
        workers = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "leak-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stopWorkers() throws InterruptedException {
        workers.shutdownNow();
        workers.awaitTermination(10, TimeUnit.SECONDS);
    }

    static Stream<Arguments> matrix() {
        List<Arguments> combos = new ArrayList<>();
        for (SendDoor send : SendDoor.values()) {
            for (ReceiveDoor receive : ReceiveDoor.values()) {
                for (Terminal terminal : Terminal.values()) {
                    if (terminal == Terminal.SENDER_ABORT && !send.abortable()) {
                        continue;
                    }
                    combos.add(Arguments.of(send, receive, terminal));
                }
            }
        }
        return combos.stream();
    }

    /* ---- matrix ---- */

    @ParameterizedTest(name = "{0} -> {1} vs {2}")
    @MethodSource("matrix")
    @Timeout(120)
    void race_terminalEventAgainstTraffic_everyAcceptedItemHasExactlyOneFate(
            SendDoor send, ReceiveDoor receive, Terminal terminal) throws Exception {
        SplittableRandom random = new SplittableRandom(
                31L * send.ordinal() + 7L * receive.ordinal() + terminal.ordinal());
        for (int n = 0; n < ROUNDS; n++) {
            runRound(n, send, receive, terminal, random);
        }
    }

    private static void runRound(int n, SendDoor send, ReceiveDoor receive, Terminal terminal,
            SplittableRandom random) throws Exception {
        int capacity = CAPACITIES[n % CAPACITIES.length];
        Round round = new Round(n, capacity, ITEMS);
        Sender sender = send.create(round);
        Receiver receiver = receive.create(round);
        Future<?> receiving;
        Future<?> sending;
        if ((n & 1) == 0) {
            receiving = workers.submit(receiver);
            sending = workers.submit(sender);
        } else {
            sending = workers.submit(sender);
            receiving = workers.submit(receiver);
        }

        int target = random.nextInt(2 * ITEMS + 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (round.progress.get() < target && !(sending.isDone() && receiving.isDone())) {
            if (System.nanoTime() - deadline > 0) {
                fail("no progress past " + round.progress.get() + " within " + WAIT_SECONDS + " s (" + send + " -> "
                        + receive + ", round " + n + ", capacity " + capacity + "): " + round.channel.stats() + "\n"
                        + threadDump());
            }
            Thread.yield();
        }
        for (int spins = random.nextInt(64); spins > 0; spins--) {
            Thread.onSpinWait();
        }
        terminal.fire(round, sender, receiver);

        String where = send + " -> " + receive + " vs " + terminal + ", round " + n + ", capacity " + capacity
                + ", fired at progress " + target;
        if (!receiver.awaitDone(WAIT_SECONDS, TimeUnit.SECONDS)) {
            fail("consumer did not end within " + WAIT_SECONDS + " s after " + terminal + " (" + where + "): "
                    + receiver.outcome() + "; " + sender.outcome() + "; " + round.channel.stats() + "\n"
                    + threadDump());
        }
        round.channel.cancel(); // final sweep: whatever is still buffered goes to the undelivered handler
        if (!sender.awaitDone(WAIT_SECONDS, TimeUnit.SECONDS)) {
            fail("producer did not end within " + WAIT_SECONDS + " s after the final cancel (" + where + "): "
                    + sender.outcome() + "; " + receiver.outcome() + "; " + round.channel.stats() + "\n"
                    + threadDump());
        }
        sending.get(WAIT_SECONDS, TimeUnit.SECONDS);
        receiving.get(WAIT_SECONDS, TimeUnit.SECONDS);

        List<String> problems = round.verify(sender);
        if (!problems.isEmpty()) {
            fail(where + ": " + sender.outcome() + "; " + receiver.outcome() + "; state "
                    + round.channel.state() + "\n  " + String.join("\n  ", problems));
        }
    }

    static String threadDump() {
        StringBuilder sb = new StringBuilder();
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
            sb.append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState()).append('\n');
            for (StackTraceElement e : info.getStackTrace()) {
                sb.append("    at ").append(e).append('\n');
            }
        }
        return sb.toString();
    }
}
