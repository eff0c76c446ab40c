package dev.sluice;

import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitCondition;
import static dev.sluice.ContractTestSupport.awaitWaitingReceivers;
import static dev.sluice.ContractTestSupport.awaitWaitingSenders;
import static dev.sluice.ContractTestSupport.fill;
import static dev.sluice.ContractTestSupport.fork;
import static dev.sluice.ContractTestSupport.items;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.RecordingHandler;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/**
 * {@link Channel#stats()} is exact at quiescent moments: a test interface mixed into {@link ChannelContractTest}, so
 * it runs for every capacity.
 */
interface ChannelStatsTest {

    /** The capacity of the channels under test. */
    int capacity();

    /** A new open channel of {@link #capacity()}. */
    Channel<String> newChannel();

    /* ---- counters ---- */

    @Test
    default void stats_newChannel_countsNothing() {
        ChannelStats stats = newChannel().stats();

        Map<UndeliveredReason, Long> none = new EnumMap<>(UndeliveredReason.class);
        for (UndeliveredReason reason : UndeliveredReason.values()) {
            none.put(reason, 0L);
        }
        assertEquals(new ChannelStats(capacity(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, none), stats);
    }

    @Test
    default void stats_afterSendsAndReceives_countsExactly() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        int receives = Math.max(1, capacity() / 2);
        for (int i = 0; i < receives; i++) {
            channel.tryReceive();
        }

        ChannelStats stats = channel.stats();

        assertEquals(capacity() - receives, stats.size());
        assertEquals(capacity(), stats.sent());
        assertEquals(receives, stats.received());
        assertEquals(0, stats.undelivered());
        assertEquals(0, stats.waitingSenders());
        assertEquals(0, stats.waitingReceivers());
        assertEquals(0, stats.callbackFailures());
    }

