package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.SHORT;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitCondition;
import static dev.sluice.ContractTestSupport.awaitFailure;
import static dev.sluice.ContractTestSupport.awaitWaitingReceivers;
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

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeoutException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.ManualPublisher;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/**
 * The channel's deterministic contract, in the spirit of the JDK's {@code BlockingQueueTest} and JCTools'
 * {@code QueueSanityTest}: one abstract suite, one tiny subclass per capacity (1, 16, 1024).
 *
 * <p>This class holds the send and receive doors and the Reactive Streams views; the lifecycle, iterator, stats and
 * counted-sender suites are test interfaces it implements, so they run for every capacity too. Blocking is proved by
 * waiting until the forked thread is parked and {@link Channel#stats()} counts it as a waiter, never by sleeping.
 */
@Timeout(value = 10, threadMode = SEPARATE_THREAD)
abstract class ChannelContractTest
        implements ChannelLifecycleTest, ChannelIteratorTest, ChannelStatsTest, ChannelSenderHandleTest {

    /* ---- construction ---- */

    @Test
    void bounded_newChannel_isOpenAndEmptyWithItsCapacity() {
        Channel<String> channel = Channel.bounded(capacity());

        assertEquals(capacity(), channel.capacity());
        assertEquals(ChannelState.OPEN, channel.state());
        assertFalse(channel.isClosedForSend());
        assertFalse(channel.isClosedForReceive());
        assertEquals(capacity(), channel.stats().capacity());
        assertEquals(0, channel.stats().size());
        assertFalse(channel.termination().toCompletableFuture().isDone());
    }

    @Test
    void builder_capacity_buildsChannelWithThatCapacity() {
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).build();

        assertEquals(capacity(), channel.capacity());
        fill(channel, items("x", capacity()));
        assertEquals(SendResult.FULL, channel.trySend("extra"));
    }

    /* ---- trySend ---- */

    @Test
    void trySend_whileSpace_returnsOk() {
        Channel<String> channel = newChannel();

        for (String item : items("x", capacity())) {
            assertEquals(SendResult.OK, channel.trySend(item));
        }
        assertEquals(capacity(), channel.stats().size());
        assertEquals(capacity(), channel.stats().sent());
    }

    @Test
    void trySend_whenFull_returnsFullAndDoesNotEnqueue() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        assertEquals(SendResult.FULL, channel.trySend("extra"));

        assertEquals(capacity(), channel.stats().size());
        assertEquals(capacity(), channel.stats().sent());
        assertEquals(items, drainNow(channel));
    }

    @Test
    void trySend_whenClosed_returnsClosed() {
        Channel<String> channel = newChannel();
        channel.close();

        assertEquals(SendResult.CLOSED, channel.trySend("late"));
        assertEquals(0, channel.stats().sent());
    }

    @Test
    void trySend_whenClosedWithItemsLeft_returnsClosed() {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        channel.close();

        assertEquals(SendResult.CLOSED, channel.trySend("late"));
        assertEquals(List.of("x"), drainNow(channel));
    }

    @Test
    void trySend_afterReceiveFreesSlot_returnsOk() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));

        channel.tryReceive();

        assertEquals(SendResult.OK, channel.trySend("next"));
        assertEquals(SendResult.FULL, channel.trySend("extra"));
    }

    /* ---- send ---- */

    @Test
    void send_whileSpace_returnsAtOnce() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());

        for (String item : items) {
            channel.send(item);
        }

        assertEquals(items, drainNow(channel));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void send_whenFull_blocksUntilReceiveFreesSlot() throws Throwable {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        Forked<Void> sender = fork("sender", () -> {
            channel.send("late");
            return null;
        });
        awaitBlockedSender(channel, sender, 1);
        assertFalse(sender.isDone());
        assertEquals(capacity(), channel.stats().size());

        assertEquals("x0", channel.receive());
        sender.join();

        List<String> expected = new ArrayList<>(items.subList(1, items.size()));
        expected.add("late");
        assertEquals(expected, drainNow(channel));
        assertEquals(0, channel.stats().waitingSenders());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void send_whenClosedWhileBlocked_throwsAndDoesNotEnqueue() throws Throwable {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        Forked<Void> sender = fork("sender", () -> {
            channel.send("late");
            return null;
        });
        awaitBlockedSender(channel, sender, 1);

        channel.close();

        assertThrows(ChannelClosedException.class, sender::join);
        assertEquals(0, channel.stats().waitingSenders());
        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(items, drainNow(channel));
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    void send_whenClosed_throwsChannelClosedException() {
        Channel<String> channel = newChannel();
        channel.close();

        assertThrows(ChannelClosedException.class, () -> channel.send("late"));
        assertEquals(0, channel.stats().sent());
    }

    @Test
    void sendWithTimeout_whileSpace_returnsTrue() throws InterruptedException {
        Channel<String> channel = newChannel();

        assertTrue(channel.send("x", PATIENCE));
        assertEquals("x", channel.tryReceive());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendWithTimeout_whenFull_returnsFalseAndDoesNotEnqueue() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        assertFalse(channel.send("late", SHORT));

        assertEquals(0, channel.stats().waitingSenders());
        assertEquals(capacity(), channel.stats().sent());
        assertEquals(items, drainNow(channel));
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -60_000})
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendWithTimeout_zeroOrNegative_whenFull_returnsFalseWithoutWaiting(long millis)
            throws InterruptedException {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));

        long start = System.nanoTime();
        assertFalse(channel.send("late", Duration.ofMillis(millis)));

        assertTrue(System.nanoTime() - start < PATIENCE.toNanos(), "a non-positive timeout must not wait");
        assertEquals(capacity(), channel.stats().sent());
        assertEquals(0, channel.stats().waitingSenders());
    }

    @Test
    void sendWithTimeout_zero_whileSpace_returnsTrue() throws InterruptedException {
        Channel<String> channel = newChannel();

        assertTrue(channel.send("x", Duration.ZERO));
        assertEquals("x", channel.tryReceive());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendWithTimeout_whenSlotFreesInTime_returnsTrue() throws Throwable {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        Forked<Boolean> sender = fork("sender", () -> channel.send("late", Duration.ofSeconds(30)));
        awaitBlockedSender(channel, sender, 1);

        channel.receive();

        assertTrue(sender.join());
        assertEquals(capacity(), channel.stats().size());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendWithTimeout_whenClosedWhileBlocked_throws() throws Throwable {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        Forked<Boolean> sender = fork("sender", () -> channel.send("late", Duration.ofSeconds(30)));
        awaitBlockedSender(channel, sender, 1);

        channel.close();

        assertThrows(ChannelClosedException.class, sender::join);
        assertEquals(capacity(), channel.stats().sent());
    }

    /* ---- sendAsync ---- */

    @Test
    void sendAsync_whileSpace_completesAtOnce() {
        Channel<String> channel = newChannel();

        CompletableFuture<Void> future = channel.sendAsync("x");

        assertTrue(future.isDone());
        assertFalse(future.isCompletedExceptionally());
        assertEquals("x", channel.tryReceive());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAsync_whenFull_completesWhenSlotFrees() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        CompletableFuture<Void> future = channel.sendAsync("late");
        assertFalse(future.isDone());
        assertEquals(1, channel.stats().waitingSenders());
        assertEquals(capacity(), channel.stats().size());

        assertEquals("x0", channel.receive());
        await(future);

        List<String> expected = new ArrayList<>(items.subList(1, items.size()));
        expected.add("late");
        assertEquals(expected, drainNow(channel));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAsync_manyPending_areAdmittedOneSlotAtATimeInOrder() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        List<String> pendingItems = items("p", capacity() + 5);
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (String item : pendingItems) {
            futures.add(channel.sendAsync(item));
        }
        assertEquals(pendingItems.size(), channel.stats().waitingSenders());
        assertTrue(futures.stream().noneMatch(CompletableFuture::isDone));

        List<String> received = new ArrayList<>();
        for (int k = 0; k < futures.size(); k++) {
            received.add(channel.receive());
            await(futures.get(k));
            if (k + 1 < futures.size()) {
                assertFalse(futures.get(k + 1).isDone(), "future " + (k + 1) + " accepted beyond capacity");
            }
            assertEquals(capacity(), channel.stats().size());
        }
        received.addAll(drainNow(channel));

        List<String> expected = new ArrayList<>(items);
        expected.addAll(pendingItems);
        assertEquals(expected, received);
        assertEquals(0, channel.stats().waitingSenders());
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAsync_cancelledBeforeAcceptance_withdrawsItem(boolean mayInterruptIfRunning) throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        CompletableFuture<Void> withdrawn = channel.sendAsync("withdrawn");
        CompletableFuture<Void> kept = channel.sendAsync("kept");
        awaitWaitingSenders(channel, 2);

        assertTrue(withdrawn.cancel(mayInterruptIfRunning));
        awaitWaitingSenders(channel, 1);

        List<String> received = new ArrayList<>();
        for (int i = 0; i <= capacity(); i++) {
            received.add(channel.receive(PATIENCE));
        }
        await(kept);
        List<String> expected = new ArrayList<>(items);
        expected.add("kept");
        assertEquals(expected, received);
        assertNull(channel.tryReceive());
        assertTrue(withdrawn.isCancelled());
        assertEquals(capacity() + 1, channel.stats().sent());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAsync_completedExceptionallyBeforeAcceptance_withdrawsItem() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        CompletableFuture<Void> withdrawn = channel.sendAsync("withdrawn");
        awaitWaitingSenders(channel, 1);

        assertTrue(withdrawn.completeExceptionally(new TimeoutException("gave up")));
        awaitWaitingSenders(channel, 0);

        assertEquals(items, drainNow(channel));
        assertEquals(SendResult.OK, channel.trySend("after"));
        assertEquals(List.of("after"), drainNow(channel));
        assertEquals(capacity() + 1, channel.stats().sent());
    }

    @Test
    void sendAsync_cancelledAfterAcceptance_keepsItem() {
        Channel<String> channel = newChannel();
        CompletableFuture<Void> future = channel.sendAsync("x");

        assertFalse(future.cancel(true));

        assertEquals("x", channel.tryReceive());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAsync_whenClosedBeforeAcceptance_failsWithChannelClosedException() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        CompletableFuture<Void> future = channel.sendAsync("late");

        channel.close();

        assertInstanceOf(ChannelClosedException.class, awaitFailure(future));
        assertEquals(0, channel.stats().waitingSenders());
        assertEquals(items, drainNow(channel));
    }

    @Test
    void sendAsync_whenClosed_returnsFailedFuture() throws Exception {
        Channel<String> channel = newChannel();
        channel.close();

        CompletableFuture<Void> future = channel.sendAsync("late");

        assertTrue(future.isCompletedExceptionally());
        assertInstanceOf(ChannelClosedException.class, awaitFailure(future));
        assertEquals(0, channel.stats().sent());
    }

    /* ---- trySendAll / sendAll ---- */

    @Test
    void trySendAll_moreThanFree_acceptsLeadingItemsInOrder() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity() + 3);

        assertEquals(capacity(), channel.trySendAll(items));

        assertEquals(items.subList(0, capacity()), drainNow(channel));
        assertEquals(capacity(), channel.stats().sent());
    }

    @Test
    void trySendAll_afterPartialFill_acceptsOnlyFreeSlots() {
        Channel<String> channel = newChannel();
        channel.trySend("first");

        assertEquals(capacity() - 1, channel.trySendAll(items("x", capacity())));

        assertEquals(capacity(), channel.stats().size());
        assertEquals("first", channel.tryReceive());
    }

    @Test
    void trySendAll_emptyList_returnsZero() {
        Channel<String> channel = newChannel();

        assertEquals(0, channel.trySendAll(List.of()));
        assertEquals(0, channel.stats().sent());
    }

    @Test
    void trySendAll_whenClosed_returnsZero() {
        Channel<String> channel = newChannel();
        channel.close();

        assertEquals(0, channel.trySendAll(items("x", 3)));
        assertEquals(0, channel.stats().sent());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAll_moreThanCapacity_blocksAndDeliversInOrder() throws Throwable {
        Channel<String> channel = newChannel();
        List<String> items = items("x", 2 * capacity() + 1);
        Forked<Void> sender = fork("sender", () -> {
            channel.sendAll(items);
            return null;
        });
        awaitBlockedSender(channel, sender, 1);
        assertEquals(capacity(), channel.stats().size());

        List<String> received = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            received.add(channel.receive(PATIENCE));
        }

        sender.join();
        assertEquals(items, received);
        assertEquals(items.size(), channel.stats().sent());
    }

    @Test
    void sendAll_plainIterable_sendsInOrder() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());

        channel.sendAll(items::iterator);

        assertEquals(items, drainNow(channel));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void sendAll_whenClosedPartWay_throwsAndKeepsAcceptedPrefix() throws Throwable {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity() + 2);
        Forked<Void> sender = fork("sender", () -> {
            channel.sendAll(items);
            return null;
        });
        awaitBlockedSender(channel, sender, 1);

        channel.close();

        assertThrows(ChannelClosedException.class, sender::join);
        assertEquals(items.subList(0, capacity()), drainNow(channel));
    }

    /* ---- tryReceive / receive ---- */

    @Test
    void tryReceive_whenEmpty_returnsNull() {
        Channel<String> channel = newChannel();

        assertNull(channel.tryReceive());
        assertEquals(0, channel.stats().received());
    }

    @Test
    void tryReceive_returnsItemsInSendOrder() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        assertEquals(items, drainNow(channel));
        assertEquals(capacity(), channel.stats().received());
        assertEquals(0, channel.stats().size());
    }

    @Test
    void receive_whenItemsBuffered_returnsThemInOrder() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        List<String> received = new ArrayList<>();
        for (int i = 0; i < capacity(); i++) {
            received.add(channel.receive());
        }

        assertEquals(items, received);
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receive_whenEmpty_blocksUntilSend() throws Throwable {
        Channel<String> channel = newChannel();
        Forked<String> receiver = fork("receiver", channel::receive);
        awaitBlockedReceiver(channel, receiver, 1);
        assertFalse(receiver.isDone());

        channel.send("x");

        assertEquals("x", receiver.join());
        assertEquals(0, channel.stats().size());
        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(1, channel.stats().received());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receiveWithTimeout_whenEmpty_returnsNull() throws InterruptedException {
        Channel<String> channel = newChannel();

        assertNull(channel.receive(SHORT));

        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(ChannelState.OPEN, channel.state());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -60_000})
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receiveWithTimeout_zeroOrNegative_whenEmpty_returnsNullWithoutWaiting(long millis)
            throws InterruptedException {
        Channel<String> channel = newChannel();

        long start = System.nanoTime();
        assertNull(channel.receive(Duration.ofMillis(millis)));

        assertTrue(System.nanoTime() - start < PATIENCE.toNanos(), "a non-positive timeout must not wait");
        assertEquals(0, channel.stats().waitingReceivers());
    }

    @Test
    void receiveWithTimeout_zero_whenItemBuffered_returnsIt() throws InterruptedException {
        Channel<String> channel = newChannel();
        channel.trySend("x");

        assertEquals("x", channel.receive(Duration.ZERO));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receiveWithTimeout_whenItemArrivesInTime_returnsIt() throws Throwable {
        Channel<String> channel = newChannel();
        Forked<String> receiver = fork("receiver", () -> channel.receive(Duration.ofSeconds(30)));
        awaitBlockedReceiver(channel, receiver, 1);

        channel.send("x");

        assertEquals("x", receiver.join());
    }

    /* ---- drainTo ---- */

    @Test
    void drainTo_movesAtMostMaxItemsInOrder() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        int max = Math.max(1, capacity() / 2);
        List<String> sink = new ArrayList<>();

        assertEquals(max, channel.drainTo(sink, max));

        assertEquals(items.subList(0, max), sink);
        assertEquals(capacity() - max, channel.stats().size());
        assertEquals(max, channel.stats().received());
        assertEquals(items.subList(max, capacity()), drainNow(channel));
    }

    @Test
    void drainTo_maxAboveSize_movesEverything() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        List<String> sink = new ArrayList<>(List.of("old"));

        assertEquals(capacity(), channel.drainTo(sink, Integer.MAX_VALUE));

        List<String> expected = new ArrayList<>(List.of("old"));
        expected.addAll(items);
        assertEquals(expected, sink);
        assertEquals(0, channel.stats().size());
    }

    @Test
    void drainTo_maxZero_movesNothing() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        List<String> sink = new ArrayList<>();

        assertEquals(0, channel.drainTo(sink, 0));

        assertTrue(sink.isEmpty());
        assertEquals(capacity(), channel.stats().size());
    }

    @Test
    void drainTo_whenEmpty_returnsZero() {
        Channel<String> channel = newChannel();
        List<String> sink = new ArrayList<>();

        assertEquals(0, channel.drainTo(sink, 10));
        assertTrue(sink.isEmpty());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void drainTo_whenSenderPending_admitsItInOrder() throws Exception {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        CompletableFuture<Void> pending = channel.sendAsync("late");
        List<String> sink = new ArrayList<>();

        channel.drainTo(sink, Integer.MAX_VALUE);
        await(pending);
        sink.addAll(drainNow(channel));

        List<String> expected = new ArrayList<>(items);
        expected.add("late");
        assertEquals(expected, sink);
    }

    /* ---- sender() / receiver() views ---- */

    @Test
    void sender_isSendOnlyViewOfTheSameChannel() throws InterruptedException {
        Channel<String> channel = newChannel();
        ChannelSender<String> sender = channel.sender();

        assertFalse(sender instanceof ChannelReceiver, "the sender view must not expose receiving");
        assertEquals(SendResult.OK, sender.trySend("a"));
        assertEquals(List.of("a"), drainNow(channel));
        assertTrue(sender.send("b", PATIENCE));
        assertEquals(List.of("b"), drainNow(channel));
        assertEquals(channel.stats(), sender.stats());

        sender.close();
        assertTrue(channel.isClosedForSend());
        assertTrue(sender.isClosedForSend());
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    void receiver_isReceiveOnlyViewOfTheSameChannel() {
        Channel<String> channel = newChannel();
        ChannelReceiver<String> receiver = channel.receiver();

        assertFalse(receiver instanceof ChannelSender, "the receiver view must not expose sending");
        channel.trySend("a");
        assertEquals("a", receiver.tryReceive());
        assertEquals(channel.stats(), receiver.stats());

        receiver.cancel();
        assertEquals(ChannelState.CANCELLED, channel.state());
        assertTrue(receiver.isClosedForReceive());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void views_blockingSenderAndReceiver_shareOneBuffer() throws Throwable {
        Channel<String> channel = newChannel();
        ChannelSender<String> sender = channel.sender();
        ChannelReceiver<String> receiver = channel.receiver();
        List<String> items = items("x", capacity() + 2);
        Forked<Void> producer = fork("producer", () -> {
            try (sender) {
                sender.sendAll(items);
            }
            return null;
        });

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = receiver.iterator()) {
            iterator.forEachRemaining(received::add);
        }

        producer.join();
        assertEquals(items, received);
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    /* ---- asPublisher ---- */

    @Test
    void asPublisher_deliversOnlyAgainstRequest() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();

        channel.asPublisher().subscribe(subscriber);
        subscriber.awaitSubscribed();
        assertEquals(0, subscriber.itemCount());
        assertEquals(capacity(), channel.stats().size());
        assertEquals(1, channel.stats().subscribers());

        subscriber.request(1);
        subscriber.awaitItems(1);
        assertEquals(List.of("x0"), subscriber.items());
        assertEquals(capacity() - 1, channel.stats().size());

        if (capacity() > 1) {
            subscriber.request(capacity() - 1);
            subscriber.awaitItems(capacity());
        }
        assertEquals(items, subscriber.items());
        assertEquals(0, channel.stats().size());
        assertFalse(subscriber.isTerminated());
        subscriber.assertNoViolations();
    }

    @Test
    void asPublisher_requestOneAtATime_deliversOneAtATime() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(subscriber);

        for (int i = 1; i <= capacity(); i++) {
            subscriber.request(1);
            subscriber.awaitItems(i);
            assertEquals(i, subscriber.itemCount());
            assertEquals(capacity() - i, channel.stats().size());
        }
        assertEquals(items, subscriber.items());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_demandBeforeItems_deliversItemsAsTheyArrive() throws InterruptedException {
        Channel<String> channel = newChannel();
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(3);
        channel.asPublisher().subscribe(subscriber);
        awaitWaitingReceivers(channel, 1);
        assertEquals(3, channel.stats().outstandingDemand());

        for (String item : items("x", 3)) {
            channel.send(item);
        }

        subscriber.awaitItems(3);
        assertEquals(items("x", 3), subscriber.items());
        assertEquals(0, channel.stats().outstandingDemand());
        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(0, channel.stats().size());
        assertEquals(3, channel.stats().received());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_afterClose_deliversBufferThenCompletes() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        channel.close();
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(subscriber);

        subscriber.request(1);
        subscriber.awaitItems(1);
        if (capacity() > 1) {
            assertFalse(subscriber.isTerminated(), "completed before the buffer was drained");
            assertEquals(ChannelState.DRAINING, channel.state());
        }
        subscriber.request(capacity());

        subscriber.awaitCompleted();
        assertEquals(items, subscriber.items());
        assertEquals(ChannelState.COMPLETED, channel.state());
        subscriber.assertNoViolations();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_onClosedEmptyChannel_completesWithoutDemand() throws InterruptedException {
        Channel<String> channel = newChannel();
        channel.close();
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();

        channel.asPublisher().subscribe(subscriber);

        subscriber.awaitCompleted();
        assertTrue(subscriber.items().isEmpty());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_closeWhileSubscriberWaits_completesIt() throws InterruptedException {
        Channel<String> channel = newChannel();
        RecordingSubscriber<String> withDemand = new RecordingSubscriber<>(5);
        RecordingSubscriber<String> withoutDemand = new RecordingSubscriber<>();
        channel.asPublisher().subscribe(withDemand);
        channel.asPublisher().subscribe(withoutDemand);
        awaitWaitingReceivers(channel, 1);

        channel.close();

        withDemand.awaitCompleted();
        withoutDemand.awaitCompleted();
        assertEquals(0, channel.stats().subscribers());
        assertEquals(0, channel.stats().waitingReceivers());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_afterFail_deliversBufferThenSignalsTheCause() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        IllegalStateException cause = new IllegalStateException("disk full");
        channel.fail(cause);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(Long.MAX_VALUE);

        channel.asPublisher().subscribe(subscriber);

        assertSame(cause, subscriber.awaitError());
        assertEquals(items, subscriber.items());
        assertEquals(ChannelState.FAILED, channel.state());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_whenChannelCancelled_signalsChannelClosedException() throws InterruptedException {
        Channel<String> channel = newChannel();
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(1);
        channel.asPublisher().subscribe(subscriber);
        awaitWaitingReceivers(channel, 1);

        channel.cancel();

        assertInstanceOf(ChannelClosedException.class, subscriber.awaitError());
        assertEquals(0, channel.stats().subscribers());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_competingSubscribers_eachItemGoesToExactlyOne() throws InterruptedException {
        Channel<String> channel = newChannel();
        int perSubscriber = Math.max(2, capacity());
        RecordingSubscriber<String> first = new RecordingSubscriber<>(perSubscriber);
        RecordingSubscriber<String> second = new RecordingSubscriber<>(perSubscriber);
        channel.asPublisher().subscribe(first);
        channel.asPublisher().subscribe(second);
        awaitWaitingReceivers(channel, 2);
        List<String> items = items("x", 2 * perSubscriber);

        for (String item : items) {
            channel.send(item);
        }

        first.awaitItems(perSubscriber);
        second.awaitItems(perSubscriber);
        assertEquals(perSubscriber, first.itemCount());
        assertEquals(perSubscriber, second.itemCount());
        Set<String> union = new HashSet<>(first.items());
        union.addAll(second.items());
        assertEquals(new HashSet<>(items), union, "every item delivered exactly once");
        assertInSendOrder(items, first.items());
        assertInSendOrder(items, second.items());
        assertEquals(items.size(), channel.stats().received());

        channel.close();
        first.awaitCompleted();
        second.awaitCompleted();
        first.assertNoViolations();
        second.assertNoViolations();
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_cancelledSubscriber_leavesRemainingItemsForOthers() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> quitter = new RecordingSubscriber<>(1);
        channel.asPublisher().subscribe(quitter);
        quitter.awaitItems(1);

        quitter.cancel();
        awaitCondition("the cancelled subscriber to be gone", () -> channel.stats().subscribers() == 0);
        RecordingSubscriber<String> stayer = new RecordingSubscriber<>(Long.MAX_VALUE);
        channel.asPublisher().subscribe(stayer);

        stayer.awaitItems(capacity() - 1);
        assertEquals(List.of("x0"), quitter.items());
        assertEquals(items.subList(1, capacity()), stayer.items());
        channel.close();
        stayer.awaitCompleted();
        assertFalse(quitter.isTerminated(), "a cancelled subscriber got a terminal signal");
        assertEquals(List.of("x0"), quitter.items());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asPublisher_cancelWithOutstandingDemand_leavesNextItemForOthers() throws InterruptedException {
        Channel<String> channel = newChannel();
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(5);
        channel.asPublisher().subscribe(subscriber);
        awaitWaitingReceivers(channel, 1);

        subscriber.cancel();
        awaitWaitingReceivers(channel, 0);
        assertEquals(0, channel.stats().subscribers());
        assertEquals(0, channel.stats().outstandingDemand());

        assertEquals(SendResult.OK, channel.trySend("x"));
        assertEquals("x", channel.tryReceive());
        assertTrue(subscriber.items().isEmpty());
    }

    @Test
    void asPublisher_requestFromInsideOnNext_deliversEverythingWithoutRecursion() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(1);
        subscriber.onEachItem(item -> subscriber.request(1));

        channel.asPublisher().subscribe(subscriber);

        subscriber.awaitItems(capacity());
        assertEquals(items, subscriber.items());
        subscriber.assertNoViolations(); // a re-entrant onNext shows up as a concurrent one (rule 3.3)
        assertEquals(1, channel.stats().outstandingDemand());
    }

    @Test
    void asPublisher_cancelFromInsideOnNext_leavesTheRestInTheChannel() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        subscriber.onEachItem(item -> subscriber.cancel());
        channel.asPublisher().subscribe(subscriber);

        subscriber.request(Long.MAX_VALUE);

        assertEquals(List.of("x0"), subscriber.items());
        assertEquals(items.subList(1, capacity()), drainNow(channel));
        assertEquals(capacity(), channel.stats().received());
        assertEquals(0, channel.stats().subscribers());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asFlowPublisher_deliversOnlyAgainstRequestThenCompletes() throws InterruptedException {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>();
        Flow.Publisher<String> publisher = channel.asFlowPublisher();

        publisher.subscribe((Flow.Subscriber<String>) subscriber);
        subscriber.awaitSubscribed();
        assertEquals(0, subscriber.itemCount());
        subscriber.request(1);
        subscriber.awaitItems(1);
        assertEquals(capacity() - 1, channel.stats().size());
        channel.close();
        subscriber.request(Long.MAX_VALUE);

        subscriber.awaitCompleted();
        assertEquals(items, subscriber.items());
        subscriber.assertNoViolations();
    }

    /* ---- asSubscriber ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asSubscriber_requestsNoMoreThanFreeCapacity() throws InterruptedException {
        Channel<String> channel = newChannel();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);
        assertTrue(upstream.requested() <= capacity(), "requested " + upstream.requested() + " into "
                + capacity() + " free slots");
        List<String> items = items("u", 2 * capacity() + 3);
        upstream.push(items.toArray(new String[0]));

        List<String> received = new ArrayList<>();
        while (received.size() < items.size()) {
            ChannelStats stats = channel.stats();
            assertTrue(upstream.requested() <= stats.received() + capacity(),
                    "upstream asked for more than the buffer can hold: requested " + upstream.requested() + ", "
                            + stats);
            assertEquals(upstream.emitted() - stats.received(), stats.size(), "emitted items not all buffered");
            String item = channel.receive(PATIENCE);
            assertTrue(item != null, "no item after " + received + "; upstream requested " + upstream.requested());
            received.add(item);
        }

        assertEquals(items, received);
        assertTrue(upstream.badRequests().isEmpty(), "bad requests " + upstream.badRequests());
        upstream.complete();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asSubscriber_rangePublisher_feedsEveryItemInOrderThenCloses() {
        Channel<String> channel = newChannel();
        List<String> items = items("r", 2 * capacity() + 3);
        ManualPublisher<String> upstream = ManualPublisher.of(items);

        upstream.subscribe(channel.asSubscriber());

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            iterator.forEachRemaining(received::add);
        }
        assertEquals(items, received);
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertFalse(upstream.isCancelled());
        assertTrue(upstream.badRequests().isEmpty(), "bad requests " + upstream.badRequests());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asFlowSubscriber_rangePublisher_feedsEveryItemInOrderThenCloses() {
        Channel<String> channel = newChannel();
        List<String> items = items("r", 2 * capacity() + 3);
        ManualPublisher<String> upstream = ManualPublisher.of(items);

        upstream.subscribe(channel.asFlowSubscriber());

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            iterator.forEachRemaining(received::add);
        }
        assertEquals(items, received);
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asSubscriber_upstreamComplete_closesChannel() throws InterruptedException {
        Channel<String> channel = newChannel();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);

        upstream.push("a");
        upstream.complete();

        assertTrue(channel.isClosedForSend());
        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals("a", channel.receive());
        assertEquals(ChannelState.COMPLETED, channel.state());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertNull(end.getCause());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asSubscriber_upstreamError_failsChannel() throws InterruptedException {
        Channel<String> channel = newChannel();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);
        IllegalStateException cause = new IllegalStateException("upstream broke");

        upstream.push("a");
        upstream.error(cause);

        assertTrue(channel.isClosedForSend());
        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals("a", channel.receive());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertSame(cause, end.getCause());
        assertEquals(ChannelState.FAILED, channel.state());
    }

    @Test
    void asSubscriber_secondOnSubscribe_isCancelled() {
        Channel<String> channel = newChannel();
        org.reactivestreams.Subscriber<String> sink = channel.asSubscriber();
        ManualPublisher<String> first = new ManualPublisher<>();
        ManualPublisher<String> second = new ManualPublisher<>();

        first.subscribe(sink);
        second.subscribe(sink);

        assertTrue(second.isCancelled(), "rule 2.5: a second subscription must be cancelled");
        assertFalse(first.isCancelled());
        assertEquals(0, second.requested());
        assertEquals(ChannelState.OPEN, channel.state());
        first.push("a");
        assertEquals("a", channel.tryReceive());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void asSubscriber_coexistsWithDirectSenders() throws InterruptedException {
        Channel<String> channel = newChannel();
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.subscribe(channel.asSubscriber());
        upstream.awaitRequested(1);

        upstream.push("up0");
        channel.sendAsync("direct0");
        upstream.push("up1");
        channel.sendAsync("direct1");

        List<String> received = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            received.add(channel.receive(PATIENCE));
        }
        assertEquals(4, new HashSet<>(received).size(), "items " + received);
        assertTrue(received.indexOf("up0") < received.indexOf("up1"), "upstream order " + received);
        assertTrue(received.indexOf("direct0") < received.indexOf("direct1"), "sender order " + received);
        assertEquals(4, channel.stats().sent());
    }

    /* ---- helpers ---- */

    /** The channel under test: {@link #capacity()} slots. */
    @Override
    public Channel<String> newChannel() {
        return Channel.bounded(capacity());
    }

    private static void assertInSendOrder(List<String> sent, List<String> received) {
        int last = -1;
        for (String item : received) {
            int index = sent.indexOf(item);
            assertTrue(index > last, "out of order: " + received);
            last = index;
        }
    }
}
