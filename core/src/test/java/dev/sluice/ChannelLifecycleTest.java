package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitFailure;
import static dev.sluice.ContractTestSupport.awaitWaitingSenders;
import static dev.sluice.ContractTestSupport.drainNow;
import static dev.sluice.ContractTestSupport.fill;
import static dev.sluice.ContractTestSupport.fork;
import static dev.sluice.ContractTestSupport.items;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.ManualPublisher;
import dev.sluice.ContractTestSupport.RecordingHandler;
import dev.sluice.ContractTestSupport.RecordingSubscriber;
import dev.sluice.ContractTestSupport.Undelivered;

/**
 * Close vs fail vs cancel, {@link Channel#state()} and {@link Channel#termination()}: a test interface mixed into
 * {@link ChannelContractTest}, so it runs for every capacity.
 */
interface ChannelLifecycleTest {

    /** The capacity of the channels under test. */
    int capacity();

    /** A new open channel of {@link #capacity()}. */
    Channel<String> newChannel();

    /* ---- close ---- */

    @Test
    default void close_emptyChannel_completesAtOnce() throws Exception {
        Channel<String> channel = newChannel();

        channel.close();

        assertEquals(ChannelState.COMPLETED, channel.state());
        assertTrue(channel.isClosedForSend());
        assertTrue(channel.isClosedForReceive());
        assertEquals(ChannelState.COMPLETED, await(channel.termination().toCompletableFuture()));
    }

    @Test
    default void close_withItems_drainsThenCompletes() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        channel.close();

