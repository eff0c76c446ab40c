package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitFailure;
import static dev.sluice.ContractTestSupport.drainNow;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Subscriber;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.ManualPublisher;
import dev.sluice.ContractTestSupport.RecordingHandler;
import dev.sluice.ContractTestSupport.RecordingSubscriber;
import dev.sluice.ContractTestSupport.Undelivered;

/**
 * Bad input gets a clear exception naming the argument and value, and changes nothing (DESIGN.md, contract 7);
 * misbehaving callbacks and interrupts never corrupt the channel.
 *
 * <p>Each test starts from an open channel of capacity 4 holding "a" and "b", so that "changes nothing" is checked
 * against a non-trivial state.
 */
@Timeout(value = 10, threadMode = SEPARATE_THREAD)
class ChannelBadInputTest {

    private static final int CAPACITY = 4;

    private final RecordingHandler<String> handler = new RecordingHandler<>();
    private final Channel<String> channel =
            Channel.<String>builder().capacity(CAPACITY).onUndelivered(handler).build();

    ChannelBadInputTest() {
        channel.trySend("a");
        channel.trySend("b");
    }

    /* ---- null items ---- */

    @Test
    void trySend_nullItem_throwsNpeNamingItemAndChangesNothing() {
        assertRejected(NullPointerException.class, "item", () -> channel.trySend(null));
    }

    @Test
    void send_nullItem_throwsNpeNamingItemAndChangesNothing() {
        assertRejected(NullPointerException.class, "item", () -> channel.send(null));
    }

    @Test
    void sendWithTimeout_nullItem_throwsNpeNamingItemAndChangesNothing() {
        assertRejected(NullPointerException.class, "item", () -> channel.send(null, PATIENCE));
    }

    @Test
    void sendAsync_nullItem_throwsNpeNamingItemAndChangesNothing() {
        assertRejected(NullPointerException.class, "item", () -> channel.sendAsync(null));
    }

    @Test
    void senderView_nullItem_throwsNpeNamingItemAndChangesNothing() {
        ChannelSender<String> sender = channel.sender();

        assertRejected(NullPointerException.class, "item", () -> sender.trySend(null));
        assertRejected(NullPointerException.class, "item", () -> sender.send(null));
        assertRejected(NullPointerException.class, "item", () -> sender.sendAsync(null));
    }

    @Test
    void openSenderHandle_nullItem_throwsNpeNamingItemAndChangesNothing() {
        ChannelSender<String> handle = channel.openSender();

        assertRejected(NullPointerException.class, "item", () -> handle.trySend(null));
        assertRejected(NullPointerException.class, "item", () -> handle.send(null, PATIENCE));
        assertRejected(NullPointerException.class, "item", () -> handle.sendAsync(null));
        handle.close();
    }

    @Test
    void trySendAll_nullList_throwsNpeNamingItems() {
        assertRejected(NullPointerException.class, "items", () -> channel.trySendAll(null));
    }

    @Test
    void trySendAll_listContainingNull_sendsNothing() {
        NullPointerException e = assertRejected(NullPointerException.class, null,
                () -> channel.trySendAll(Arrays.asList("c", null)));

        assertTrue(e.getMessage() != null && e.getMessage().contains("items"), "message " + e.getMessage());
    }

    @Test
    void sendAll_nullIterable_throwsNpeNamingItems() {
        assertRejected(NullPointerException.class, "items", () -> channel.sendAll(null));
    }

    @Test
    void sendAll_collectionContainingNull_sendsNothing() {
        NullPointerException e = assertRejected(NullPointerException.class, null,
                () -> channel.sendAll(Arrays.asList("c", null)));

        assertTrue(e.getMessage() != null && e.getMessage().contains("items"), "message " + e.getMessage());
    }

    @Test
    void sendAll_plainIterableContainingNull_sendsThePrefixThenThrows() {
        Iterable<String> items = () -> Arrays.asList("c", null, "d").iterator();

        NullPointerException e = assertThrows(NullPointerException.class, () -> channel.sendAll(items));

        assertTrue(e.getMessage() != null && e.getMessage().contains("items"), "message " + e.getMessage());
        assertEquals(List.of("a", "b", "c"), drainNow(channel));
    }

    /* ---- null arguments ---- */

    @Test
    void sendWithTimeout_nullTimeout_throwsNpeNamingTimeout() {
        assertRejected(NullPointerException.class, "timeout", () -> channel.send("c", null));
    }

    @Test
    void receiveWithTimeout_nullTimeout_throwsNpeNamingTimeout() {
        assertRejected(NullPointerException.class, "timeout", () -> channel.receive(null));
    }

