package dev.sluice.bench;

import java.util.Queue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.conversantmedia.util.concurrent.PushPullConcurrentQueue;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.jctools.queues.MpmcArrayQueue;
import org.jctools.queues.SpscArrayQueue;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import dev.sluice.Channel;
import dev.sluice.SendResult;

/**
 * S1a: one producer, one consumer, both hot and never blocking ({@code trySend}/{@code tryReceive} against
 * {@code offer}/{@code poll}).
 *
 * <p>H shape, as JCTools' {@code QueueThroughputBackoffNone}: a JMH group with one offering and one polling thread.
 * The real throughput is the {@code pollsMade} counter (ops/us; ns/item = 1000 / pollsMade), not the group score,
 * which counts failed attempts too. Checksum: the values offered must equal the values polled plus those drained at
 * the end of each iteration.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Group)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class S1aHot {

    private static final int ITEMS = 1024;
    private static final Long[] VALUES = Bench.items(ITEMS);

    /* Indices into sums, 128 bytes apart so that producer and consumer do not share a line. */
    private static final int OFFERED = 16;
    private static final int NEXT = OFFERED + 1;
    private static final int POLLED = 48;

    /** The queue under test. */
    @Param({"sluice", "abq", "lbq", "jctoolsSpsc", "jctoolsMpmc", "agronaOneToOne", "conversantPushPull"})
    public String impl;

    /** The bound. */
    @Param({"256", "4096"})
    public int capacity;

    private Hot queue;
    /* Producer-owned: sums[OFFERED], sums[NEXT]; consumer-owned: sums[POLLED]. */
    private final long[] sums = new long[64];

    /** Offer-side counters (per thread). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class OfferCounters {
        /** Successful offers. */
        public long offersMade;
        /** Offers refused because the queue was full. */
        public long offersFailed;

        /** Resets the counters. */
        @Setup(Level.Iteration)
        public void reset() {
            offersMade = 0;
            offersFailed = 0;
        }
    }

    /** Poll-side counters (per thread). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class PollCounters {
        /** Items received: the real throughput. */
        public long pollsMade;
        /** Polls that found nothing. */
        public long pollsFailed;

        /** Resets the counters. */
        @Setup(Level.Iteration)
        public void reset() {
            pollsMade = 0;
            pollsFailed = 0;
        }
    }

    /** Creates the queue. */
    @Setup(Level.Trial)
    public void setUp() {
        queue = Hot.create(impl, capacity);
    }

    /** Drains what is left and checks that nothing was lost or duplicated. */
    @TearDown(Level.Iteration)
    public void drainAndCheck() {
        Object item;
        while ((item = queue.poll()) != null) {
            sums[POLLED] += (Long) item;
        }
        Bench.checkSum("S1a " + impl, sums[OFFERED], sums[POLLED]);
    }

    /**
     * The producer: one non-blocking offer.
     *
     * @param counters offer counters
     */
    @Benchmark
    @Group("tpt")
    public void offer(OfferCounters counters) {
        long[] sums = this.sums;
        Long value = VALUES[(int) sums[NEXT] & (ITEMS - 1)];
        if (queue.offer(value)) {
            sums[NEXT]++;
            sums[OFFERED] += value;
            counters.offersMade++;
        } else {
            counters.offersFailed++;
        }
    }

    /**
     * The consumer: one non-blocking poll.
     *
     * @param counters poll counters
     * @param bh sink
     */
    @Benchmark
    @Group("tpt")
    public void poll(PollCounters counters, Blackhole bh) {
        Object item = queue.poll();
        if (item == null) {
            counters.pollsFailed++;
        } else {
            sums[POLLED] += (Long) item;
            counters.pollsMade++;
            bh.consume(item);
        }
    }

    /** Non-blocking offer/poll over each peer. */
    abstract static class Hot {
        abstract boolean offer(Object item);

        abstract Object poll();

        static Hot create(String impl, int capacity) {
            switch (impl) {
                case "sluice":
                    return new SluiceHot(capacity);
                case "abq":
                    return new QueueHot(new ArrayBlockingQueue<>(capacity));
                case "lbq":
                    return new QueueHot(new LinkedBlockingQueue<>(capacity));
                case "jctoolsSpsc":
                    return new QueueHot(new SpscArrayQueue<>(capacity));
                case "jctoolsMpmc":
                    return new QueueHot(new MpmcArrayQueue<>(capacity));
                case "agronaOneToOne":
                    return new QueueHot(new OneToOneConcurrentArrayQueue<>(capacity));
                case "conversantPushPull":
                    return new PushPullHot(capacity);
                default:
                    throw new IllegalArgumentException("unknown impl " + impl);
            }
        }
    }

    static final class SluiceHot extends Hot {
        private final Channel<Object> channel;

        SluiceHot(int capacity) {
            channel = Channel.bounded(capacity);
        }

        @Override
        boolean offer(Object item) {
            return channel.trySend(item) == SendResult.OK;
        }

        @Override
        Object poll() {
            return channel.tryReceive();
        }
    }

    static final class QueueHot extends Hot {
        private final Queue<Object> queue;

        QueueHot(Queue<Object> queue) {
            this.queue = queue;
        }

        @Override
        boolean offer(Object item) {
            return queue.offer(item);
        }

        @Override
        Object poll() {
            return queue.poll();
        }
    }

    static final class PushPullHot extends Hot {
        private final PushPullConcurrentQueue<Object> queue;

        PushPullHot(int capacity) {
            queue = new PushPullConcurrentQueue<>(capacity);
        }

        @Override
        boolean offer(Object item) {
            return queue.offer(item);
        }

        @Override
        Object poll() {
            return queue.poll();
        }
    }
}
