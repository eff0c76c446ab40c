package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitCondition;
import static dev.sluice.ContractTestSupport.awaitFailure;
import static dev.sluice.ContractTestSupport.awaitWaitingReceivers;
import static dev.sluice.ContractTestSupport.awaitWaitingSenders;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Supplier;

import org.junit.jupiter.api.function.Executable;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.ManualPublisher;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/*
 * The scenarios of "errors from user code never break the channel" (issue 12, contract 7), each run with a given
 * throwable: UserCallbackErrorTest runs them with a RuntimeException and a plain Error (they pass today),
 * CoreV2RegressionTest with a StackOverflowError (they fail today: the core rethrows VirtualMachineErrors from
 * ChannelCore.callbackFailed in the middle of cancel()'s discard loop and of a subscription's drain loop).
 *
 * What must hold whatever the callback throws: every accepted item is delivered or handed to onUndelivered exactly
 * once, every waiter wakes, the channel reaches its terminal state, and the error does not surface in a party that
 * did nothing wrong (a producer whose item was accepted). Where the error goes instead is left open, with one
 * allowance: a VirtualMachineError may be rethrown to the thread that ran the callback once the channel has done
 * its work (cancel() may rethrow it after every item was handed over and every waiter woke); anything else is
 * logged and counted (stats().callbackFailures()) and never rethrown.
 */
final class UserCallbackFaults {

    private UserCallbackFaults() {
    }

    /** Throws {@code t}, which must be unchecked. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw new AssertionError("the scenarios inject unchecked throwables only, not " + t, t);
    }

    /* ---- onUndelivered throws during cancel() ---- */

    /**
     * Capacity 4, full (items 0..3), a blocked send(4), a pending sendAsync(5), a subscriber without demand; the
     * handler throws {@code failure} on every call; then cancel(). Every buffered item must reach the handler once,
     * the blocked send must throw ChannelClosedException, the future must fail with it, the subscriber must see
     * onError, and the channel must end CANCELLED.
     */
    static void cancel_withHandlerThrowingOnEveryItem(Supplier<Throwable> failure) throws Exception {
        final int capacity = 4;
        AtomicIntegerArray handled = new AtomicIntegerArray(capacity + 2);
        List<Throwable> injected = new CopyOnWriteArrayList<>();
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(capacity)
                .onUndelivered((item, reason) -> {
                    handled.incrementAndGet(item);
                    Throwable t = failure.get();
                    injected.add(t);
                    throw rethrow(t);
                })
                .build();
        for (int i = 0; i < capacity; i++) {
            assertEquals(SendResult.OK, channel.trySend(i));
        }
        Forked<Void> blockedSend = fork("blocked-send-4", () -> {
            channel.send(capacity);
            return null;
        });
        awaitBlockedSender(channel, blockedSend, 1);
        CompletableFuture<Void> pendingSend = channel.sendAsync(capacity + 1);
        awaitWaitingSenders(channel, 2);
        RecordingSubscriber<Integer> idle = new RecordingSubscriber<>(0);
        channel.asPublisher().subscribe(idle);
        idle.awaitSubscribed();

        Throwable fromCancel = null;
        try {
            channel.cancel();
        } catch (Throwable t) {
            fromCancel = t;
        }
        Throwable thrownByCancel = fromCancel;

        List<Executable> checks = new ArrayList<>();
        checks.add(() -> {
            if (thrownByCancel != null && !(thrownByCancel instanceof VirtualMachineError
                    && injected.contains(thrownByCancel))) {
                fail("cancel() threw " + thrownByCancel + "; only an injected VirtualMachineError may be rethrown"
                        + " (after the channel did its work), anything else is logged and counted", thrownByCancel);
            }
        });
        checks.add(() -> {
            Throwable t = assertThrows(Throwable.class, blockedSend::join,
                    "the blocked send(4) must be refused, not accepted (the channel was full and then cancelled)");
            assertInstanceOf(ChannelClosedException.class, t, "the blocked send(4) must wake with"
                    + " ChannelClosedException; it got " + t);
        });
        checks.add(() -> assertInstanceOf(ChannelClosedException.class, awaitFailure(pendingSend),
                "the pending sendAsync(5) must fail with ChannelClosedException"));
        checks.add(() -> {
            StringBuilder wrong = new StringBuilder();
            for (int i = 0; i < handled.length(); i++) {
                int expected = i < capacity ? 1 : 0;
                if (handled.get(i) != expected) {
                    wrong.append(" item ").append(i).append(": ").append(handled.get(i)).append(" calls (expected ")
                            .append(expected).append(");");
                }
            }
            if (wrong.length() > 0) {
                fail("every accepted item must reach onUndelivered exactly once, refused ones never:" + wrong
                        + " " + channel.stats());
            }
        });
        checks.add(() -> {
            Throwable end = idle.awaitError();
            assertInstanceOf(ChannelClosedException.class, end, "the subscriber must see the cancel");
        });
        checks.add(() -> assertEquals(ChannelState.CANCELLED,
                channel.termination().toCompletableFuture().get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS),
                "termination() must complete"));
        assertAll("cancel() with onUndelivered throwing " + failure.get(), checks.stream());

