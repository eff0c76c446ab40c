package dev.sluice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SubmissionPublisher;
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
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.concurrent.Queues;

import dev.sluice.Channel;
import dev.sluice.reactor.ReactorChannels;

/**
 * S2: a blocking producer feeding a reactive subscriber that requests 256 and replenishes at 75%. ns/item.
 *
 * <p>Sluice rows: {@code sluice} subscribes to {@code channel.asPublisher()}, {@code sluiceFlux} to the bridge's
 * {@code ReactorChannels.flux(channel)}. The JMH thread is the producer. Rows ending in {@code Hop} put every peer behind
 * {@code publishOn(single, 256)}, so the subscriber runs on another thread; the other rows are <em>direct</em>:
 * items may be delivered on the producer's thread. Compare direct with direct and hop with hop only.
 * {@code submissionPublisher} always delivers on its executor: it belongs with the hop rows. {@code fluxCreate}
 * buffers without bound (its producer never waits): it is not a bounded peer, only a reference.
 *
 * <p>The pipeline is subscribed once per trial; each invocation emits {@value #N} items and waits until the
 * subscriber has summed all of them, then checks the sum.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class S2ToFlux {

    /** Items per invocation. */
    public static final int N = 1 << 16;
    /** Bound of every buffer (the channel, the sink's queue, the publisher's buffer). */
    public static final int CAPACITY = 256;

    /** The path under test. */
    @Param({"sluice", "sluiceFlux", "sinksUnicast", "fluxCreate", "sluiceHop", "sluiceFluxHop", "sinksUnicastHop",
            "fluxCreateHop", "submissionPublisher"})
    public String impl;

    private Long[] items;
    private Scheduler hop;
    private CountingSubscriber subscriber;
    private Source source;

    /** Builds and subscribes the pipeline. */
    @Setup(Level.Trial)
    public void setUp() {
        items = Bench.items(N);
        hop = Schedulers.newSingle("s2-hop", true);
        subscriber = new CountingSubscriber();
        boolean viaHop = impl.endsWith("Hop");
        String base = viaHop ? impl.substring(0, impl.length() - 3) : impl;
        source = Source.create(base);
        if (source.flowPublisher != null) {
            source.flowPublisher.subscribe(subscriber);
        } else if (viaHop) {
            Flux.from(source.publisher).publishOn(hop, CAPACITY).subscribe(subscriber);
        } else {
            source.publisher.subscribe(subscriber);
        }
        source.subscribed();
    }

    /** Cancels the pipeline and stops its threads. */
    @TearDown(Level.Trial)
    public void tearDown() {
        subscriber.cancel();
        source.stop();
        hop.dispose();
    }

    /**
     * Emits {@value #N} items, waits for the subscriber to sum them and checks the sum.
     *
     * @return the sum
     * @throws InterruptedException never expected
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long transfer() throws InterruptedException {
        CompletableFuture<Long> consumed = subscriber.expect(N);
        Source source = this.source;
        Long[] items = this.items;
        for (int i = 0; i < N; i++) {
            source.emit(items[i]);
        }
        long sum = Bench.await(consumed, "subscriber");
        Bench.checkSum("S2 " + impl, Bench.checksum(N), sum);
        return sum;
    }

    /** A producer-side door into a reactive pipeline. */
    abstract static class Source {
        Publisher<Object> publisher;
        java.util.concurrent.Flow.Publisher<Object> flowPublisher;

        /** Blocks (or backs off) until {@code item} is accepted; throws after the timeout. */
        abstract void emit(Object item) throws InterruptedException;

        void subscribed() {
        }

        void stop() {
        }

        static Source create(String impl) {
            switch (impl) {
                case "sluice":
                    return new SluiceSource(false);
                case "sluiceFlux":
                    return new SluiceSource(true);
                case "sinksUnicast":
                    return new SinksSource();
                case "fluxCreate":
                    return new CreateSource();
                case "submissionPublisher":
                    return new SubmissionSource();
                default:
                    throw new IllegalArgumentException("unknown impl " + impl);
            }
        }
    }

    /** Sluice: blocking send; downstream {@code asPublisher()}, or the bridge's {@code ReactorChannels.flux}. */
    static final class SluiceSource extends Source {
        private final Channel<Object> channel = Channel.bounded(CAPACITY);

        SluiceSource(boolean bridge) {
            publisher = bridge ? ReactorChannels.flux(channel.receiver()) : channel.asPublisher();
        }

        @Override
        void emit(Object item) throws InterruptedException {
            if (!channel.send(item, Bench.TIMEOUT)) {
                throw Bench.stuck("Channel.send");
            }
        }

        @Override
        void stop() {
            channel.close();
        }
    }

    /** Reactor unicast sink over a bounded queue; the producer retries FAIL_OVERFLOW with a backoff. */
    static final class SinksSource extends Source {
        private final Sinks.Many<Object> sink =
                Sinks.many().unicast().onBackpressureBuffer(Queues.<Object>get(CAPACITY).get());
        private final Bench.Backoff backoff = new Bench.Backoff("Sinks.Many.tryEmitNext");

        SinksSource() {
            publisher = sink.asFlux();
        }

        @Override
        void emit(Object item) {
            Sinks.EmitResult result = sink.tryEmitNext(item);
            if (result != Sinks.EmitResult.OK) {
                do {
                    if (result != Sinks.EmitResult.FAIL_OVERFLOW) {
                        throw new IllegalStateException("tryEmitNext: " + result);
                    }
                    backoff.idle();
                } while ((result = sink.tryEmitNext(item)) != Sinks.EmitResult.OK);
                backoff.reset();
            }
        }
    }

    /** Flux.create with the default BUFFER strategy: unbounded, the producer never waits. */
    static final class CreateSource extends Source {
        private volatile FluxSink<Object> sink;

        CreateSource() {
            publisher = Flux.create(s -> sink = s, FluxSink.OverflowStrategy.BUFFER);
        }

        @Override
        void subscribed() {
            if (sink == null) {
                throw new IllegalStateException("Flux.create was not subscribed");
            }
        }

        @Override
        void emit(Object item) {
            sink.next(item);
        }
    }

    /** JDK SubmissionPublisher with a buffer of 256 on its own executor thread; offer with a 1 s timeout. */
    static final class SubmissionSource extends Source {
        private final ExecutorService executor = Bench.worker(Bench.PLATFORM, "s2-submission");
        private final SubmissionPublisher<Object> submission = new SubmissionPublisher<>(executor, CAPACITY);

        SubmissionSource() {
            flowPublisher = submission;
        }

        @Override
        void emit(Object item) {
            if (submission.offer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS, null) < 0) {
                throw Bench.stuck("SubmissionPublisher.offer");
            }
        }

        @Override
        void stop() {
            submission.close();
            Bench.shutdown(executor);
        }
    }
}
