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

import reactor.core.publisher.Hooks;

/**
 * The leak matrix, in the style of reactor-core's {@code OnDiscardShouldNotLeakTest}: for every pair of doors
 * (sending: blocking send, sendAsync, an upstream Publisher through asSubscriber; receiving: blocking receive, the
 * iterator, an asPublisher subscriber, a {@code ReactorChannels.flux} subscriber, repeated {@code
 * ReactorChannels.receive} Monos) race a terminal event (close, fail, cancel, the consumer detaching, the producer
 * giving up) against the traffic, many rounds each. After each round, when every thread is done and a final {@code
 * cancel()} has swept the buffer, every accepted item must have been delivered or released exactly once and every
 * refused item neither (contract 1).
 *
 * <p>Each round uses a fresh channel of capacity 1, 2 or 4 and 16 items; the consumer spins a little per item so the
 * sender keeps meeting a full buffer. The terminal event is fired from inside the traffic, so that it always races the
 * other thread's calls: by the sending thread after a random number (0 to 15) of accepted items or after it sent all
 * and closed the channel, or by the receiving thread after 0 to 16 deliveries, plus a random spin (receiver aborts
 * come from the sending thread, sender aborts from the receiving thread, channel-level events from either). Two worker
 * threads are reused. Each cell prints what its rounds covered, and fails if fewer than 1 round in 20 was cut
 * mid-traffic (a race that never happens tests nothing). Rounds per cell: {@code -Dleak.rounds} (default 2,500).
 */
class LeakMatrixTest {

    private static final int ROUNDS = Integer.getInteger("leak.rounds", 2_500);
    private static final int ITEMS = Integer.getInteger("leak.items", 16);
    private static final int CONSUMER_WORK = 256;
    private static final int[] CAPACITIES = {1, 2, 4};
    private static final long WAIT_SECONDS = 10;

    private static ExecutorService workers;

    @BeforeAll
    static void startWorkers() {
        Hooks.onNextDropped(item -> {
            if (item instanceof Tracked t) {
                t.deliver("onNextDropped hook");
            }
        });
        AtomicInteger n = new AtomicInteger();
        workers = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "leak-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stopWorkers() throws InterruptedException {
        Hooks.resetOnNextDropped();
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
        Tally tally = new Tally();
        for (int n = 0; n < ROUNDS; n++) {
            tally.add(runRound(n, send, receive, terminal, random));
        }
        System.out.printf("%-13s -> %-9s vs %-14s %s%n", send, receive, terminal, tally);
        // A matrix cell whose event never landed mid-traffic tests nothing: demand that the race really happened.
        if (tally.cut * 20L < ROUNDS) {
            fail("the terminal event cut the traffic in only " + tally.cut + " of " + ROUNDS + " rounds: " + tally);
        }
    }

    /** Outcome counts of one matrix cell, printed to show what the race covered. */
    static final class Tally {
        long rounds;
        long cut;
        long delivered;
        long released;
        long refused;

        void add(Round round) {
            rounds++;
            int r = 0;
            int d = 0;
            int refusedHere = 0;
            for (Tracked t : round.items) {
                d += t.deliveries.get();
                r += t.releases.get();
                refusedHere += t.fates() == 0 ? 1 : 0;
            }
            delivered += d;
            released += r;
            refused += refusedHere;
            if (r > 0 || refusedHere > 0) {
                cut++;
            }
        }

        @Override
        public String toString() {
            return String.format("rounds=%d cut-mid-traffic=%d items: delivered=%d released=%d never-accepted=%d",
                    rounds, cut, delivered, released, refused);
        }
    }

    private static Round runRound(int n, SendDoor send, ReceiveDoor receive, Terminal terminal,
            SplittableRandom random) throws Exception {
        int capacity = CAPACITIES[n % CAPACITIES.length];
        Round round = new Round(n, capacity, ITEMS, random.nextInt(CONSUMER_WORK));
        Sender sender = send.create(round);
        Receiver receiver = receive.create(round);
        boolean senderSide = terminal.firedBySender(random.nextBoolean());
        int at = random.nextInt(ITEMS + 1); // ITEMS: after the sender closed (sender side) or after the last item
        round.arm(() -> terminal.fire(round, sender, receiver), senderSide, at, random.nextInt(256));
        Future<?> receiving;
        Future<?> sending;
        if ((n & 1) == 0) {
            receiving = workers.submit(receiver);
            sending = workers.submit(sender);
        } else {
            sending = workers.submit(sender);
            receiving = workers.submit(receiver);
        }

        if (!receiver.awaitDone(WAIT_SECONDS, TimeUnit.SECONDS)) {
            fail("consumer did not end within " + WAIT_SECONDS + " s (" + send + " -> " + receive + " vs " + terminal
                    + ", round " + n + ", capacity " + capacity + ", " + round.firedBy + "): " + receiver.outcome()
                    + "; " + sender.outcome() + "; " + round.channel.stats() + "\n" + threadDump());
        }
        round.fireIfNotYet(); // a guard: the traffic always reaches the firing point first
        String where = send + " -> " + receive + " vs " + terminal + ", round " + n + ", capacity " + capacity
                + ", fired by " + round.firedBy;
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
        return round;
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
