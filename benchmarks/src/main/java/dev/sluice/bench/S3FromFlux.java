package dev.sluice.bench;

import java.util.concurrent.ArrayBlockingQueue;
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
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;

/**
 * S3: a {@code Flux} feeding a blocking consumer (an iterator on the JMH thread). ns/item.
 *
 * <p>Each invocation subscribes {@code Flux.fromArray(N preboxed items).subscribeOn(single)} and iterates it to
 * the end with a batch of 256: Sluice ({@code channel.asSubscriber()} upstream, {@code channel.iterator()}
 * downstream), {@code Flux.toIterable(256)}, {@code Flux.toStream(256)}, and a hand-made subscriber into an
 * {@code ArrayBlockingQueue} that requests 256 and replenishes 192. The sum is checked.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class S3FromFlux {

    /** Items per invocation. */
    public static final int N = 1 << 16;
    /** Batch: channel capacity, iterable/stream prefetch, hand-made subscriber's request. */
    public static final int BATCH = 256;

    /** The path under test. */
    @Param({"sluice", "toIterable", "toStream", "abqSubscriber"})
    public String impl;

    private Scheduler scheduler;
    private Flux<Long> source;

    /** Creates the source. */
    @Setup(Level.Trial)
    public void setUp() {
        scheduler = Schedulers.newSingle("s3-source", true);
        source = Flux.fromArray(Bench.items(N)).subscribeOn(scheduler);
    }

    /** Stops the source thread. */
    @TearDown(Level.Trial)
    public void tearDown() {
        scheduler.dispose();
    }

    /**
     * Iterates {@value #N} items from the Flux and checks their sum.
     *
     * @return the sum
     * @throws InterruptedException never expected
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long iterate() throws InterruptedException {
        long sum;
        switch (impl) {
            case "sluice":
                sum = viaChannel(source);
                break;
            case "toIterable":
                sum = viaIterable(source);
                break;
            case "toStream":
                sum = source.toStream(BATCH).mapToLong(Long::longValue).sum();
                break;
            case "abqSubscriber":
                sum = viaQueue(source);
                break;
            default:
                throw new IllegalArgumentException("unknown impl " + impl);
        }
        Bench.checkSum("S3 " + impl, Bench.checksum(N), sum);
        return sum;
    }

    private static long viaChannel(Flux<Long> source) throws InterruptedException {
        Channel<Long> channel = Channel.bounded(BATCH);
        source.subscribe(channel.asSubscriber());
        long sum = 0;
        try (ChannelIterator<Long> it = channel.iterator()) {
            while (true) {
                if (!it.hasNext(Bench.TIMEOUT)) {
                    if (channel.isClosedForReceive()) {
                        return sum;
                    }
                    throw Bench.stuck("ChannelIterator.hasNext");
                }
                sum += it.next();
            }
        }
    }

    private static long viaIterable(Flux<Long> source) {
        long sum = 0;
        for (Long item : source.toIterable(BATCH)) {
            sum += item;
        }
        return sum;
    }

    private static long viaQueue(Flux<Long> source) throws InterruptedException {
        QueueSubscriber subscriber = new QueueSubscriber();
        source.subscribe(subscriber);
        ArrayBlockingQueue<Object> queue = subscriber.queue;
        long sum = 0;
        while (true) {
            Object item = queue.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            if (item == null) {
                throw Bench.stuck("ArrayBlockingQueue.poll");
            }
            if (item == QueueSubscriber.END) {
                return sum;
            }
            if (item instanceof Throwable) {
                throw new IllegalStateException("upstream failed", (Throwable) item);
            }
            sum += (Long) item;
            subscriber.consumed();
        }
    }

    /** Hand-made bridge: requests what the queue can hold; the consumer replenishes 75% at a time. */
    static final class QueueSubscriber implements CoreSubscriber<Long> {
        static final Object END = new Object();
        static final int LIMIT = BATCH - (BATCH >> 2);

        /* One spare slot for END or the error. */
        final ArrayBlockingQueue<Object> queue = new ArrayBlockingQueue<>(BATCH + 1);
        private volatile Subscription upstream;
        private int consumed;

        @Override
        public void onSubscribe(Subscription s) {
            upstream = s;
            s.request(BATCH);
        }

        @Override
        public void onNext(Long item) {
            if (!queue.offer(item)) {
                upstream.cancel();
                queue.offer(new IllegalStateException("more items than requested"));
            }
        }

        @Override
        public void onError(Throwable t) {
            queue.offer(t);
        }

        @Override
        public void onComplete() {
            queue.offer(END);
        }

        /** Called by the consumer after each item. */
        void consumed() {
            if (++consumed == LIMIT) {
                consumed = 0;
                upstream.request(LIMIT);
            }
        }
    }
}