    @Test
    void hasNextWithTimeout_nullTimeout_throwsNpeNamingTimeout() {
        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertRejected(NullPointerException.class, "timeout", () -> iterator.hasNext(null));
        }
    }

    @Test
    void drainTo_nullSink_throwsNpeNamingSink() {
        assertRejected(NullPointerException.class, "sink", () -> channel.drainTo(null, 1));
    }

    @Test
    void fail_nullCause_throwsNpeNamingCause() {
        assertRejected(NullPointerException.class, "cause", () -> channel.fail(null));
    }

    @Test
    void builder_nullHandler_throwsNpeNamingHandler() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> Channel.<String>builder().onUndelivered(null));

        assertEquals("handler", e.getMessage());
    }

    @Test
    void asPublisher_nullSubscriber_throwsNpe() {
        assertRejected(NullPointerException.class, null,
                () -> channel.asPublisher().subscribe((Subscriber<String>) null));
        assertRejected(NullPointerException.class, null,
                () -> channel.asFlowPublisher().subscribe((Flow.Subscriber<String>) null));
    }

    @Test
    void asSubscriber_nullSignals_throwNpe() {
        Subscriber<String> sink = channel.asSubscriber();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(sink);

        assertRejected(NullPointerException.class, null, () -> sink.onSubscribe(null));
        assertRejected(NullPointerException.class, null, () -> sink.onNext(null));
        assertRejected(NullPointerException.class, null, () -> sink.onError(null));
        assertFalse(upstream.isCancelled(), "a rejected null signal must not change the subscription");
    }

    @Test
    void asFlowSubscriber_nullSignals_throwNpe() {
        Flow.Subscriber<String> sink = channel.asFlowSubscriber();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(sink);

        assertRejected(NullPointerException.class, null, () -> sink.onSubscribe(null));
        assertRejected(NullPointerException.class, null, () -> sink.onNext(null));
        assertRejected(NullPointerException.class, null, () -> sink.onError(null));
    }

    /* ---- capacity ---- */

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void bounded_capacityBelowOne_throwsIaeNamingTheValue(int capacity) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Channel.bounded(capacity));

        assertEquals("capacity must be >= 1 but was " + capacity + " (Channel.rendezvous() has no buffer)",
                e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, Integer.MIN_VALUE})
    void builder_capacityBelowZero_throwsIaeAndLeavesTheBuilderUnchanged(int capacity) {
        Channel.Builder<String> builder = Channel.<String>builder().capacity(8);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> builder.capacity(capacity));

        assertEquals("capacity must be >= 0 but was " + capacity, e.getMessage());
        assertEquals(8, builder.build().capacity());
    }

    @Test
    void builder_withoutCapacity_builds256() {
        assertEquals(256, Channel.<String>builder().build().capacity());
    }

    /* ---- drainTo ---- */

    @Test
    void drainTo_negativeMax_throwsIaeNamingTheValueAndMovesNothing() {
        List<String> sink = new ArrayList<>();

        assertRejected(IllegalArgumentException.class, "max must be >= 0 but was -1", () -> channel.drainTo(sink, -1));

        assertTrue(sink.isEmpty());
    }

    @Test
    void drainTo_sinkThatRefusesItems_throwsAndLosesNothing() {
        assertThrows(UnsupportedOperationException.class, () -> channel.drainTo(List.of(), 10));

        assertEquals(List.of("a", "b"), drainNow(channel), "items removed for a refusing sink were lost");
        assertEquals(2, channel.stats().received());
        assertEquals(0, handler.count());
    }

    @Test
    void drainTo_sinkThatRefusesTheSecondItem_keepsTheSecond() {
        List<String> sink = new ArrayList<>() {
            @Override
            public boolean add(String item) {
                if (size() == 1) {
                    throw new IllegalStateException("sink full");
                }
                return super.add(item);
            }
        };

        assertThrows(IllegalStateException.class, () -> channel.drainTo(sink, 10));

        assertEquals(List.of("a"), sink);
        assertEquals(List.of("b"), drainNow(channel), "the refused item was lost");
        ChannelStats stats = channel.stats();
        assertEquals(stats.sent(), stats.received() + stats.size());
    }

    /* ---- demand (rules 3.9 and 3.17) ---- */

    @ParameterizedTest
    @ValueSource(longs = {0, -1, Long.MIN_VALUE})
    void request_nonPositive_signalsIllegalArgumentExceptionAndTakesNothing(long n) throws InterruptedException {
        ChannelStats before = channel.stats();
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(subscriber);

        subscriber.request(n);

        Throwable error = subscriber.awaitError();
        assertInstanceOf(IllegalArgumentException.class, error, "rule 3.9");
        assertTrue(String.valueOf(error.getMessage()).contains(Long.toString(n)), "message " + error.getMessage());
        assertTrue(subscriber.items().isEmpty());
        assertEquals(before, channel.stats());
        assertEquals(ChannelState.OPEN, channel.state());
        assertEquals(List.of("a", "b"), drainNow(channel));
    }

    @Test
    void request_zeroOnFlowView_signalsIllegalArgumentException() throws InterruptedException {
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asFlowPublisher().subscribe(subscriber);

        subscriber.request(0);

        assertInstanceOf(IllegalArgumentException.class, subscriber.awaitError(), "rule 3.9");
        assertEquals(0, channel.stats().subscribers());
        assertEquals(2, channel.stats().size());
    }

    @Test
    void request_afterBadRequest_deliversNothing() throws InterruptedException {
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(subscriber);
        subscriber.request(-1);
        subscriber.awaitError();

        subscriber.request(10);

        assertTrue(subscriber.items().isEmpty());
        assertEquals(2, channel.stats().size());
        subscriber.assertNoViolations();
    }

    @Test
    void request_summingPastLongMax_capsAtLongMax() {
        Channel<String> empty = Channel.bounded(CAPACITY);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        empty.asPublisher().subscribe(subscriber);

        subscriber.request(1);
        subscriber.request(Long.MAX_VALUE);
        subscriber.request(Long.MAX_VALUE);

        assertFalse(subscriber.isTerminated(), "rule 3.17: " + subscriber.error());
        assertEquals(Long.MAX_VALUE, empty.stats().outstandingDemand());
        for (String item : ContractTestSupport.items("x", 3 * CAPACITY)) {
            assertEquals(SendResult.OK, empty.trySend(item));
        }
        subscriber.awaitItems(3 * CAPACITY);
        assertEquals(ContractTestSupport.items("x", 3 * CAPACITY), subscriber.items());
        subscriber.assertNoViolations();
    }

    /* ---- calls after the end ---- */

    @Test
    void afterClose_sendsAreRefusedAndChangeNothing() throws Exception {
        channel.close();
        ChannelStats before = channel.stats();

        assertEquals(SendResult.CLOSED, channel.trySend("c"));
        assertThrows(ChannelClosedException.class, () -> channel.send("c"));
        assertThrows(ChannelClosedException.class, () -> channel.send("c", PATIENCE));
        assertInstanceOf(ChannelClosedException.class, awaitFailure(channel.sendAsync("c")));
        assertEquals(0, channel.trySendAll(List.of("c")));
        assertThrows(ChannelClosedException.class, () -> channel.sendAll(List.of("c")));
        assertThrows(ChannelClosedException.class, channel::openSender);
        channel.close();
        channel.fail(new IllegalStateException("too late"));

        assertEquals(before, channel.stats());
        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(List.of("a", "b"), drainNow(channel));
        assertEquals(0, handler.count());
    }

    @Test
    void afterCancel_everyCallIsRefusedAndChangesNothing() throws Exception {
        channel.cancel();
        ChannelStats before = channel.stats();

        assertEquals(SendResult.CLOSED, channel.trySend("c"));
        assertThrows(ChannelClosedException.class, () -> channel.send("c"));
        assertInstanceOf(ChannelClosedException.class, awaitFailure(channel.sendAsync("c")));
        assertNull(channel.tryReceive());
        assertThrows(ChannelClosedException.class, channel::receive);
        assertThrows(ChannelClosedException.class, () -> channel.receive(PATIENCE));
        assertEquals(0, channel.drainTo(new ArrayList<>(), 10));
        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertThrows(ChannelClosedException.class, iterator::hasNext);
        }
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(1);
        channel.asPublisher().subscribe(subscriber);
        assertInstanceOf(ChannelClosedException.class, subscriber.awaitError());
        channel.close();
        channel.fail(new IllegalStateException("too late"));
        channel.cancel();

        assertEquals(before, channel.stats());
        assertEquals(ChannelState.CANCELLED, channel.state());
        assertEquals(List.of("a", "b"), handler.items().stream().sorted().toList());
    }

    @Test
    void afterCompletion_receiversSeeTheEndWithoutCause() throws Exception {
        drainNow(channel);
        channel.close();

        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertNull(end.getCause());
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(subscriber);
        subscriber.awaitCompleted();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    /* ---- throwing callbacks ---- */

    @Test
    void cancel_withThrowingUndeliveredHandler_stillDiscardsEachItemOnceAndCountsFailures() {
        List<String> seen = new CopyOnWriteArrayList<>();
        Channel<String> throwing = Channel.<String>builder().capacity(CAPACITY).onUndelivered((item, reason) -> {
            seen.add(item);
            throw new IllegalStateException("handler broke on " + item);
        }).build();
        List<String> items = ContractTestSupport.items("x", 3);
        throwing.trySendAll(items);

        throwing.cancel();

        assertEquals(new HashSet<>(items), new HashSet<>(seen));
        assertEquals(3, seen.size());
        ChannelStats stats = throwing.stats();
        assertEquals(3, stats.callbackFailures());
        assertEquals(3, stats.undelivered());
        assertEquals(0, stats.size());
        assertEquals(ChannelState.CANCELLED, throwing.state());
    }

    @Test
    void onNext_throwing_isCountedAndTheChannelGoesOn() {
        Channel<String> fresh = Channel.bounded(CAPACITY);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<String>(1).onEachItem(item -> {
            throw new IllegalStateException("subscriber broke on " + item);
        });
        fresh.asPublisher().subscribe(subscriber);

        assertEquals(SendResult.OK, fresh.trySend("x"));

        assertEquals(List.of("x"), subscriber.items());
        ChannelStats stats = fresh.stats();
        assertEquals(1, stats.callbackFailures());
        assertEquals(1, stats.received(), "an item passed to onNext counts as delivered");
        assertEquals(0, stats.size());
        assertEquals(ChannelState.OPEN, fresh.state());
        assertEquals(SendResult.OK, fresh.trySend("y"));
        assertEquals("y", fresh.tryReceive());
        fresh.close();
        assertEquals(ChannelState.COMPLETED, fresh.state());
    }

    @Test
    void onNext_throwing_cancelsThatSubscription() {
        Channel<String> fresh = Channel.bounded(CAPACITY);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<String>(2).onEachItem(item -> {
            throw new IllegalStateException("subscriber broke on " + item);
        });
        fresh.asPublisher().subscribe(subscriber);

        fresh.trySend("x");
        fresh.trySend("y");

        assertEquals(List.of("x"), subscriber.items(), "rule 2.13: the subscription is cancelled");
        assertEquals(0, fresh.stats().subscribers());
        assertEquals("y", fresh.tryReceive());
    }

    @Test
    void onNext_throwingInsideRequest_doesNotReachTheRequester() {
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<String>().onEachItem(item -> {
            throw new IllegalStateException("subscriber broke on " + item);
        });
        channel.asPublisher().subscribe(subscriber);

        subscriber.request(1);

        assertEquals(List.of("a"), subscriber.items());
        assertEquals(1, channel.stats().callbackFailures());
        assertEquals(List.of("b"), drainNow(channel));
    }

    /* ---- interrupts ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void send_interruptedWhileBlocked_throwsAndKeepsTheItem() throws Throwable {
        fillUp();
        Forked<Void> sender = fork("sender", () -> {
            channel.send("late");
            return null;
        });
        awaitBlockedSender(channel, sender, 1);

        sender.thread().interrupt();

        assertThrows(InterruptedException.class, sender::join);
        assertUsableAfterInterruptedSend();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendWithTimeout_interruptedWhileBlocked_throwsAndKeepsTheItem() throws Throwable {
        fillUp();
        Forked<Boolean> sender = fork("sender", () -> channel.send("late", Duration.ofSeconds(30)));
        awaitBlockedSender(channel, sender, 1);

        sender.thread().interrupt();

        assertThrows(InterruptedException.class, sender::join);
        assertUsableAfterInterruptedSend();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAll_interruptedWhileBlocked_keepsTheUnsentItems() throws Throwable {
        fillUp();
        Forked<Void> sender = fork("sender", () -> {
            channel.sendAll(List.of("late", "later"));
            return null;
        });
        awaitBlockedSender(channel, sender, 1);

        sender.thread().interrupt();

        assertThrows(InterruptedException.class, sender::join);
        assertUsableAfterInterruptedSend();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receive_interruptedWhileBlocked_throwsAndLosesNothing() throws Throwable {
        drainNow(channel);
        Forked<String> receiver = fork("receiver", channel::receive);
        awaitBlockedReceiver(channel, receiver, 1);

        receiver.thread().interrupt();

        assertThrows(InterruptedException.class, receiver::join);
        assertUsableAfterInterruptedReceive();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receiveWithTimeout_interruptedWhileBlocked_throwsAndLosesNothing() throws Throwable {
        drainNow(channel);
        Forked<String> receiver = fork("receiver", () -> channel.receive(Duration.ofSeconds(30)));
        awaitBlockedReceiver(channel, receiver, 1);

        receiver.thread().interrupt();

        assertThrows(InterruptedException.class, receiver::join);
        assertUsableAfterInterruptedReceive();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void hasNext_interruptedWhileBlocked_throwsCancellationWithInterruptedCause() throws Throwable {
        drainNow(channel);
        ChannelIterator<String> iterator = channel.iterator();
        Forked<Boolean> consumer = fork("consumer", iterator::hasNext);
        awaitBlockedReceiver(channel, consumer, 1);

        consumer.thread().interrupt();

        CancellationException e = assertThrows(CancellationException.class, consumer::join);
        assertInstanceOf(InterruptedException.class, e.getCause());
        assertTrue(consumer.interruptStatusAtEnd(), "the interrupt status must be restored");
        assertUsableAfterInterruptedReceive();
        iterator.close();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void next_interruptedWhileBlocked_throwsCancellationWithInterruptedCause() throws Throwable {
        drainNow(channel);
        ChannelIterator<String> iterator = channel.iterator();
        Forked<String> consumer = fork("consumer", iterator::next);
        awaitBlockedReceiver(channel, consumer, 1);

        consumer.thread().interrupt();

        CancellationException e = assertThrows(CancellationException.class, consumer::join);
        assertInstanceOf(InterruptedException.class, e.getCause());
        assertTrue(consumer.interruptStatusAtEnd(), "the interrupt status must be restored");
        assertUsableAfterInterruptedReceive();
        iterator.close();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void hasNextWithTimeout_interruptedWhileBlocked_throwsInterruptedException() throws Throwable {
        drainNow(channel);
        ChannelIterator<String> iterator = channel.iterator();
        Forked<Boolean> consumer = fork("consumer", () -> iterator.hasNext(Duration.ofSeconds(30)));
        awaitBlockedReceiver(channel, consumer, 1);

        consumer.thread().interrupt();

        assertThrows(InterruptedException.class, consumer::join);
        assertUsableAfterInterruptedReceive();
        iterator.close();
    }

    /* ---- upstream protocol ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asSubscriber_upstreamSendingMoreThanRequested_failsTheChannelAndRejectsTheExtraItem()
            throws InterruptedException {
        drainNow(channel);
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);
        String last = null;
        for (int i = 0; upstream.emitted() <= upstream.requested(); i++) {
            last = "u" + i;
            upstream.emitNow(last);
        }

        assertTrue(channel.isClosedForSend(), "an upstream overflow must fail the channel");
        assertEquals(List.of(new Undelivered<>(last, UndeliveredReason.REJECTED)), handler.calls());
        List<String> received = drainNow(channel);
        assertEquals(upstream.emitted() - 1, received.size());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertInstanceOf(IllegalStateException.class, end.getCause());
        assertEquals(ChannelState.FAILED, channel.state());
    }

    /* ---- helpers ---- */

    private void fillUp() {
        while (channel.trySend("filler") == SendResult.OK) {
            // fill the remaining slots
        }
        assertEquals(CAPACITY, channel.stats().size());
    }

    private void assertUsableAfterInterruptedSend() throws InterruptedException {
        assertEquals(0, channel.stats().waitingSenders());
        assertEquals(CAPACITY, channel.stats().sent(), "an interrupted send must not enqueue its item");
        assertEquals("a", channel.receive(PATIENCE));
        assertEquals(SendResult.OK, channel.trySend("after"));
        List<String> rest = drainNow(channel);
        assertFalse(rest.contains("late"), "interrupted item was enqueued: " + rest);
        assertFalse(rest.contains("later"), "unsent item was enqueued: " + rest);
        assertEquals("after", rest.get(rest.size() - 1));
        assertEquals(ChannelState.OPEN, channel.state());
    }

    private void assertUsableAfterInterruptedReceive() throws InterruptedException {
        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(SendResult.OK, channel.trySend("after"));
        assertEquals("after", channel.receive(PATIENCE), "the interrupted receiver must not take items");
        assertEquals(ChannelState.OPEN, channel.state());
    }

    /**
     * Runs {@code call}, expects {@code type} with exactly {@code message} (when not {@code null}), and checks that
     * the channel's stats and state did not change.
     */
    private <X extends Throwable> X assertRejected(Class<X> type, String message, Executable call) {
        ChannelStats before = channel.stats();
        ChannelState state = channel.state();

        X e = assertThrows(type, call);

        if (message != null) {
            assertEquals(message, e.getMessage());
        }
        assertEquals(before, channel.stats(), "bad input changed the channel");
        assertEquals(state, channel.state());
        assertEquals(0, handler.count());
        return e;
    }
}
