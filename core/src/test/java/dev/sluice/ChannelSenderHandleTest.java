package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.drainNow;
import static dev.sluice.ContractTestSupport.fork;
import static dev.sluice.ContractTestSupport.items;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ContractTestSupport.Forked;

/**
 * Counted sender handles from {@link Channel#openSender()}: the channel closes when the last opened handle closes. A
 * test interface mixed into {@link ChannelContractTest}, so it runs for every capacity.
 */
interface ChannelSenderHandleTest {

    /** The capacity of the channels under test. */
    int capacity();

    /** A new open channel of {@link #capacity()}. */
    Channel<String> newChannel();

    /* ---- counting ---- */

    @Test
    default void openSender_closingTheOnlyHandle_closesTheChannel() {
        Channel<String> channel = newChannel();
        ChannelSender<String> handle = channel.openSender();
        handle.trySend("x");

        handle.close();

        assertTrue(channel.isClosedForSend());
        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(List.of("x"), drainNow(channel));
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void openSender_closingOneOfTwoHandles_keepsTheChannelOpen() {
        Channel<String> channel = newChannel();
        ChannelSender<String> first = channel.openSender();
        ChannelSender<String> second = channel.openSender();

        first.close();

        assertEquals(ChannelState.OPEN, channel.state());
        assertFalse(second.isClosedForSend());
        second.close();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void openSender_closingAHandleTwice_countsOnce() {
        Channel<String> channel = newChannel();
        ChannelSender<String> first = channel.openSender();
        ChannelSender<String> second = channel.openSender();

        first.close();
        first.close();

        assertEquals(ChannelState.OPEN, channel.state(), "a second close of one handle closed the channel");
        second.close();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void openSender_closedHandleWhileChannelOpen_stillSends() {
        Channel<String> channel = newChannel();
        ChannelSender<String> first = channel.openSender();
        ChannelSender<String> second = channel.openSender();

        first.close();

        assertEquals(SendResult.OK, first.trySend("x"));
        assertEquals("x", channel.tryReceive());
        second.close();
        assertEquals(SendResult.CLOSED, first.trySend("y"));
    }

    @Test
    default void openSender_afterChannelClosed_throwsChannelClosedException() {
        Channel<String> channel = newChannel();
        channel.close();

        assertThrows(ChannelClosedException.class, channel::openSender);
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void close_ofTheChannel_closesRegardlessOfOpenHandles() {
        Channel<String> channel = newChannel();
        ChannelSender<String> handle = channel.openSender();

        channel.close();

        assertTrue(handle.isClosedForSend());
        assertEquals(SendResult.CLOSED, handle.trySend("x"));
        handle.close();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void openSender_handle_sendsIntoTheSameChannel() throws Exception {
        Channel<String> channel = newChannel();
        try (ChannelSender<String> handle = channel.openSender()) {
            assertEquals(SendResult.OK, handle.trySend("a"));
            assertEquals("a", channel.tryReceive());
            assertTrue(handle.send("b", PATIENCE));
            assertEquals("b", channel.tryReceive());
            await(handle.sendAsync("c"));
            assertEquals("c", channel.tryReceive());
            assertEquals(1, handle.trySendAll(List.of("d")));
            assertEquals("d", channel.tryReceive());
            assertFalse(handle instanceof ChannelReceiver, "a handle must not expose receiving");
        }
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    @Test
    default void openSender_handleFail_failsTheChannel() {
        Channel<String> channel = newChannel();
        ChannelSender<String> handle = channel.openSender();
        IllegalStateException cause = new IllegalStateException("producer broke");

        handle.fail(cause);

        assertEquals(ChannelState.FAILED, channel.state());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertEquals(cause, end.getCause());
    }

    /* ---- producers ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void openSender_producersEachClosingTheirHandle_endTheChannelAfterTheLast() throws Throwable {
        Channel<String> channel = newChannel();
        int producers = 3;
        int perProducer = 2 * capacity() + 1;
        List<Forked<Void>> forks = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            ChannelSender<String> handle = channel.openSender();
            List<String> items = items("p" + p + "-", perProducer);
            forks.add(fork("producer-" + p, () -> {
                try (handle) {
                    handle.sendAll(items);
                }
                return null;
            }));
        }

        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> iterator = channel.iterator()) {
            iterator.forEachRemaining(received::add);
        }

        for (Forked<Void> producer : forks) {
            producer.join();
        }
        assertEquals(producers * perProducer, received.size());
        for (int p = 0; p < producers; p++) {
            String prefix = "p" + p + "-";
            List<String> fromProducer = new ArrayList<>();
            for (String item : received) {
                if (item.startsWith(prefix)) {
                    fromProducer.add(item);
                }
            }
            assertEquals(items(prefix, perProducer), fromProducer, "per-producer order");
        }
        assertEquals(ChannelState.COMPLETED, channel.state());
    }
}
