package dev.sluice.bench;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.LiteBlockingWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import com.conversantmedia.util.concurrent.DisruptorBlockingQueue;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.jctools.queues.MpscBlockingConsumerArrayQueue;

import dev.sluice.Channel;

/*
 * One blocking transport between producer threads and one consumer thread, as used by the B shape (S1b, S4).
 *
 * put/take block with the 1 s timeout of Bench and throw when it expires. produce/consume hold the hot loops; in a
 * JMH fork only one subclass is loaded, so the put/take calls in them are monomorphic and inline.
 *
 * A peer that cannot block on one side gets Agrona's BackoffIdleStrategy with a deadline there (JCTools producer,
 * Agrona both sides, Disruptor producer when the ring is full). The LMAX Disruptor consumer is its own
 * BatchEventProcessor thread (the wait strategy is what is measured), so it overrides consume.
 */
abstract class Pipe {

    /** Names accepted by {@link #create}. */
    static final String SLUICE = "sluice";

    /** Blocks until {@code item} is accepted; throws after the timeout. Called by producer threads only. */
    abstract void put(Object item) throws InterruptedException;

    /** Blocks until an item is available; throws after the timeout. Called by the one consumer thread only. */
    abstract Object take() throws InterruptedException;

    /** Starts consumer-side threads the transport owns (the Disruptor's). */
    void start(ThreadFactory consumerThreads) {
    }

    /** Stops them. */
    void stop() {
    }

    /** Sends {@code items[from..to)}. */
    void produce(Object[] items, int from, int to) throws InterruptedException {
        for (int i = from; i < to; i++) {
            put(items[i]);
        }
    }

