package dev.sluice.bench;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import dev.sluice.Channel;
import dev.sluice.reactor.ReactorChannels;

/**
 * S6: the cost of one asynchronous single-value hand-off on one thread, and its allocation (read B/op from
 * {@code -prof gc}). ns/op.
 *
 * <p>One operation moves one item in and out: {@code sluiceAsync} = {@code sendAsync} into a channel with room (the
 * future is complete at once) then {@code tryReceive}; {@code sluiceMono} = the bridge's
 * {@code ReactorChannels.send(channel, x).subscribe()} then {@code ReactorChannels.receive(channel).subscribe(consumer)};
 * {@code sinksOne} = a new {@code Sinks.one()}, emit, subscribe;
 * {@code monoJust} = {@code Mono.just(x).subscribe(consumer)} (baseline); {@code completableFuture} =
 * {@code completedFuture(x).thenAccept(consumer)}. The item that comes out is checked.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class S6Mono {

    private static final int ITEMS = 1024;
    private static final Long[] VALUES = Bench.items(ITEMS);

    /** The hand-off under test. */
    @Param({"sluiceAsync", "sluiceMono", "sinksOne", "monoJust", "completableFuture"})
    public String impl;

    private Handoff handoff;
    private int next;

    /** Creates the hand-off. */
    @Setup(Level.Trial)
    public void setUp() {
        handoff = Handoff.create(impl);
    }

    /**
     * One item in and out.
     *
     * @return the item
     */
    @Benchmark
    public Object handoff() {
        Long item = VALUES[next++ & (ITEMS - 1)];
        Object out = handoff.apply(item);
        if (out != item) {
            throw new IllegalStateException("S6 " + impl + ": sent " + item + " but got " + out);
        }
        return out;
    }

    /** One single-value hand-off. */
    abstract static class Handoff {
        Object last;
        final Consumer<Object> receiver = v -> last = v;

        abstract Object apply(Object item);

        Object take() {
            Object out = last;
            last = null;
            return out;
        }

        static Handoff create(String impl) {
            switch (impl) {
                case "sluiceAsync":
                    return new SluiceAsync();
                case "sluiceMono":
                    return new SluiceMono();
                case "sinksOne":
                    return new SinksOne();
                case "monoJust":
                    return new MonoJust();
                case "completableFuture":
                    return new Future();
                default:
                    throw new IllegalArgumentException("unknown impl " + impl);
            }
        }
    }

    static final class SluiceAsync extends Handoff {
        private final Channel<Object> channel = Channel.bounded(16);

        @Override
        Object apply(Object item) {
            CompletableFuture<Void> sent = channel.sendAsync(item);
            if (!sent.isDone()) {
                throw new IllegalStateException("sendAsync with room did not complete at once");
            }
            return channel.tryReceive();
        }
    }

    static final class SluiceMono extends Handoff {
        private final Channel<Object> channel = Channel.bounded(16);

        @Override
        Object apply(Object item) {
            ReactorChannels.send(channel.sender(), item).subscribe();
            ReactorChannels.receive(channel.receiver()).subscribe(receiver);
            return take();
        }
    }

    static final class SinksOne extends Handoff {
        @Override
        Object apply(Object item) {
            Sinks.One<Object> sink = Sinks.one();
            sink.tryEmitValue(item).orThrow();
            sink.asMono().subscribe(receiver);
            return take();
        }
    }

    static final class MonoJust extends Handoff {
        @Override
        Object apply(Object item) {
            Mono.just(item).subscribe(receiver);
            return take();
        }
    }

    static final class Future extends Handoff {
        @Override
        Object apply(Object item) {
            CompletableFuture.completedFuture(item).thenAccept(receiver);
            return take();
        }
    }
}
