package dev.sluice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * S4: four blocking producers, one blocking consumer. ns/item, lower is better.
 *
 * <p><b>Oversubscribed:</b> five busy threads on a 2-core machine, so this measures behaviour under contention and
 * descheduling, not parallel speed-up. No busy-spin waiter takes part. B shape as in {@link S1bOneToOne}: each
 * producer sends a quarter of the {@value #N} items, the consumer sums all of them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class S4ManyToOne {

    /** Items per invocation. */
    public static final int N = 1 << 16;
    /** Producer threads. */
    public static final int PRODUCERS = 4;

    /** The transport under test. */
    @Param({"sluice", "abq", "lbq", "conversant", "jctoolsMpscBlocking", "agronaManyToOne", "disruptorBlocking",
            "disruptorLiteBlocking"})
    public String impl;

    /** The bound. */
    @Param({"256", "4096"})
    public int capacity;

    /** Kind of the producer and consumer threads; {@code virtual} needs JDK 21+. */
    @Param({"platform"})
    public String threads;

    private Long[] items;
    private Pipe pipe;
    private ExecutorService producers;
    private ExecutorService consumer;
    private final Future<?>[] produced = new Future<?>[PRODUCERS];

    /** Creates the transport and starts the persistent threads. */
    @Setup(Level.Trial)
    public void setUp() {
        items = Bench.items(N);
        pipe = Pipe.create(impl, capacity, true);
        producers = Executors.newFixedThreadPool(PRODUCERS, Bench.threads(threads, "s4-producer"));
        consumer = Bench.worker(threads, "s4-consumer");
        pipe.start(Bench.threads(threads, "s4-disruptor"));
    }

    /** Stops the threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        pipe.stop();
        Bench.shutdown(producers, consumer);
    }

    /**
     * Moves {@value #N} items from four producers to one consumer and checks their sum.
     *
     * @return the sum
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long transfer() {
        CompletableFuture<Long> consumed = pipe.expect(N, consumer);
        int share = N / PRODUCERS;
        for (int p = 0; p < PRODUCERS; p++) {
            int from = p * share;
            produced[p] = producers.submit(() -> {
                pipe.produce(items, from, from + share);
                return null;
            });
        }
        for (Future<?> f : produced) {
            Bench.await(f, "producer");
        }
        long sum = Bench.await(consumed, "consumer");
        Bench.checkSum("S4 " + impl, Bench.checksum(N), sum);
        return sum;
    }
}