    /**
     * Prepares the consumer side for the next {@code n} items and returns the future of their sum. The default runs
     * {@link #consume(int)} on {@code consumerThread}.
     */
    CompletableFuture<Long> expect(int n, java.util.concurrent.Executor consumerThread) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return consume(n);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("consumer interrupted", e);
            }
        }, consumerThread);
    }

    /** Takes {@code n} items and returns their sum. */
    long consume(int n) throws InterruptedException {
        long sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (Long) take();
        }
        return sum;
    }

    /**
     * Creates a transport.
     *
     * @param impl the {@code @Param impl} name
     * @param capacity the bound
     * @param multiProducer whether several threads call {@link #put}
     */
    static Pipe create(String impl, int capacity, boolean multiProducer) {
        switch (impl) {
            case SLUICE:
                return new SluicePipe(capacity);
            case "abq":
                return new QueuePipe(new ArrayBlockingQueue<>(capacity));
            case "lbq":
                return new QueuePipe(new LinkedBlockingQueue<>(capacity));
            case "conversant":
                return new QueuePipe(new DisruptorBlockingQueue<>(capacity));
            case "synchronousQueue":
                requireRendezvous(impl, capacity);
                return new QueuePipe(new SynchronousQueue<>());
            case "ltqTransfer":
                requireRendezvous(impl, capacity);
                return new TransferPipe();
            case "jctoolsMpscBlocking":
                return new JctoolsPipe(capacity);
            case "agronaManyToOne":
                return new AgronaPipe(capacity);
            case "disruptorBlocking":
                return new DisruptorPipe(capacity, multiProducer, new BlockingWaitStrategy());
            case "disruptorLiteBlocking":
                return new DisruptorPipe(capacity, multiProducer, new LiteBlockingWaitStrategy());
            case "disruptorYielding":
                if (multiProducer) {
                    throw new IllegalArgumentException("disruptorYielding spins: never run it with more threads than "
                            + "cores (S4)");
                }
                return new DisruptorPipe(capacity, false, new YieldingWaitStrategy());
            default:
                throw new IllegalArgumentException("unknown impl " + impl);
        }
    }

    private static void requireRendezvous(String impl, int capacity) {
        if (capacity != 1) {
            throw new IllegalArgumentException(impl + " is a rendezvous (no buffer): run it with -p capacity=1 only, "
                    + "not " + capacity);
        }
    }

    /* ---- implementations ---- */

    static final class SluicePipe extends Pipe {
        private final Channel<Object> channel;

        SluicePipe(int capacity) {
            channel = Channel.bounded(capacity);
        }

        @Override
        void put(Object item) throws InterruptedException {
            if (!channel.send(item, Bench.TIMEOUT)) {
                throw Bench.stuck("Channel.send");
            }
        }

        @Override
        Object take() throws InterruptedException {
            Object item = channel.receive(Bench.TIMEOUT);
            if (item == null) {
                throw Bench.stuck("Channel.receive");
            }
            return item;
        }

        @Override
        void stop() {
            channel.close();
        }
    }

    /** Any BlockingQueue through its timed offer/poll. */
    static final class QueuePipe extends Pipe {
        private final BlockingQueue<Object> queue;

        QueuePipe(BlockingQueue<Object> queue) {
            this.queue = queue;
        }

        @Override
        void put(Object item) throws InterruptedException {
            if (!queue.offer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                throw Bench.stuck(queue.getClass().getSimpleName() + ".offer");
            }
        }

        @Override
        Object take() throws InterruptedException {
            Object item = queue.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            if (item == null) {
                throw Bench.stuck(queue.getClass().getSimpleName() + ".poll");
            }
            return item;
        }
    }

    /** LinkedTransferQueue.tryTransfer: the producer waits until the consumer has the item. */
    static final class TransferPipe extends Pipe {
        private final LinkedTransferQueue<Object> queue = new LinkedTransferQueue<>();

        @Override
        void put(Object item) throws InterruptedException {
            if (!queue.tryTransfer(item, Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS)) {
                throw Bench.stuck("LinkedTransferQueue.tryTransfer");
            }
        }

        @Override
        Object take() throws InterruptedException {
            Object item = queue.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            if (item == null) {
                throw Bench.stuck("LinkedTransferQueue.poll");
            }
            return item;
        }
    }

    /** JCTools: the consumer blocks (poll with timeout); put() does not block when full, so producers back off. */
    static final class JctoolsPipe extends Pipe {
        private final MpscBlockingConsumerArrayQueue<Object> queue;
        private final ThreadLocal<Bench.Backoff> backoff =
                ThreadLocal.withInitial(() -> new Bench.Backoff("MpscBlockingConsumerArrayQueue.offer"));

        JctoolsPipe(int capacity) {
            // JCTools needs capacity >= 2
            queue = new MpscBlockingConsumerArrayQueue<>(Math.max(2, capacity));
        }

        @Override
        void put(Object item) {
            if (!queue.offer(item)) {
                Bench.Backoff b = backoff.get();
                do {
                    b.idle();
                } while (!queue.offer(item));
                b.reset();
            }
        }

        @Override
        Object take() throws InterruptedException {
            Object item = queue.poll(Bench.TIMEOUT_NANOS, TimeUnit.NANOSECONDS);
            if (item == null) {
                throw Bench.stuck("MpscBlockingConsumerArrayQueue.poll");
            }
            return item;
        }
    }

    /** Agrona ManyToOneConcurrentArrayQueue: never blocks, so both sides back off. */
    static final class AgronaPipe extends Pipe {
        private final ManyToOneConcurrentArrayQueue<Object> queue;
        private final ThreadLocal<Bench.Backoff> producerBackoff =
                ThreadLocal.withInitial(() -> new Bench.Backoff("ManyToOneConcurrentArrayQueue.offer"));
        private final Bench.Backoff consumerBackoff = new Bench.Backoff("ManyToOneConcurrentArrayQueue.poll");

        AgronaPipe(int capacity) {
            queue = new ManyToOneConcurrentArrayQueue<>(Math.max(2, capacity));
        }

        @Override
        void put(Object item) {
            if (!queue.offer(item)) {
                Bench.Backoff b = producerBackoff.get();
                do {
                    b.idle();
                } while (!queue.offer(item));
                b.reset();
            }
        }

        @Override
        Object take() {
            Object item = queue.poll();
            if (item == null) {
                Bench.Backoff b = consumerBackoff;
                do {
                    b.idle();
                } while ((item = queue.poll()) == null);
                b.reset();
            }
            return item;
        }
    }

    /**
     * LMAX Disruptor: producers claim with next()/publish (backing off with a deadline while the ring is full), one
     * BatchEventProcessor thread sums the events with the chosen wait strategy and completes the invocation's future.
     */
    static final class DisruptorPipe extends Pipe {
        static final class Event {
            Object value;
        }

        private final int capacity;
        private final boolean multiProducer;
        private final WaitStrategy waitStrategy;
        private final ThreadLocal<Bench.Backoff> backoff =
                ThreadLocal.withInitial(() -> new Bench.Backoff("Disruptor RingBuffer.next"));
        private Disruptor<Event> disruptor;
        private RingBuffer<Event> ring;

        /* Consumer state: written by the processor thread only, except the volatile hand-over fields. */
        private long sum;
        private int count;
        private volatile int target;
        private volatile CompletableFuture<Long> done;

        DisruptorPipe(int capacity, boolean multiProducer, WaitStrategy waitStrategy) {
            this.capacity = capacity;
            this.multiProducer = multiProducer;
            this.waitStrategy = waitStrategy;
        }

        @Override
        void start(ThreadFactory consumerThreads) {
            disruptor = new Disruptor<>(Event::new, capacity, consumerThreads,
                    multiProducer ? ProducerType.MULTI : ProducerType.SINGLE, waitStrategy);
            EventHandler<Event> handler = (event, sequence, endOfBatch) -> {
                sum += (Long) event.value;
                event.value = null;
                if (++count == target) {
                    long result = sum;
                    sum = 0;
                    count = 0;
                    done.complete(result);
                }
            };
            disruptor.handleEventsWith(handler);
            ring = disruptor.start();
        }

        @Override
        void stop() {
            if (disruptor != null) {
                disruptor.halt();
            }
        }

        @Override
        void put(Object item) {
            RingBuffer<Event> ring = this.ring;
            if (!ring.hasAvailableCapacity(1)) {
                Bench.Backoff b = backoff.get();
                do {
                    b.idle();
                } while (!ring.hasAvailableCapacity(1));
                b.reset();
            }
            long sequence = ring.next();
            ring.get(sequence).value = item;
            ring.publish(sequence);
        }

        @Override
        Object take() {
            throw new UnsupportedOperationException("the Disruptor consumer is its event handler");
        }

        @Override
        CompletableFuture<Long> expect(int n, java.util.concurrent.Executor consumerThread) {
            CompletableFuture<Long> future = new CompletableFuture<>();
            target = n;
            done = future; // published to the processor thread by the producer's ring publish
            return future;
        }
    }
}
