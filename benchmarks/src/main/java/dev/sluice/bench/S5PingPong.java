package dev.sluice.bench;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Exchanger;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.conversantmedia.util.concurrent.DisruptorBlockingQueue;
import org.jctools.queues.SpscArrayQueue;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.sluice.Channel;

/**
 * S5: ping-pong latency. One operation is one round trip: the JMH thread sends an item through a "ping" transport,
 * a persistent echo thread sends it back through a "pong" transport, and the JMH thread checks it got the same item.
 * SampleTime gives p50/p99/p99.9 in ns.
 *
 * <p>{@code jctoolsSpscSpin} busy-spins on both sides: the floor on this machine, not a competitor.
 * {@code synchronousQueue}, {@code ltqTransfer} and {@code exchanger} have no buffer: run them with
 * {@code -p capacity=1} only. An {@link Exchanger} round trip is two exchanges.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class S5PingPong {

    private static final int ITEMS = 1024;
    private static final Long[] VALUES = Bench.items(ITEMS);

    /** The transport under test. */
    @Param({"sluice", "abq", "conversant", "synchronousQueue", "ltqTransfer", "exchanger", "jctoolsSpscSpin"})
    public String impl;

    /** Capacity of each of the two transports. */
    @Param({"1", "16"})
    public int capacity;

    private Echo echo;
    private ExecutorService echoThread;
    private Future<?> echoTask;
    private int next;

    /** Creates the transports and starts the echo thread. */
    @Setup(Level.Trial)
    public void setUp() {
        echo = Echo.create(impl, capacity);
        echoThread = Bench.worker(Bench.PLATFORM, "s5-echo");
        echoTask = echoThread.submit(() -> {
            try {
                echo.echoLoop();
            } catch (InterruptedException stopped) {
                // tearDown interrupts the echo thread
            }
            return null;
        });
    }

    /** Stops the echo thread; fails if it died. */
    @TearDown(Level.Trial)
    public void tearDown() {
        echo.running = false;
        Bench.shutdown(echoThread);
        if (echoTask.isDone() && !echoTask.isCancelled()) {
            Bench.await(echoTask, "echo");
        }
    }

    /**
     * One round trip.
     *
     * @return the item that came back
     * @throws Exception on timeout or a wrong item
     */
    @Benchmark
    public Object roundTrip() throws Exception {
        Long item = VALUES[next++ & (ITEMS - 1)];
        Object back = echo.roundTrip(item);
        if (back != item) {
            throw new IllegalStateException("S5 " + impl + ": sent " + item + " but got back " + back);
        }
        return back;
    }

    /** Both directions of one peer; {@link #echoLoop} runs on the echo thread. */
    abstract static class Echo {
        volatile boolean running = true;

        abstract Object roundTrip(Object item) throws Exception;

        /** Returns when interrupted or no longer running; idle waits are not failures. */
        abstract void echoLoop() throws Exception;

        static Echo create(String impl, int capacity) {
            switch (impl) {
                case "sluice":
                    return new SluiceEcho(capacity);
                case "abq":
                    return new QueueEcho(new ArrayBlockingQueue<>(capacity), new ArrayBlockingQueue<>(capacity));
                case "conversant":
                    return new QueueEcho(new DisruptorBlockingQueue<>(capacity),
                            new DisruptorBlockingQueue<>(capacity));
                case "synchronousQueue":
                    rendezvous(impl, capacity);
                    return new QueueEcho(new SynchronousQueue<>(), new SynchronousQueue<>());
                case "ltqTransfer":
                    rendezvous(impl, capacity);
                    return new TransferEcho();
                case "exchanger":
                    rendezvous(impl, capacity);
                    return new ExchangerEcho();
                case "jctoolsSpscSpin":
                    return new SpinEcho(capacity);
                default:
                    throw new IllegalArgumentException("unknown impl " + impl);
            }
        }

        private static void rendezvous(String impl, int capacity) {
            if (capacity != 1) {
                throw new IllegalArgumentException(impl + " has no buffer: run it with -p capacity=1 only, not "
                        + capacity);
            }
        }
    }

    static final class SluiceEcho extends Echo {
        private final Channel<Object> ping;
        private final Channel<Object> pong;

        SluiceEcho(int capacity) {
            ping = Channel.bounded(capacity);
            pong = Channel.bounded(capacity);
        }

        @Override
        Object roundTrip(Object item) throws InterruptedException {
            if (!ping.send(item, Bench.TIMEOUT)) {
                throw Bench.stuck("Channel.send");
            }
            Object back = pong.receive(Bench.TIMEOUT);
            if (back == null) {
                throw Bench.stuck("Channel.receive");
            }
            return back;
        }

        @Override
        void echoLoop() throws InterruptedException {
            while (running) {
                Object item = ping.receive(Bench.TIMEOUT);
                if (item != null && !pong.send(item, Bench.TIMEOUT)) {
                    throw Bench.stuck("echo Channel.send");
                }
            }
        }
    }

    static final class QueueEcho extends Echo {
        private final BlockingQueue<Object> ping;
        private final BlockingQueue<Object> pong;

        QueueEcho(BlockingQueue<Object> ping, BlockingQueue<Object> pong) {
            this.ping = ping;
            this.pong = pong;
        }

        @Override
        Object roundTrip(Object item) throws InterruptedException {
            if (!ping.offer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                throw Bench.stuck("offer");
            }
            Object back = pong.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            if (back == null) {
                throw Bench.stuck("poll");
            }
            return back;
        }

        @Override
        void echoLoop() throws InterruptedException {
            while (running) {
                Object item = ping.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
                if (item != null && !pong.offer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                    throw Bench.stuck("echo offer");
                }
            }
        }
    }

    static final class TransferEcho extends Echo {
        private final LinkedTransferQueue<Object> ping = new LinkedTransferQueue<>();
        private final LinkedTransferQueue<Object> pong = new LinkedTransferQueue<>();

        @Override
        Object roundTrip(Object item) throws InterruptedException {
            if (!ping.tryTransfer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                throw Bench.stuck("tryTransfer");
            }
            Object back = pong.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            if (back == null) {
                throw Bench.stuck("poll");
            }
            return back;
        }

        @Override
        void echoLoop() throws InterruptedException {
            while (running) {
                Object item = ping.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
                if (item != null && !pong.tryTransfer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                    throw Bench.stuck("echo tryTransfer");
                }
            }
        }
    }

    static final class ExchangerEcho extends Echo {
        private final Exchanger<Object> exchanger = new Exchanger<>();

        @Override
        Object roundTrip(Object item) throws InterruptedException, TimeoutException {
            exchanger.exchange(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            return exchanger.exchange(null, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
        }

        @Override
        void echoLoop() throws InterruptedException, TimeoutException {
            while (running) {
                Object item;
                try {
                    item = exchanger.exchange(null, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
                } catch (TimeoutException idle) {
                    continue;
                }
                exchanger.exchange(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            }
        }
    }

    /** Busy spin on both sides: the floor. */
    static final class SpinEcho extends Echo {
        private final SpscArrayQueue<Object> ping;
        private final SpscArrayQueue<Object> pong;

        SpinEcho(int capacity) {
            ping = new SpscArrayQueue<>(Math.max(2, capacity));
            pong = new SpscArrayQueue<>(Math.max(2, capacity));
        }

        @Override
        Object roundTrip(Object item) {
            while (!ping.offer(item)) {
                Thread.onSpinWait();
            }
            Object back;
            long spins = 0;
            long deadline = 0;
            while ((back = pong.poll()) == null) {
                if ((++spins & 0xFFFF) == 0) {
                    long now = System.nanoTime();
                    if (deadline == 0) {
                        deadline = now + Bench.TIMEOUT_NANOS;
                    } else if (now - deadline > 0) {
                        throw Bench.stuck("spin poll");
                    }
                }
                Thread.onSpinWait();
            }
            return back;
        }

        @Override
        void echoLoop() {
            while (running && !Thread.currentThread().isInterrupted()) {
                Object item = ping.poll();
                if (item == null) {
                    Thread.onSpinWait();
                    continue;
                }
                while (!pong.offer(item)) {
                    Thread.onSpinWait();
                }
            }
        }
    }
}