    @Test
    default void stats_drainTo_countsReceived() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));

        channel.drainTo(new ArrayList<>(), Integer.MAX_VALUE);

        assertEquals(capacity(), channel.stats().received());
        assertEquals(0, channel.stats().size());
    }

    @Test
    default void stats_rejectedSends_countNothing() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));

        channel.trySend("full");
        channel.close();
        channel.trySend("closed");

        assertEquals(capacity(), channel.stats().sent());
        assertEquals(capacity(), channel.stats().size());
    }

    @Test
    default void stats_undelivered_countsItemsDiscardedByCancel() {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        fill(channel, items("x", capacity()));
        channel.tryReceive();

        channel.cancel();

        ChannelStats stats = channel.stats();
        assertEquals(0, stats.size());
        assertEquals(capacity(), stats.sent());
        assertEquals(1, stats.received());
        assertEquals(capacity() - 1, stats.undelivered());
        assertEquals(capacity() - 1, stats.undelivered(UndeliveredReason.CANCELLED));
        assertEquals(0, stats.undelivered(UndeliveredReason.REJECTED));
        assertEquals(0, stats.undelivered(UndeliveredReason.RETURNED_AFTER_END));
        assertEquals(stats.sent(), stats.received() + stats.undelivered() + stats.size());
    }

    @Test
    default void stats_undeliveredByReason_countsRejectedUpstreamItemsApart() {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        fill(channel, items("x", capacity()));
        channel.close();
        org.reactivestreams.Subscriber<String> late = channel.asSubscriber();
        late.onSubscribe(new ChannelLogTest.NoopSubscription());
        late.onNext("rejected-1"); // a hostile upstream: never asked, the channel closed
        late.onNext("rejected-2");

        channel.cancel();

        ChannelStats stats = channel.stats();
        assertEquals(2, stats.undelivered(UndeliveredReason.REJECTED));
        assertEquals(capacity(), stats.undelivered(UndeliveredReason.CANCELLED));
        assertEquals(stats.undelivered(), stats.undeliveredByReason().values().stream().mapToLong(Long::longValue)
                .sum());
        assertEquals(handler.count(), stats.undelivered());
        assertEquals(UndeliveredReason.values().length, stats.undeliveredByReason().size(), "every reason listed");
    }

    @Test
    default void stats_peakSize_reachesCapacityWhenFullAndStays() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        channel.trySend("extra");

        channel.drainTo(new ArrayList<>(), Integer.MAX_VALUE);

        assertEquals(capacity(), channel.stats().peakSize());
        assertEquals(0, channel.stats().size());
    }

    /* ---- waiters ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stats_waitingSenders_countsBlockedSendsAndPendingFutures() throws Throwable {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        Forked<Void> blocked = fork("sender", () -> {
            channel.send("blocked");
            return null;
        });
        awaitBlockedSender(channel, blocked, 1);
        CompletableFuture<Void> pending = channel.sendAsync("pending");

        assertEquals(2, channel.stats().waitingSenders());
        assertEquals(capacity(), channel.stats().size());

        channel.receive();
        blocked.join();
        awaitWaitingSenders(channel, 1);
        channel.receive();
        await(pending);
        awaitWaitingSenders(channel, 0);
        assertEquals(capacity(), channel.stats().size());
        assertEquals(capacity() + 2, channel.stats().sent());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stats_senderBlockedNanos_growsWhileASenderWaits() throws Throwable {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        assertEquals(0, channel.stats().senderBlockedNanos());
        Forked<Void> blocked = fork("sender", () -> {
            channel.send("blocked");
            return null;
        });
        awaitBlockedSender(channel, blocked, 1);

        channel.receive();
        blocked.join();

        assertTrue(channel.stats().senderBlockedNanos() > 0, channel.stats().toString());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stats_waitingReceivers_countsBlockedReceivesAndSubscriptionsWithDemand() throws Throwable {
        Channel<String> channel = newChannel();
        Forked<String> blocked = fork("receiver", channel::receive);
        awaitBlockedReceiver(channel, blocked, 1);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(3);
        channel.asPublisher().subscribe(subscriber);
        awaitWaitingReceivers(channel, 2);

        ChannelStats stats = channel.stats();
        assertEquals(1, stats.subscribers());
        assertEquals(3, stats.outstandingDemand());

        channel.send("a");
        assertEquals("a", blocked.join());
        awaitWaitingReceivers(channel, 1);
        for (String item : items("s", 3)) {
            channel.send(item);
        }
        subscriber.awaitItems(3);

        stats = channel.stats();
        assertEquals(0, stats.waitingReceivers());
        assertEquals(0, stats.outstandingDemand());
        assertEquals(1, stats.subscribers());
        assertEquals(4, stats.received());
        assertEquals(0, stats.size());
    }

    /* ---- subscribers and demand ---- */

    @Test
    default void stats_outstandingDemand_sumsSubscribersAndCapsAtLongMax() {
        Channel<String> channel = newChannel();
        RecordingSubscriber<String> first = new RecordingSubscriber<>(2);
        RecordingSubscriber<String> second = new RecordingSubscriber<>(3);
        channel.asPublisher().subscribe(first);
        channel.asPublisher().subscribe(second);

        assertEquals(5, channel.stats().outstandingDemand());
        assertEquals(2, channel.stats().subscribers());

        RecordingSubscriber<String> unbounded = new RecordingSubscriber<>(Long.MAX_VALUE);
        channel.asPublisher().subscribe(unbounded);

        assertEquals(Long.MAX_VALUE, channel.stats().outstandingDemand());
        assertEquals(3, channel.stats().subscribers());
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stats_subscribers_dropOnCancelAndOnCompletion() throws InterruptedException {
        Channel<String> channel = newChannel();
        RecordingSubscriber<String> first = new RecordingSubscriber<>();
        RecordingSubscriber<String> second = new RecordingSubscriber<>(1);
        channel.asPublisher().subscribe(first);
        channel.asPublisher().subscribe(second);
        assertEquals(2, channel.stats().subscribers());

        first.cancel();
        awaitCondition("one subscriber left", () -> channel.stats().subscribers() == 1);

        channel.close();
        second.awaitCompleted();
        awaitCondition("no subscriber left", () -> channel.stats().subscribers() == 0);
        assertEquals(0, channel.stats().outstandingDemand());
        assertEquals(0, channel.stats().waitingReceivers());
    }

    /* ---- views ---- */

    @Test
    default void stats_throughViews_areTheChannelsStats() {
        Channel<String> channel = newChannel();
        fill(channel, items("x", capacity()));
        channel.tryReceive();

        ChannelStats expected = channel.stats();

        assertEquals(expected, channel.sender().stats());
        assertEquals(expected, channel.receiver().stats());
        try (ChannelSender<String> handle = channel.openSender()) {
            assertEquals(expected, handle.stats());
        }
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    default void stats_conservation_holdsAfterMixedTraffic() throws Exception {
        RecordingHandler<String> handler = new RecordingHandler<>();
        Channel<String> channel = Channel.<String>builder().capacity(capacity()).onUndelivered(handler).build();
        List<String> received = new ArrayList<>();
        fill(channel, items("a", capacity()));
        CompletableFuture<Void> pending = channel.sendAsync("p");
        received.add(channel.receive());
        await(pending);
        channel.drainTo(received, 1);
        channel.trySend("b");

        channel.cancel();

        ChannelStats stats = channel.stats();
        assertEquals(received.size(), stats.received());
        assertEquals(handler.count(), stats.undelivered());
        assertEquals(stats.sent(), stats.received() + stats.undelivered());
        assertEquals(capacity() + 2, stats.sent());
    }
}
