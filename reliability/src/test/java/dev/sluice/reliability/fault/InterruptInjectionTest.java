package dev.sluice.reliability.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelState;
import dev.sluice.ChannelStats;
import dev.sluice.SendResult;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A thread interrupted at every blocking call, before it parks and while it is parked: the call ends as documented
 * (InterruptedException, or CancellationException with the interrupt status restored for the iterator), the waiter
 * leaves the queue, a sent item is not enqueued, no item is lost, and the channel goes on working: later items and
 * the end of the channel still arrive. Then an interrupt storm: a producer and a consumer that retry after every
 * interrupt must still move every item exactly once, in order.
 */
@Timeout(30)
class InterruptInjectionTest {

    /** How a blocking call ended. */
    enum Ending {
        /** threw InterruptedException; the interrupt status is cleared. */
        INTERRUPTED_EXCEPTION,
        /** threw CancellationException caused by InterruptedException; the interrupt status is set again. */
        CANCELLATION_WITH_STATUS
    }

    /** Every blocking call of the public API, set up so that it has to wait. */
    enum BlockingCall {
        SEND(true, Ending.INTERRUPTED_EXCEPTION),
        SEND_TIMED(true, Ending.INTERRUPTED_EXCEPTION),
        SEND_ALL(true, Ending.INTERRUPTED_EXCEPTION),
        RECEIVE(false, Ending.INTERRUPTED_EXCEPTION),
        RECEIVE_TIMED(false, Ending.INTERRUPTED_EXCEPTION),
        ITERATOR_HAS_NEXT(false, Ending.CANCELLATION_WITH_STATUS),
        ITERATOR_HAS_NEXT_TIMED(false, Ending.INTERRUPTED_EXCEPTION),
        ITERATOR_NEXT(false, Ending.CANCELLATION_WITH_STATUS),
        STREAM(false, Ending.CANCELLATION_WITH_STATUS);

        final boolean sending;
        final Ending ending;

        BlockingCall(boolean sending, Ending ending) {
            this.sending = sending;
            this.ending = ending;
        }

        /** Runs the call on a channel prepared by {@link #prepare}; 100 is the item a send tries to send. */
        void run(Channel<Integer> channel) throws InterruptedException {
            switch (this) {
                case SEND -> channel.send(100);
                case SEND_TIMED -> channel.send(100, Duration.ofSeconds(20));
                case SEND_ALL -> channel.sendAll(List.of(99, 100)); // 99 fills the free slot, 100 waits
                case RECEIVE -> channel.receive();
                case RECEIVE_TIMED -> channel.receive(Duration.ofSeconds(20));
                case ITERATOR_HAS_NEXT -> {
                    try (ChannelIterator<Integer> it = channel.iterator()) {
                        it.hasNext();
                    }
                }
                case ITERATOR_HAS_NEXT_TIMED -> {
                    try (ChannelIterator<Integer> it = channel.iterator()) {
                        it.hasNext(Duration.ofSeconds(20));
                    }
                }
                case ITERATOR_NEXT -> {
                    try (ChannelIterator<Integer> it = channel.iterator()) {
                        it.next();
                    }
                }
                case STREAM -> {
                    try (Stream<Integer> stream = channel.stream()) {
                        stream.forEach(i -> fail("no item expected, got " + i));
                    }
                }
                default -> throw new AssertionError(this);
            }
        }

        /** A channel on which the call must wait: full (capacity 2, or 1 free slot for SEND_ALL) or empty. */
        Channel<Integer> prepare() {
            Channel<Integer> channel = Channel.bounded(2);
            if (sending) {
                channel.trySend(1);
                if (this != SEND_ALL) {
                    channel.trySend(2);
                }
            }
            return channel;
        }
    }

    static Stream<Arguments> calls() {
        List<Arguments> list = new ArrayList<>();
        for (BlockingCall call : BlockingCall.values()) {
            list.add(Arguments.of(call, true));
            list.add(Arguments.of(call, false));
        }
        return list.stream();
    }

    /* ---- every blocking call ---- */

