package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.SHORT;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitCondition;
import static dev.sluice.ContractTestSupport.awaitWaitingReceivers;
import static dev.sluice.ContractTestSupport.awaitWaitingSenders;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.ManualPublisher;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/**
 * Waiters of different kinds share one FIFO queue per side (DESIGN.md, contract 3). Arrival order is made
 * deterministic by waiting until {@link Channel#stats()} counts each waiter before the next one starts.
 */
@Timeout(value = 10, threadMode = SEPARATE_THREAD)
class ChannelFifoTest {

    /* ---- senders ---- */

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {1, 2})
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void senders_ofEveryKind_onFullChannel_areAdmittedInArrivalOrder(int capacity) throws Throwable {
        Channel<String> channel = Channel.bounded(capacity);
        List<String> filler = ContractTestSupport.items("f", capacity);
        ContractTestSupport.fill(channel, filler);

        Forked<Void> blockedSend = fork("send-A", () -> {
            channel.send("A");
            return null;
        });
        awaitBlockedSender(channel, blockedSend, 1);

        CompletableFuture<Void> pendingAsync = channel.sendAsync("B");
        awaitWaitingSenders(channel, 2);

        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.push("C");
        upstream.subscribe(channel.asSubscriber());
        awaitWaitingSenders(channel, 3);

        Forked<Void> lastSend = fork("send-D", () -> {
            channel.send("D");
            return null;
        });
        awaitBlockedSender(channel, lastSend, 4);
        assertEquals(capacity, channel.stats().size());

        List<String> received = new ArrayList<>();
        for (int i = 0; i < capacity + 4; i++) {
            received.add(channel.receive(PATIENCE));
        }

        List<String> expected = new ArrayList<>(filler);
        expected.addAll(List.of("A", "B", "C", "D"));
        assertEquals(expected, received);
        blockedSend.join();
        await(pendingAsync);
        lastSend.join();
        assertEquals(1, upstream.emitted());
    }

    @ParameterizedTest(name = "capacity {0}")
    @ValueSource(ints = {1, 2})
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void senders_whoGiveUp_leaveTheQueueAndTheOthersKeepTheirOrder(int capacity) throws Throwable {
        Channel<String> channel = Channel.bounded(capacity);
        List<String> filler = ContractTestSupport.items("f", capacity);
        ContractTestSupport.fill(channel, filler);
        CompletableFuture<Void> first = channel.sendAsync("A");
        awaitWaitingSenders(channel, 1);
        CompletableFuture<Void> cancelled = channel.sendAsync("cancelled");
        awaitWaitingSenders(channel, 2);
        Forked<Boolean> timedOut = fork("send-timeout", () -> channel.send("timed-out", SHORT));
        assertFalse(timedOut.join());
        CompletableFuture<Void> last = channel.sendAsync("B");
        awaitWaitingSenders(channel, 3);

        cancelled.cancel(false);
        awaitWaitingSenders(channel, 2);

        List<String> received = new ArrayList<>();
        for (int i = 0; i < capacity + 2; i++) {
            received.add(channel.receive(PATIENCE));
        }
        List<String> expected = new ArrayList<>(filler);
        expected.addAll(List.of("A", "B"));
        assertEquals(expected, received);
        await(first);
        await(last);
        assertEquals(capacity + 2, channel.stats().sent());
    }

    /* ---- receivers ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receivers_ofEveryKind_onEmptyChannel_areServedInArrivalOrder() throws Throwable {
        Channel<String> channel = Channel.bounded(4);

        Forked<String> blockedReceive = fork("receive-1", channel::receive);
        awaitBlockedReceiver(channel, blockedReceive, 1);

        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(1);
        channel.asPublisher().subscribe(subscriber);
        awaitWaitingReceivers(channel, 2);

        ChannelIterator<String> iterator = channel.iterator();
        Forked<Boolean> blockedHasNext = fork("hasNext-3", iterator::hasNext);
        awaitBlockedReceiver(channel, blockedHasNext, 3);

        channel.send("first");
        awaitCondition("someone to take the first item", () -> blockedReceive.isDone() || subscriber.itemCount() > 0
                || blockedHasNext.isDone());
        assertTrue(blockedReceive.isDone(), "the blocked receive arrived first but did not get the first item");
        assertEquals("first", blockedReceive.join());
        assertEquals(0, subscriber.itemCount());

        channel.send("second");
        awaitCondition("someone to take the second item", () -> subscriber.itemCount() > 0
                || blockedHasNext.isDone());
        assertEquals(List.of("second"), subscriber.items(), "the subscriber arrived second");
        assertFalse(blockedHasNext.isDone());

        channel.send("third");
        assertTrue(blockedHasNext.join());
        assertEquals("third", iterator.next());
        iterator.close();
        assertEquals(0, channel.stats().waitingReceivers());
        assertEquals(0, channel.stats().size());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void receivers_whoGiveUp_leaveTheQueueAndTheOthersKeepTheirOrder() throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        Forked<String> timedOut = fork("receive-timeout", () -> channel.receive(SHORT));
        assertNull(timedOut.join());
        RecordingSubscriber<String> quitter = new RecordingSubscriber<>(1);
        channel.asPublisher().subscribe(quitter);
        awaitWaitingReceivers(channel, 1);
        Forked<String> stayer = fork("receive", channel::receive);
        awaitBlockedReceiver(channel, stayer, 2);

        quitter.cancel();
        awaitWaitingReceivers(channel, 1);
        channel.send("x");

        assertEquals("x", stayer.join());
        assertTrue(quitter.items().isEmpty());
    }

    /* ---- items ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void items_fromUpstreamAndDirectSenders_keepPerProducerOrderAcrossAFullBuffer() throws Throwable {
        Channel<String> channel = Channel.bounded(2);
        List<String> upstreamItems = ContractTestSupport.items("u", 20);
        List<String> directItems = ContractTestSupport.items("d", 20);
        ManualPublisher<String> upstream = new ManualPublisher<>();
        upstream.push(upstreamItems.toArray(new String[0]));
        Forked<Void> direct = fork("direct", () -> {
            channel.sendAll(directItems);
            return null;
        });
        upstream.subscribe(channel.asSubscriber());

        List<String> received = new ArrayList<>();
        for (int i = 0; i < upstreamItems.size() + directItems.size(); i++) {
            received.add(channel.receive(PATIENCE));
        }

        direct.join();
        List<String> fromUpstream = new ArrayList<>();
        List<String> fromDirect = new ArrayList<>();
        for (String item : received) {
            (item.startsWith("u") ? fromUpstream : fromDirect).add(item);
        }
        assertEquals(upstreamItems, fromUpstream);
        assertEquals(directItems, fromDirect);
        assertEquals(0, channel.stats().size());
        assertEquals(ChannelState.OPEN, channel.state());
    }
}