        ChannelStats stats = channel.stats();
        assertAll("after the cancel",
                () -> assertEquals(ChannelState.CANCELLED, channel.state()),
                () -> assertEquals(0, stats.size(), stats.toString()),
                () -> assertEquals(capacity, stats.sent(), stats.toString()),
                () -> assertEquals(capacity, stats.undelivered(), stats.toString()),
                () -> assertEquals(capacity, stats.callbackFailures(), stats.toString()),
                () -> assertEquals(0, stats.waitingSenders(), stats.toString()),
                () -> assertEquals(0, stats.subscribers(), stats.toString()),
                () -> assertEquals(SendResult.CLOSED, channel.trySend(99)),
                () -> assertThrows(ChannelClosedException.class, channel::receive));
    }

    /* ---- onNext throws inside a producer's call ---- */

    /** The door through which the producer's item arrives while a subscription waits with demand. */
    enum Producer {
        TRY_SEND, SEND, SEND_ASYNC, SEND_ALL, UPSTREAM;

        /** A producer bound to one channel. */
        Door open(Channel<Integer> channel) {
            if (this == UPSTREAM) {
                ManualPublisher<Integer> upstream = new ManualPublisher<>();
                upstream.subscribe(channel.asSubscriber());
                return item -> upstream.push(item);
            }
            return item -> {
                switch (this) {
                    case TRY_SEND:
                        assertEquals(SendResult.OK, channel.trySend(item));
                        break;
                    case SEND:
                        channel.send(item);
                        break;
                    case SEND_ASYNC:
                        channel.sendAsync(item).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                        break;
                    default:
                        channel.sendAll(List.of(item));
                        break;
                }
            };
        }
    }

    /** Sends one item. */
    @FunctionalInterface
    interface Door {
        void send(int item) throws Exception;
    }

    /**
     * Capacity 4, empty; a subscriber with unbounded demand whose onNext throws {@code failure} waits first, a
     * healthy subscriber second. The producer sends item 0 through {@code producer}: the item is handed to the
     * broken subscriber on the producer's own thread. The producer's call must return normally (its item was
     * accepted), the broken subscription must be unregistered and signalled no more, and items 1..3 must reach the
     * healthy subscriber, which completes on close().
     */
    static void onNext_throwingInsideTheProducersCall(Producer producer, Supplier<Throwable> failure)
            throws Exception {
        Channel<Integer> channel = Channel.bounded(4);
        RecordingSubscriber<Integer> broken = new RecordingSubscriber<Integer>(Long.MAX_VALUE)
                .onEachItem(item -> {
                    throw rethrow(failure.get());
                });
        channel.asPublisher().subscribe(broken);
        awaitWaitingReceivers(channel, 1);
        RecordingSubscriber<Integer> healthy = new RecordingSubscriber<>(Long.MAX_VALUE);
        channel.asPublisher().subscribe(healthy);
        awaitWaitingReceivers(channel, 2);
        Door door = producer.open(channel);

        Throwable fromProducer = null;
        try {
            door.send(0);
        } catch (Throwable t) {
            fromProducer = t;
        }
        Throwable thrown = fromProducer;
        ChannelStats afterFirst = channel.stats();
        assertAll(producer + " of item 0 while the head subscriber's onNext throws " + failure.get(),
                () -> {
                    if (thrown != null) {
                        fail("the producer's " + producer + " threw " + thrown + ", but its item was accepted and"
                                + " passed to onNext: a subscriber's error must not surface in the producer", thrown);
                    }
                },
                () -> assertEquals(List.of(0), broken.items(), "item 0 goes to the subscriber that waited first"),
                () -> assertEquals(1, afterFirst.subscribers(), "the broken subscription must be unregistered"
                        + " (rule 2.13), the healthy one stays: " + afterFirst),
                () -> assertEquals(1, afterFirst.received(), "item 0 counts as delivered: " + afterFirst),
                () -> assertEquals(1, afterFirst.callbackFailures(), "the failure is counted: " + afterFirst));

        for (int i = 1; i < 4; i++) {
            door.send(i);
        }
        healthy.awaitItems(3);
        channel.close();
        healthy.awaitCompleted();
        healthy.assertNoViolations();
        assertEquals(List.of(1, 2, 3), healthy.items(), "later items go to the other consumer");
        assertEquals(List.of(0), broken.items(), "no item after the failing onNext");
        assertFalse(broken.isTerminated(), "no terminal signal to a subscriber whose onNext threw (rule 2.13)");
        ChannelStats end = channel.stats();
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertEquals(0, end.subscribers(), end.toString());
        assertEquals(4, end.sent(), end.toString());
        assertEquals(4, end.received(), end.toString());
        assertEquals(0, end.size(), end.toString());
        awaitCondition("termination() to complete", () -> channel.termination().toCompletableFuture().isDone());
        assertTrue(channel.isClosedForReceive());
    }
}
