package dev.sluice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
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
 * S1b: one producer, one consumer, both blocking (the main row). ns/item, lower is better.
 *
 * <p>B shape: each invocation moves {@value #N} items from a persistent producer thread to a persistent consumer
 * thread (both started in trial setup, {@code platform} or {@code virtual}), waits for the consumer's sum and
 * asserts it. Every blocking call times out after 1 s and throws. {@code synchronousQueue} and {@code ltqTransfer}
 * are rendezvous peers: run them with {@code -p capacity=1} only.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class S1bOneToOne {

    /** Items per invocation. */
    public static final int N = 1 << 16;

    /** The transport under test. */
    @Param({"sluice", "abq", "lbq", "conversant", "jctoolsMpscBlocking", "disruptorBlocking",
            "disruptorLiteBlocking", "disruptorYielding", "synchronousQueue", "ltqTransfer"})
    public String impl;

    /** The bound. */
    @Param({"1", "16", "256", "4096"})
    public int capacity;

    /** Kind of the producer and consumer threads; {@code virtual} needs JDK 21+. */
    @Param({"platform"})
    public String threads;

    private Long[] items;
    private Pipe pipe;
    private ExecutorService producer;
    private ExecutorService consumer;

    /** Creates the transport and starts the persistent threads. */
    @Setup(Level.Trial)
    public void setUp() {
        items = Bench.items(N);
        pipe = Pipe.create(impl, capacity, false);
        producer = Bench.worker(threads, "s1b-producer");
        consumer = Bench.worker(threads, "s1b-consumer");
        pipe.start(Bench.threads(threads, "s1b-disruptor"));
    }

    /** Stops the threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        pipe.stop();
        Bench.shutdown(producer, consumer);
    }

    /**
     * Moves {@value #N} items and checks their sum.
     *
     * @return the sum
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long transfer() {
        CompletableFuture<Long> consumed = pipe.expect(N, consumer);
        Future<?> produced = producer.submit(() -> {
            pipe.produce(items, 0, N);
            return null;
        });
        Bench.await(produced, "producer");
        long sum = Bench.await(consumed, "consumer");
        Bench.checkSum("S1b " + impl, Bench.checksum(N), sum);
        return sum;
    }
}
