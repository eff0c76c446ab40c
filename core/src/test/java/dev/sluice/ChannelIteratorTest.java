package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.SHORT;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
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
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sluice.ContractTestSupport.Forked;

/**
 * The blocking iterator and {@code stream()}: a test interface mixed into {@link ChannelContractTest}, so it runs for
 * every capacity.
 */
interface ChannelIteratorTest {

    /** The capacity of the channels under test. */
    int capacity();

    /** A new open channel of {@link #capacity()}. */
    Channel<String> newChannel();

    /* ---- hasNext / next ---- */

    @Test
    default void iterator_overClosedChannel_returnsEveryItemThenFalse() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        channel.close();

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            while (iterator.hasNext()) {
                received.add(iterator.next());
            }
            assertFalse(iterator.hasNext(), "hasNext must stay false at the end");
            assertThrows(NoSuchElementException.class, iterator::next);
        }
        assertEquals(items, received);
        assertEquals(capacity(), channel.stats().received());
    }

    @Test
    default void iterator_nextWithoutHasNext_returnsNextItem() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));

        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertEquals("x0", iterator.next());
        }
        assertEquals(capacity() - 1, channel.stats().size());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void iterator_hasNextCalledTwice_reservesOneItem() throws Exception {
        Channel<String> channel = newChannel();
        channel.trySend("a");
        CompletableFuture<Void> second = channel.sendAsync("b");

        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertTrue(iterator.hasNext());
            assertTrue(iterator.hasNext());
            assertEquals("a", iterator.next());
        }

        await(second);
        assertEquals(List.of("b"), drainNow(channel));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void iterator_hasNext_blocksUntilAnItemArrives() throws Throwable {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            Forked<Boolean> consumer = fork("consumer", iterator::hasNext);
            awaitBlockedReceiver(channel, consumer, 1);
            assertFalse(consumer.isDone());

            channel.send("x");

            assertTrue(consumer.join());
            assertEquals("x", iterator.next());
        }
        assertEquals(1, channel.stats().received());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void iterator_next_blocksUntilAnItemArrives() throws Throwable {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            Forked<String> consumer = fork("consumer", iterator::next);
            awaitBlockedReceiver(channel, consumer, 1);

            channel.send("x");

            assertEquals("x", consumer.join());
        }
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void hasNextWithTimeout_whenEmpty_returnsFalseAndStaysUsable() throws InterruptedException {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertFalse(iterator.hasNext(SHORT));
            assertEquals(0, channel.stats().waitingReceivers());

            channel.trySend("x");

            assertTrue(iterator.hasNext(PATIENCE));
            assertEquals("x", iterator.next());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -60_000})
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void hasNextWithTimeout_zeroOrNegative_doesNotWait(long millis) throws InterruptedException {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertFalse(iterator.hasNext(Duration.ofMillis(millis)));
            channel.trySend("x");
            assertTrue(iterator.hasNext(Duration.ofMillis(millis)));
            assertEquals("x", iterator.next());
        }
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void hasNextWithTimeout_whenItemArrivesInTime_returnsTrue() throws Throwable {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            Forked<Boolean> consumer = fork("consumer", () -> iterator.hasNext(Duration.ofSeconds(30)));
            awaitBlockedReceiver(channel, consumer, 1);

            channel.send("x");

            assertTrue(consumer.join());
            assertEquals("x", iterator.next());
        }
    }

    @Test
    default void hasNextWithTimeout_atEndOfClosedChannel_returnsFalse() throws InterruptedException {
        Channel<String> channel = newChannel();
        channel.close();

        try (ChannelIterator<String> iterator = channel.iterator()) {
            assertFalse(iterator.hasNext(PATIENCE));
        }
    }

    /* ---- close ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void close_afterHasNext_putsReservedItemBackAtTheHead() throws Exception {
        Channel<String> channel = newChannel();
        channel.trySend("a");
        CompletableFuture<Void> second = channel.sendAsync("b");
        ChannelIterator<String> iterator = channel.iterator();
        assertTrue(iterator.hasNext());

        iterator.close();

        assertEquals("a", channel.receive(PATIENCE));
        await(second);
        assertEquals("b", channel.receive(PATIENCE));
        assertEquals(0, channel.stats().undelivered());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void close_fromAnotherThread_wakesBlockedHasNextWhichReturnsFalse() throws Throwable {
        Channel<String> channel = newChannel();
        ChannelIterator<String> iterator = channel.iterator();
        Forked<Boolean> consumer = fork("consumer", iterator::hasNext);
        awaitBlockedReceiver(channel, consumer, 1);

        iterator.close();

        assertFalse(consumer.join());
        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(ChannelState.OPEN, channel.state());
        assertEquals(SendResult.OK, channel.trySend("x"));
        assertEquals("x", channel.tryReceive(), "a closed iterator must not take items");
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void close_fromAnotherThread_wakesBlockedHasNextWithTimeout() throws Throwable {
        Channel<String> channel = newChannel();
        ChannelIterator<String> iterator = channel.iterator();
        Forked<Boolean> consumer = fork("consumer", () -> iterator.hasNext(Duration.ofSeconds(30)));
        awaitBlockedReceiver(channel, consumer, 1);

        iterator.close();

        assertFalse(consumer.join());
        assertEquals(0, channel.stats().waitingReceivers());
    }

    @Test
    default void close_thenHasNextIsFalseAndNextThrows() {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        ChannelIterator<String> iterator = channel.iterator();

        iterator.close();
        iterator.close();

        assertFalse(iterator.hasNext());
        assertThrows(NoSuchElementException.class, iterator::next);
        assertEquals(ChannelState.OPEN, channel.state(), "closing an iterator must not close the channel");
        assertEquals("x", channel.tryReceive());
    }

    /* ---- end of the channel ---- */

    @Test
    default void iterator_afterCancel_throwsChannelClosedException() {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        channel.cancel();

        try (ChannelIterator<String> iterator = channel.iterator()) {
            ChannelClosedException end = assertThrows(ChannelClosedException.class, iterator::hasNext);
            assertInstanceOf(CancellationException.class, end.getCause());
        }
    }

    @Test
    default void iterator_withReservedItem_whenChannelCancelled_conservesEveryItem() {
        ContractTestSupport.RecordingHandler<String> handler = new ContractTestSupport.RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        List<String> items = items("x", capacity());
        fill(channel, items);
        ChannelIterator<String> iterator = channel.iterator();
        assertTrue(iterator.hasNext());

        channel.cancel();
        List<String> delivered = new ArrayList<>();
        try {
            delivered.add(iterator.next());
        } catch (ChannelClosedException | NoSuchElementException e) {
            // the reserved item may be discarded instead: either way it must be accounted for exactly once
        }
        iterator.close();

        List<String> accounted = new ArrayList<>(delivered);
        accounted.addAll(handler.items());
        assertEquals(items.size(), accounted.size(), "delivered " + delivered + ", undelivered " + handler.items());
        assertEquals(new HashSet<>(items), new HashSet<>(accounted));
        ChannelStats stats = channel.stats();
        assertEquals(delivered.size(), stats.received());
        assertEquals(handler.count(), stats.undelivered());
        assertEquals(ChannelState.CANCELLED, channel.state());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void iterator_whenFailedWhileWaiting_throwsTheCause() throws Throwable {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            Forked<Boolean> consumer = fork("consumer", iterator::hasNext);
            awaitBlockedReceiver(channel, consumer, 1);
            IllegalStateException cause = new IllegalStateException("boom");

            channel.fail(cause);

            ChannelClosedException end = assertThrows(ChannelClosedException.class, consumer::join);
            assertSame(cause, end.getCause());
        }
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void iterator_whenClosedWhileWaiting_returnsFalse() throws Throwable {
        Channel<String> channel = newChannel();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            Forked<Boolean> consumer = fork("consumer", iterator::hasNext);
            awaitBlockedReceiver(channel, consumer, 1);

            channel.close();

            assertFalse(consumer.join());
        }
    }

    @Test
    default void iterators_compete_eachItemGoesToExactlyOne() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        channel.close();

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> first = channel.iterator(); ChannelIterator<String> second = channel.iterator()) {
            boolean more = true;
            while (more) {
                more = false;
                if (first.hasNext()) {
                    received.add(first.next());
                    more = true;
                }
                if (second.hasNext()) {
                    received.add(second.next());
                    more = true;
                }
            }
        }
        assertEquals(items, received);
    }

    /* ---- stream ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stream_overClosedChannel_collectsEveryItemInOrder() throws Throwable {
        Channel<String> channel = newChannel();
        List<String> items = items("x", 3 * capacity() + 1);
        Forked<Void> producer = fork("producer", () -> {
            channel.sendAll(items);
            channel.close();
            return null;
        });

        List<String> received;
        try (Stream<String> stream = channel.stream()) {
            received = stream.collect(Collectors.toList());
        }

        producer.join();
        assertEquals(items, received);
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void stream_shortCircuited_leavesTheRestInTheChannel() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);

        Optional<String> first;
        try (Stream<String> stream = channel.stream()) {
            first = stream.findFirst();
        }

        assertEquals(Optional.of("x0"), first);
        assertEquals(items.subList(1, capacity()), drainNow(channel));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stream_closedFromAnotherThread_endsBlockedConsumer() throws Throwable {
        Channel<String> channel = newChannel();
        channel.trySend("x");
        Stream<String> stream = channel.stream();
        List<String> seen = new ArrayList<>();
        Forked<Void> consumer = fork("consumer", () -> {
            stream.forEach(seen::add);
            return null;
        });
        awaitBlockedReceiver(channel, consumer, 1);

        stream.close();

        consumer.join();
        assertEquals(List.of("x"), seen);
        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(ChannelState.OPEN, channel.state());
        channel.trySend("y");
        assertEquals("y", channel.tryReceive());
    }

    @Test
    default void stream_isSequentialAndDistinctItemsStayDistinct() {
        Channel<String> channel = newChannel();
        List<String> items = items("x", capacity());
        fill(channel, items);
        channel.close();

        try (Stream<String> stream = channel.stream()) {
            assertFalse(stream.isParallel());
            assertEquals(new HashSet<>(items), stream.collect(Collectors.toSet()));
        }
        assertNull(channel.tryReceive());
    }
}
