package dev.sluice.bench;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.concurrent.BackoffIdleStrategy;

/*
 * Shared pieces of the B (bulk) shape: preboxed items and their checksum, the 1 s timeout every blocking call
 * uses, persistent worker threads (platform or virtual), and the backoff that turns a non-blocking peer into a
 * blocking one.
 *
 * Items are preboxed Longs so that B/op (-prof gc) shows what the transport allocates, not autoboxing.
 */
final class Bench {

    /** Every blocking call of a benchmark gives up after this and throws (LMAX perftest pattern). */
    static final long TIMEOUT_NANOS = TimeUnit.MILLISECONDS.toNanos(Long.getLong("sluice.bench.timeoutMs", 1000));
    static final Duration TIMEOUT = Duration.ofNanos(TIMEOUT_NANOS);

    /** Guard for waiting on a whole invocation (N items, possibly 1.8 s at 27 us/item). */
    static final long INVOCATION_TIMEOUT_SECONDS = 120;

    /** Thread kinds for {@code @Param threads}. */
    static final String PLATFORM = "platform";
    static final String VIRTUAL = "virtual";

    private Bench() {
    }

    /** Items 0..n-1, boxed once. */
    static Long[] items(int n) {
        Long[] items = new Long[n];
        for (int i = 0; i < n; i++) {
            items[i] = (long) i;
        }
        return items;
    }

    /** Sum of 0..n-1: what a consumer of {@link #items(int)} must add up to. */
    static long checksum(int n) {
        return (long) n * (n - 1) / 2;
    }

    static void checkSum(String what, long expected, long actual) {
        if (expected != actual) {
            throw new IllegalStateException(what + ": checksum " + actual + " but expected " + expected);
        }
    }

    static IllegalStateException stuck(String what) {
        return new IllegalStateException(what + " did not complete within " + TIMEOUT.toMillis() + " ms");
    }

    /**
     * A factory for {@code kind} threads. Virtual threads are created through reflection so that this module
     * compiles with {@code --release 17}; on a JDK without them this fails fast.
     */
    static ThreadFactory threads(String kind, String name) {
        if (PLATFORM.equals(kind)) {
            AtomicInteger count = new AtomicInteger();
            return r -> {
                Thread t = new Thread(r, name + "-" + count.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
        }
        if (VIRTUAL.equals(kind)) {
            try {
                Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
                Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
                builder = ofVirtual.getMethod("name", String.class, long.class).invoke(builder, name + "-", 1L);
                return (ThreadFactory) Class.forName("java.lang.Thread$Builder").getMethod("factory").invoke(builder);
            } catch (NoSuchMethodException | ClassNotFoundException e) {
                throw new UnsupportedOperationException(
                        "threads=virtual needs JDK 21+, this is " + Runtime.version() + ": run with -p threads=platform", e);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot create a virtual thread factory", e);
            }
        }
        throw new IllegalArgumentException("threads must be platform or virtual but was " + kind);
    }

    /** A persistent single worker thread of {@code kind}. */
    static ExecutorService worker(String kind, String name) {
        return Executors.newSingleThreadExecutor(threads(kind, name));
    }

    /** Waits for one invocation's task; rethrows its failure. */
    static <T> T await(Future<T> future, String what) {
        try {
            return future.get(INVOCATION_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new IllegalStateException(what + " failed", cause);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new IllegalStateException(what + " did not finish in " + INVOCATION_TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        }
    }

    /** Stops worker threads (interrupting them) and waits briefly for them to leave. */
    static void shutdown(ExecutorService... executors) {
        for (ExecutorService executor : executors) {
            if (executor != null) {
                executor.shutdownNow();
            }
        }
        for (ExecutorService executor : executors) {
            if (executor != null) {
                try {
                    executor.awaitTermination(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Agrona's default {@link BackoffIdleStrategy} (10 spins, 5 yields, then park 1 us doubling to 1 ms) with a
     * deadline: the way a peer without a blocking call of its own waits for room or for an item. One per thread.
     */
    static final class Backoff {
        private final BackoffIdleStrategy idle = new BackoffIdleStrategy();
        private final String what;
        private long deadline;
        private boolean waiting;

        Backoff(String what) {
            this.what = what;
        }

        /** Call after each failed attempt. */
        void idle() {
            if (!waiting) {
                waiting = true;
                deadline = System.nanoTime() + TIMEOUT_NANOS;
            } else if (System.nanoTime() - deadline > 0) {
                waiting = false;
                throw stuck(what);
            }
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(what + " interrupted");
            }
            idle.idle();
        }

        /** Call after a successful attempt that followed failures. */
        void reset() {
            if (waiting) {
                waiting = false;
                idle.reset();
            }
        }
    }
}