        assertEquals(ChannelState.DRAINING, channel.state());
        assertTrue(channel.isClosedForSend());
        assertFalse(channel.isClosedForReceive());
        assertFalse(channel.termination().toCompletableFuture().isDone());
        List<String> received = new ArrayList<>();
        for (int i = 0; i < capacity(); i++) {
            received.add(channel.receive());
        }
        assertEquals(items, received);
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertTrue(channel.isClosedForReceive());
        assertEquals(ChannelState.COMPLETED, await(channel.termination().toCompletableFuture()));
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertNull(end.getCause(), "a closed channel ends without a cause");
        assertThrows(ChannelClosedException.class, () -> channel.receive(PATIENCE));
        assertNull(channel.tryReceive());
    }

    @Test
    default void close_twice_changesNothingMore() {
        Channel<String> channel = newChannel();
        channel.trySend("x");

        channel.close();
        channel.close();

        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(List.of("x"), drainNow(channel));
        channel.close();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void close_wakesBlockedReceiverWithChannelClosedException() throws Throwable {
        Channel<String> channel = newChannel();
        Forked<String> receiver = fork("receiver", channel::receive);
        awaitBlockedReceiver(channel, receiver, 1);

        channel.close();

        ChannelClosedException end = assertThrows(ChannelClosedException.class, receiver::join);
        assertNull(end.getCause());
        assertEquals(0, channel.stats().waitingReceivers());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void close_withItems_iteratorDrainsThenEnds() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        channel.close();

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            iterator.forEachRemaining(received::add);
            assertFalse(iterator.hasNext());
        }
        assertEquals(items, received);
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void close_whileUpstreamItemInFlight_handsItToUndeliveredAsRejected() {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);

        channel.close();
        upstream.emitNow("late");

        assertEquals(List.of(new Undelivered<>("late", UndeliveredReason.REJECTED)), handler.calls());
        assertEquals(0, channel.stats().sent());
        assertEquals(1, channel.stats().undelivered());
        assertNull(channel.tryReceive());
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void close_byAnotherSender_cancelsTheUpstreamOfAnAsSubscriber() {
        Channel<String> channel = newChannel();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);

        channel.close();

        ContractTestSupport.awaitCondition("upstream cancelled", upstream::isCancelled);
    }

    /* ---- fail ---- */

    @Test
    default void fail_emptyChannel_failsAtOnce() throws Exception {
        Channel<String> channel = newChannel();
        IllegalStateException cause = new IllegalStateException("boom");

        channel.fail(cause);

        assertEquals(ChannelState.FAILED, channel.state());
        assertTrue(channel.isClosedForSend());
        assertTrue(channel.isClosedForReceive());
        assertEquals(ChannelState.FAILED, await(channel.termination().toCompletableFuture()));
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertSame(cause, end.getCause());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void fail_withItems_drainsThenReportsTheCause() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        IllegalStateException cause = new IllegalStateException("boom");

        channel.fail(cause);

        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(SendResult.CLOSED, channel.trySend("late"));
        assertFalse(channel.termination().toCompletableFuture().isDone());
        List<String> received = new ArrayList<>();
        for (int i = 0; i < capacity(); i++) {
            received.add(channel.receive());
        }
        assertEquals(items, received);
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertSame(cause, end.getCause());
        assertEquals(ChannelState.FAILED, channel.state());
        assertEquals(ChannelState.FAILED, await(channel.termination().toCompletableFuture()));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void fail_withItems_iteratorDrainsThenThrowsTheCause() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        IllegalStateException cause = new IllegalStateException("boom");
        channel.fail(cause);

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            for (int i = 0; i < capacity(); i++) {
                assertTrue(iterator.hasNext());
                received.add(iterator.next());
            }
            ChannelClosedException end = assertThrows(ChannelClosedException.class, iterator::hasNext);
            assertSame(cause, end.getCause());
        }
        assertEquals(items, received);
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void fail_withItems_subscriberGetsItemsThenTheCause() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(subscriber);
        IllegalStateException cause = new IllegalStateException("boom");

        channel.fail(cause);
        assertFalse(subscriber.isTerminated(), "signalled the failure before the buffer was drained");
        subscriber.request(Long.MAX_VALUE);

        assertSame(cause, subscriber.awaitError());
        assertEquals(items, subscriber.items());
        subscriber.assertNoViolations();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void fail_wakesBlockedReceiverWithTheCause() throws Throwable {
        Channel<String> channel = newChannel();
        Forked<String> receiver = fork("receiver", channel::receive);
        awaitBlockedReceiver(channel, receiver, 1);
        IllegalStateException cause = new IllegalStateException("boom");

        channel.fail(cause);

        ChannelClosedException end = assertThrows(ChannelClosedException.class, receiver::join);
        assertSame(cause, end.getCause());
    }

    @Test
    default void fail_afterClose_changesNothing() {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        channel.close();

        channel.fail(new IllegalStateException("too late"));

        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(List.of("x"), drainNow(channel));
        assertEquals(ChannelState.COMPLETED, channel.state());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertNull(end.getCause());
    }

    @Test
    default void close_afterFail_changesNothing() {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        IllegalStateException cause = new IllegalStateException("boom");
        channel.fail(cause);

        channel.close();

        assertEquals(List.of("x"), drainNow(channel));
        assertEquals(ChannelState.FAILED, channel.state());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertSame(cause, end.getCause());
    }

    /* ---- cancel ---- */

    @Test
    default void cancel_withBufferedItems_handsEachToUndeliveredExactlyOnce() throws Exception {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        List<String> items = items("x", capacity());
        fill(channel, items);

        channel.cancel();
        channel.cancel();

        List<String> undelivered = handler.items();
        Collections.sort(undelivered);
        List<String> expected = new ArrayList<>(items);
        Collections.sort(expected);
        assertEquals(expected, undelivered);
        assertTrue(handler.calls().stream().allMatch(c -> c.reason() == UndeliveredReason.CANCELLED));
        assertEquals(ChannelState.CANCELLED, channel.state());
        assertEquals(ChannelState.CANCELLED, await(channel.termination().toCompletableFuture()));
        assertTrue(channel.isClosedForSend());
        assertTrue(channel.isClosedForReceive());
        ChannelStats stats = channel.stats();
        assertEquals(0, stats.size());
        assertEquals(capacity(), stats.sent());
        assertEquals(0, stats.received());
        assertEquals(capacity(), stats.undelivered());
    }

    @Test
    default void cancel_refusesEverySender() throws Exception {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();

        channel.cancel();

        assertEquals(SendResult.CLOSED, channel.trySend("a"));
        assertThrows(ChannelClosedException.class, () -> channel.send("b"));
        assertThrows(ChannelClosedException.class, () -> channel.send("c", PATIENCE));
        assertInstanceOf(ChannelClosedException.class, awaitFailure(channel.sendAsync("d")));
        assertEquals(0, channel.trySendAll(List.of("e")));
        assertEquals(0, handler.count(), "refused items still belong to their senders");
        assertEquals(0, channel.stats().sent());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void cancel_failsBlockedAndPendingSendersWithoutTakingTheirItems() throws Throwable {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        List<String> items = items("x", capacity());
        fill(channel, items);
        Forked<Void> blocked = fork("sender", () -> {
            channel.send("blocked");
            return null;
        });
        awaitBlockedSender(channel, blocked, 1);
        CompletableFuture<Void> pending = channel.sendAsync("pending");
        awaitWaitingSenders(channel, 2);

        channel.cancel();

        assertThrows(ChannelClosedException.class, blocked::join);
        assertInstanceOf(ChannelClosedException.class, awaitFailure(pending));
        List<String> undelivered = handler.items();
        Collections.sort(undelivered);
        List<String> expected = new ArrayList<>(items);
        Collections.sort(expected);
        assertEquals(expected, undelivered);
        assertEquals(0, channel.stats().waitingSenders());
        assertEquals(capacity(), channel.stats().undelivered());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void cancel_wakesBlockedReceiverWithCancellationCause() throws Throwable {
        Channel<String> channel = newChannel();
        Forked<String> receiver = fork("receiver", channel::receive);
        awaitBlockedReceiver(channel, receiver, 1);

        channel.cancel();

        ChannelClosedException end = assertThrows(ChannelClosedException.class, receiver::join);
        assertInstanceOf(CancellationException.class, end.getCause());
        assertEquals(0, channel.stats().waitingReceivers());
    }

    @Test
    default void cancel_thenReceivers_seeTheEnd() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));

        channel.cancel();

        assertNull(channel.tryReceive());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertInstanceOf(CancellationException.class, end.getCause());
        assertEquals(0, channel.drainTo(new ArrayList<>(), 10));
        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertThrows(ChannelClosedException.class, iterator::hasNext);
        }
    }

    @Test
    default void cancel_whileDraining_discardsTheRest() throws InterruptedException {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        List<String> items = items("x", capacity());
        fill(channel, items);
        channel.close();
        int receivedBefore = capacity() > 1 ? 1 : 0; // at capacity 1, receiving the item would complete the channel
        if (receivedBefore == 1) {
            assertEquals("x0", channel.receive());
        }
        assertEquals(ChannelState.DRAINING, channel.state());

        channel.cancel();

        assertEquals(ChannelState.CANCELLED, channel.state());
        assertEquals(capacity() - receivedBefore, handler.count());
        assertEquals(new HashSet<>(items.subList(receivedBefore, capacity())), new HashSet<>(handler.items()));
        ChannelStats stats = channel.stats();
        assertEquals(stats.sent(), stats.received() + stats.undelivered());
    }

    @Test
    default void cancel_cancelsTheUpstreamOfAnAsSubscriber() {
        Channel<String> channel = newChannel();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);

        channel.cancel();

        ContractTestSupport.awaitCondition("upstream cancelled", upstream::isCancelled);
        assertEquals(ChannelState.CANCELLED, channel.state());
    }

    @Test
    default void cancel_afterCompletion_changesNothing() throws Exception {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        channel.close();

        channel.cancel();

        assertEquals(ChannelState.COMPLETED, channel.state());
        assertEquals(ChannelState.COMPLETED, await(channel.termination().toCompletableFuture()));
        assertEquals(0, handler.count());
    }

    @Test
    default void close_afterCancel_changesNothing() {
        Channel<String> channel = newChannel();
        channel.cancel();

        channel.close();
        channel.fail(new IllegalStateException("too late"));

        assertEquals(ChannelState.CANCELLED, channel.state());
    }

    /* ---- state / termination ---- */

    @Test
    default void termination_cannotBeCompletedByCallers() {
        Channel<String> channel = newChannel();

        channel.termination().toCompletableFuture().complete(ChannelState.COMPLETED);
        channel.termination().toCompletableFuture().cancel(true);

        assertFalse(channel.termination().toCompletableFuture().isDone());
        assertEquals(ChannelState.OPEN, channel.state());
        assertEquals(SendResult.OK, channel.trySend("x"));
    }

    @Test
    default void termination_completesWhenLastItemIsReceived() throws Exception {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        CompletableFuture<ChannelState> termination = channel.termination().toCompletableFuture();
        channel.close();
        assertFalse(termination.isDone());

        channel.tryReceive();

        assertEquals(ChannelState.COMPLETED, termination.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Test
    default void state_terminalStates_areTerminal() {
        assertFalse(ChannelState.OPEN.isTerminal());
        assertFalse(ChannelState.DRAINING.isTerminal());
        assertTrue(ChannelState.COMPLETED.isTerminal());
        assertTrue(ChannelState.FAILED.isTerminal());
        assertTrue(ChannelState.CANCELLED.isTerminal());
    }
}
