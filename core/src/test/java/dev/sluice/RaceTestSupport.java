package dev.sluice;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

/*
 * Shared machinery for the conservation races (ConservationRaceTest, CompetingConsumersTest).
 *
 * race(...) starts all racers together with a spin rendezvous, as reactor-test's RaceTestUtils does: racer 0 runs on
 * the calling thread, the others on a small pool that the test class keeps for all its rounds (starting threads per
 * round is too slow on a loaded 2-core machine). Every racer must finish within RACER_TIMEOUT_SECONDS, so a lost
 * wake-up shows up as a failed round with the round's description, not as a hung build.
 *
 * Ledger records the fate of every item of one round: delivered (returned by a receive, passed to onNext) or
 * undelivered (passed to the undelivered handler). An item may get exactly one fate; a second one is a duplicate and
 * is reported, whichever thread saw it.
 */
final class RaceTestSupport {

    /** Rounds per race; {@code -Dsluice.race.rounds=N} overrides (CI may lower it, a soak run may raise it). */
    static final int ROUNDS = Integer.getInteger("sluice.race.rounds", 10_000);

    /** How long one racer may take before the round counts as deadlocked. */
    static final long RACER_TIMEOUT_SECONDS = 10;

    private RaceTestSupport() {
    }

    /** A racer body; may block and throw. */
    @FunctionalInterface
    interface Racer {
        void run() throws Exception;
    }

    /** A pool of daemon threads named for the test, to run racers 1..n. */
    static ExecutorService racerPool(String name, int threads) {
        AtomicInteger count = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, name + "-racer-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return Executors.newFixedThreadPool(threads, factory);
    }

