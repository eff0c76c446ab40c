package dev.sluice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

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
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Schedulers;

import dev.sluice.Channel;
import dev.sluice.reactor.BlockingProducer;
import dev.sluice.reactor.BlockingStage;
import dev.sluice.reactor.ReactorChannels;

/**
 * S9: the bridge's operators against what a Reactor user writes instead. ns/item.
 *
 * <p>Each invocation assembles and subscribes a fresh pipeline (the operators run once per subscription), moves
 * {@value #N} preboxed items into the S2 {@link CountingSubscriber} (requests 256, replenishes 192), waits until it
 * has summed them all and checks the sum. Every buffer holds {@value #CAPACITY} items.
 *
 * <p><b>stage</b> rows: the same fused source {@code Flux.fromArray(items)} through an identity blocking stage.
 * <ul>
 * <li>{@code throughBlocking}: {@code transform(ReactorChannels.throughBlocking(256, identity))}, the stage on the
 * operator's own thread (a new virtual thread per run on JDK 21+, a platform thread on 17): the operator as shipped;</li>
 * <li>{@code throughBlockingExecutor}: the same with a persistent platform thread as the stage's executor;</li>
 * <li>{@code throughBlockingHop}: {@code throughBlocking} followed by {@code publishOn(Schedulers.single(), 256)}, so
 * the subscriber runs on the same kind of thread as in the workaround;</li>
 * <li>{@code publishOnWorkaround} (the peer): {@code publishOn(Schedulers.boundedElastic(), 256).map(identity)
 * .publishOn(Schedulers.single(), 256)}: the map is where the blocking call would go; two bounded buffers, as the
 * operator's input and output channels.</li>
 * </ul>
 *
 * <p><b>source</b> rows: a blocking producer loop sending the items, then ending.
 * <ul>
 * <li>{@code fromBlocking}: {@code ReactorChannels.fromBlocking(256, producer)} on the operator's own thread;</li>
 * <li>{@code fromBlockingExecutor}: the same on a persistent platform producer thread (the thread the peer uses);</li>
 * <li>{@code fromBlockingHop}: {@code fromBlocking} followed by {@code publishOn(Schedulers.single(), 256)};</li>
 * <li>{@code channelFlux}: the persistent producer thread sends into a {@code Channel.bounded(256)} and closes it;
 * the subscriber consumes {@code ReactorChannels.flux(channel.receiver())};</li>
 * <li>{@code createPublishOn} (the peer): {@code Flux.create(sink -> producer thread: sink.next(..)...)} (BUFFER: its
 * producer never waits, the buffer is unbounded) {@code .publishOn(Schedulers.single(), 256)}.</li>
 * </ul>
 * The Sluice rows without {@code Hop} may deliver on the producer's (stage's) thread; the peers deliver on
 * {@code single()}. Both move the same items from the same source into the same subscriber.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class S9Operators {

    /** Items per invocation. */
    public static final int N = 1 << 16;
    /** Every buffer: the operators' channels, the publishOn queues. */
    public static final int CAPACITY = 256;

    /** The pipeline under test. */
    @Param({"throughBlocking", "throughBlockingExecutor", "throughBlockingHop", "publishOnWorkaround",
            "fromBlocking", "fromBlockingExecutor", "fromBlockingHop", "channelFlux", "createPublishOn"})
    public String impl;

    private Long[] items;
    private ExecutorService worker;
    private Function<Flux<Object>, Flux<Object>> stage;
    private BlockingProducer<Object> producer;

    /** The identity stage: what a legacy blocking call would do, minus the call. */
    private static final BlockingStage<Object, Object> IDENTITY = (in, out) -> {
        while (in.hasNext()) {
            if (!out.send(in.next(), Bench.TIMEOUT)) {
                throw Bench.stuck("stage out.send");
            }
        }
    };

    /** Creates the items and the persistent worker thread. */
    @Setup(Level.Trial)
    public void setUp() {
        items = Bench.items(N);
        worker = Bench.worker(Bench.PLATFORM, "s9-worker");
        Long[] items = this.items;
        producer = out -> {
            for (int i = 0; i < N; i++) {
                if (!out.send(items[i], Bench.TIMEOUT)) {
                    throw Bench.stuck("producer out.send");
                }
            }
        };
        switch (impl) {
            case "throughBlockingExecutor":
                stage = ReactorChannels.throughBlocking(CAPACITY, IDENTITY, worker);
                break;
            case "throughBlocking":
            case "throughBlockingHop":
                stage = ReactorChannels.throughBlocking(CAPACITY, IDENTITY);
                break;
            default:
                stage = null;
        }
        pipeline(); // fails fast on an unknown impl
    }

    /** Stops the worker thread. */
    @TearDown(Level.Trial)
    public void tearDown() {
        Bench.shutdown(worker);
    }

    /**
     * Subscribes a fresh pipeline, waits until the subscriber has summed {@value #N} items and checks the sum.
     *
     * @return the sum
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long transfer() {
        CountingSubscriber subscriber = new CountingSubscriber();
        CompletableFuture<Long> consumed = subscriber.expect(N);
        Runnable start = subscribe(subscriber);
        if (start != null) {
            start.run();
        }
        long sum = Bench.await(consumed, "subscriber");
        Bench.checkSum("S9 " + impl, Bench.checksum(N), sum);
        return sum;
    }

    /** The assembled pipeline of the rows that need nothing started after subscribing. */
    private Flux<Object> pipeline() {
        switch (impl) {
            case "throughBlocking":
            case "throughBlockingExecutor":
                return source().transform(stage);
            case "throughBlockingHop":
                return source().transform(stage).publishOn(Schedulers.single(), CAPACITY);
            case "publishOnWorkaround":
                return source()
                        .publishOn(Schedulers.boundedElastic(), CAPACITY)
                        .map(Function.identity())
                        .publishOn(Schedulers.single(), CAPACITY);
            case "fromBlocking":
                return ReactorChannels.fromBlocking(CAPACITY, producer);
            case "fromBlockingExecutor":
                return ReactorChannels.fromBlocking(CAPACITY, producer, worker);
            case "fromBlockingHop":
                return ReactorChannels.fromBlocking(CAPACITY, producer).publishOn(Schedulers.single(), CAPACITY);
            case "createPublishOn":
                return Flux.create(sink -> worker.execute(() -> {
                    Long[] items = this.items;
                    for (int i = 0; i < N; i++) {
                        sink.next(items[i]);
                    }
                    sink.complete();
                }), FluxSink.OverflowStrategy.BUFFER).publishOn(Schedulers.single(), CAPACITY);
            case "channelFlux":
                return null; // a channel per invocation: see subscribe
            default:
                throw new IllegalArgumentException("unknown impl " + impl);
        }
    }

    /** Subscribes {@code subscriber}; returns what must run afterwards (the channelFlux producer), or null. */
    private Runnable subscribe(CountingSubscriber subscriber) {
        if (!"channelFlux".equals(impl)) {
            pipeline().subscribe(subscriber);
            return null;
        }
        Channel<Object> channel = Channel.bounded(CAPACITY);
        ReactorChannels.flux(channel.receiver()).subscribe(subscriber);
        return () -> worker.execute(() -> {
            try {
                Long[] items = this.items;
                for (int i = 0; i < N; i++) {
                    if (!channel.send(items[i], Bench.TIMEOUT)) {
                        throw Bench.stuck("Channel.send");
                    }
                }
                channel.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                channel.fail(e);
            } catch (RuntimeException e) {
                channel.fail(e);
            }
        });
    }

    private Flux<Object> source() {
        return Flux.<Object>fromArray(items);
    }
}