    @ParameterizedTest(name = "{0}, interrupted before the call: {1}")
    @MethodSource("calls")
    void blockingCall_interrupted_endsAsDocumentedAndChannelKeepsWorking(BlockingCall call, boolean before)
            throws Exception {
        Channel<Integer> channel = call.prepare();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean statusAfter = new AtomicBoolean();
        AtomicBoolean returned = new AtomicBoolean();
        Thread caller = new Thread(() -> {
            if (before) {
                Thread.currentThread().interrupt();
            }
            try {
                call.run(channel);
                returned.set(true);
            } catch (Throwable t) {
                thrown.set(t);
            }
            statusAfter.set(Thread.interrupted());
        }, "interrupted-" + call);
        caller.start();
        if (!before) {
            awaitWaiter(channel, call.sending);
            caller.interrupt();
        }
        caller.join(TimeUnit.SECONDS.toMillis(10));
        assertTrue(!caller.isAlive(), call + " did not end after the interrupt");

        assertTrue(!returned.get(), call + " returned normally although interrupted");
        Throwable t = thrown.get();
        assertNotNull(t, call + " neither returned nor threw");
        if (call.ending == Ending.INTERRUPTED_EXCEPTION) {
            assertInstanceOf(InterruptedException.class, t, call + " threw " + t);
        } else {
            assertInstanceOf(CancellationException.class, t, call + " threw " + t);
            assertInstanceOf(InterruptedException.class, t.getCause(), "cause of " + t);
            assertTrue(statusAfter.get(), call + ": the interrupt status must be restored");
        }

        ChannelStats stats = channel.stats();
        assertEquals(0, stats.waitingSenders(), "the interrupted sender left the queue: " + stats);
        assertEquals(0, stats.waitingReceivers(), "the interrupted receiver left the queue: " + stats);
        if (call.sending) {
            // 100 was never enqueued: the buffer holds exactly what was there (plus 99 for sendAll), in order
            List<Integer> drained = new ArrayList<>();
            channel.drainTo(drained, 10);
            if (call == BlockingCall.SEND_ALL) {
                // interrupted while parked: 99 was accepted before 100 waited; interrupted before the call: 99 may
                // be refused at once (the interrupt is checked first) or accepted by the non-waiting fast path
                assertTrue(before && drained.equals(List.of(1)) || drained.equals(List.of(1, 99)),
                        "sendAll([99, 100]) left " + drained);
            } else {
                assertEquals(List.of(1, 2), drained);
            }
            assertEquals(SendResult.OK, channel.trySend(3), "the channel still accepts items");
            channel.close();
            assertEquals(3, channel.receive());
        } else {
            // nothing was lost to the dead waiter: a later item goes to the next receiver
            assertEquals(SendResult.OK, channel.trySend(7));
            assertEquals(7, channel.receive(Duration.ofSeconds(5)));
            channel.close();
        }
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertTrue(channel.termination().toCompletableFuture().isDone());
        assertNull(channel.tryReceive());
    }

    private static void awaitWaiter(Channel<Integer> channel, boolean sender) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((sender ? channel.stats().waitingSenders() : channel.stats().waitingReceivers()) == 0) {
            if (System.nanoTime() - deadline > 0) {
                fail("the call never parked: " + channel.stats());
            }
            Thread.onSpinWait();
        }
    }

    /* ---- interrupt storm ---- */

    @Test
    void interruptStorm_producerAndConsumerRetry_everyItemExactlyOnceInOrder() throws Exception {
        int items = 50_000;
        Channel<Integer> channel = Channel.bounded(2);
        AtomicLong sendInterrupts = new AtomicLong();
        AtomicLong receiveInterrupts = new AtomicLong();
        List<Integer> received = new ArrayList<>(items);
        Thread producer = new Thread(() -> {
            int i = 0;
            while (i < items) {
                try {
                    channel.send(i);
                    i++;
                } catch (InterruptedException e) {
                    sendInterrupts.incrementAndGet(); // not enqueued: send the same item again
                }
            }
            channel.close();
        }, "storm-producer");
        Thread consumer = new Thread(() -> {
            for (;;) {
                try {
                    received.add(channel.receive());
                } catch (InterruptedException e) {
                    receiveInterrupts.incrementAndGet(); // no item lost: just receive again
                } catch (ChannelClosedException end) {
                    return;
                }
            }
        }, "storm-consumer");
        producer.start();
        consumer.start();
        CompletableFuture<Void> done = CompletableFuture.allOf(
                CompletableFuture.runAsync(() -> join(producer)), CompletableFuture.runAsync(() -> join(consumer)));
        long storms = 0;
        while (!done.isDone()) {
            (storms++ % 2 == 0 ? producer : consumer).interrupt();
            for (int spin = 0; spin < 500; spin++) {
                Thread.onSpinWait();
            }
        }
        done.get(20, TimeUnit.SECONDS);

        assertEquals(items, received.size(), "lost or duplicated items; interrupts: send " + sendInterrupts
                + ", receive " + receiveInterrupts);
        for (int i = 0; i < items; i++) {
            if (received.get(i) != i) {
                fail("out of order at " + i + ": " + received.subList(Math.max(0, i - 3), Math.min(items, i + 3)));
            }
        }
        assertTrue(sendInterrupts.get() + receiveInterrupts.get() > 0, "the storm never hit a blocking call");
        assertEquals(ChannelState.COMPLETED, channel.state());
        System.out.println("interrupt storm: " + storms + " interrupts sent, " + sendInterrupts + " hit send, "
                + receiveInterrupts + " hit receive");
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