    /**
     * Runs all racers at the same moment and waits for all of them.
     *
     * @param pool runs racers 1..n (needs at least n-1 threads)
     * @param round shown in failure messages
     * @param racers racer 0 runs on the caller
     */
    static void race(ExecutorService pool, String round, Racer... racers) {
        AtomicInteger arrived = new AtomicInteger(racers.length);
        List<Future<?>> others = new ArrayList<>(racers.length - 1);
        for (int i = 1; i < racers.length; i++) {
            Racer racer = racers[i];
            others.add(pool.submit(() -> {
                rendezvous(arrived);
                racer.run();
                return null;
            }));
        }
        Throwable failure = null;
        try {
            rendezvous(arrived);
            racers[0].run();
        } catch (Throwable t) {
            failure = t;
        }
        for (int i = 0; i < others.size(); i++) {
            try {
                others.get(i).get(RACER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                failure = chain(failure, e.getCause());
            } catch (TimeoutException e) {
                failure = chain(failure, new AssertionError(round + ": racer " + (i + 1) + " did not finish within "
                        + RACER_TIMEOUT_SECONDS + " s (deadlock or lost wake-up)"));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = chain(failure, e);
            }
        }
        if (failure != null) {
            if (failure instanceof AssertionError && String.valueOf(failure.getMessage()).startsWith(round)) {
                throw (AssertionError) failure;
            }
            throw new AssertionError(round + ": racer failed: " + failure, failure);
        }
    }

    private static Throwable chain(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /* Spin until every racer arrived; yield after a while so that a racer not yet scheduled gets a core. */
    private static void rendezvous(AtomicInteger arrived) {
        arrived.decrementAndGet();
        spinUntil(() -> arrived.get() == 0);
    }

    /** Spins until the condition holds, yielding after a while so that the thread it waits for gets a core. */
    static void spinUntil(java.util.function.BooleanSupplier condition) {
        int spins = 0;
        while (!condition.getAsBoolean()) {
            if (++spins < 2_000) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** Spins a little: {@code n} spin-waits, to shift one racer against the other by a varying amount. */
    static void spin(int n) {
        for (int i = 0; i < n; i++) {
            Thread.onSpinWait();
        }
    }

    /** Waits for a future that must already be complete or complete soon; fails the round otherwise. */
    static void awaitDone(CompletableFuture<?> future, String what) {
        try {
            future.handle((v, e) -> null).get(RACER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            fail(what + ": future still pending after " + RACER_TIMEOUT_SECONDS + " s: " + future);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    /** Tells whether a done future completed normally (its item was accepted). */
    static boolean completedNormally(CompletableFuture<?> future) {
        return future.isDone() && !future.isCompletedExceptionally();
    }

    /** The cause a failed future carries, unwrapped. */
    static Throwable failureOf(CompletableFuture<?> future) {
        try {
            future.getNow(null);
            return null;
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause();
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    /**
     * Checks rule 1.3 for one subscriber: signals never overlap across threads. A signal nested on the same thread
     * (onNext called synchronously from a request() made in onSubscribe or onNext) is allowed, as the TCK allows it;
     * the TCK's rule 3.3 test bounds that nesting.
     */
    static final class SignalSerialCheck {
        private final AtomicReference<Thread> signalling = new AtomicReference<>();
        private int depth; // touched only by the thread in `signalling`

        /** Enters a signal; returns a description of the overlap, or null. */
        String enter(String signal) {
            Thread me = Thread.currentThread();
            Thread owner = signalling.get();
            if (owner == me) {
                depth++;
                return null;
            }
            if (!signalling.compareAndSet(null, me)) {
                return signal + " on " + me.getName() + " overlaps a signal still running on "
                        + signalling.get() + " (rule 1.3)";
            }
            depth = 1;
            return null;
        }

        /** Leaves a signal entered without overlap. */
        void leave() {
            if (signalling.get() == Thread.currentThread() && --depth == 0) {
                signalling.set(null);
            }
        }

        boolean idle() {
            return signalling.get() == null;
        }
    }

    /**
     * The fate of each item of one round: items are the Integers {@code 0..size-1}.
     */
    static final class Ledger {
        private static final int NONE = 0;
        private static final int DELIVERED = 1;
        private static final int UNDELIVERED = 2;

        private final AtomicIntegerArray fate;
        private final Queue<String> errors = new ConcurrentLinkedQueue<>();
        private final AtomicInteger delivered = new AtomicInteger();
        private final AtomicInteger undelivered = new AtomicInteger();

        Ledger(int size) {
            this.fate = new AtomicIntegerArray(size);
        }

        /** Records a delivery (a receive returned it, or it was passed to onNext). */
        void delivered(Integer item) {
            mark(item, DELIVERED);
            delivered.incrementAndGet();
        }

        /** Records a call of the undelivered handler; usable as the handler itself. */
        void undelivered(Integer item, UndeliveredReason reason) {
            if (reason == null) {
                errors.add("onUndelivered(" + item + ", null)");
            }
            mark(item, UNDELIVERED);
            undelivered.incrementAndGet();
        }

        /** Records a protocol violation seen by a consumer. */
        void error(String message) {
            errors.add(message);
        }

        boolean isDelivered(int item) {
            return fate.get(item) == DELIVERED;
        }

        int deliveredCount() {
            return delivered.get();
        }

        int undeliveredCount() {
            return undelivered.get();
        }

        private void mark(Integer item, int how) {
            if (item == null) {
                errors.add(name(how) + " a null item");
                return;
            }
            if (item < 0 || item >= fate.length()) {
                errors.add(name(how) + " unknown item " + item);
                return;
            }
            int previous = fate.compareAndExchange(item, NONE, how);
            if (previous != NONE) {
                errors.add("item " + item + " " + name(how) + " but it was already " + name(previous));
            }
        }

        private static String name(int how) {
            return how == DELIVERED ? "delivered" : how == UNDELIVERED ? "undelivered" : "nowhere";
        }

        /**
         * Checks the round's invariant once nothing is buffered any more: every accepted item has exactly one fate,
         * an item that was never accepted has none, and no consumer saw a protocol violation.
         */
        void assertConservation(String round, boolean[] accepted, Channel<Integer> channel) {
            StringBuilder problems = new StringBuilder();
            for (String e : errors) {
                problems.append("\n  ").append(e);
            }
            int acceptedCount = 0;
            for (int i = 0; i < accepted.length; i++) {
                int f = fate.get(i);
                if (accepted[i]) {
                    acceptedCount++;
                    if (f == NONE) {
                        problems.append("\n  item ").append(i).append(" accepted but lost (neither delivered nor undelivered)");
                    }
                } else if (f != NONE) {
                    problems.append("\n  item ").append(i).append(" never accepted but ").append(name(f));
                }
            }
            ChannelStats stats = channel.stats();
            if (stats.size() != 0) {
                problems.append("\n  ").append(stats.size()).append(" items still buffered: ").append(stats);
            }
            if (stats.sent() != acceptedCount || stats.received() != delivered.get()
                    || stats.undelivered() != undelivered.get()) {
                problems.append("\n  stats disagree: accepted=").append(acceptedCount).append(" delivered=")
                        .append(delivered.get()).append(" undelivered=").append(undelivered.get()).append(" but ")
                        .append(stats);
            }
            if (problems.length() > 0) {
                fail(round + ": conservation broken (accepted " + describe(accepted) + ", state "
                        + channel.state() + "):" + problems);
            }
        }

        private String describe(boolean[] accepted) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < accepted.length; i++) {
                sb.append(i == 0 ? "" : ", ").append(i).append(accepted[i] ? ":yes" : ":no")
                        .append('/').append(name(fate.get(i)));
            }
            return sb.append(']').toString();
        }
    }
}
