package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitWaitingReceivers;
import static dev.sluice.ContractTestSupport.awaitWaitingSenders;
import static dev.sluice.ContractTestSupport.fill;
import static dev.sluice.ContractTestSupport.fork;
import static dev.sluice.ContractTestSupport.items;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ContractTestSupport.Forked;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/**
 * The time fields of {@link ChannelStats} mean what their Javadoc says (issue 17 item 4): {@code senderBlockedNanos}
 * and {@code receiverStarvedNanos} are summed over the waiting parties, the {@code ...WallNanos} fields count the
 * wall-clock time during which at least one party waited. Each wait is bracketed by clock readings taken by the test
 * (before the waits began / after they all had begun, before the release / after everything was released), so the
 * bounds hold on a loaded machine too; no bound assumes a speed.
 */
@Timeout(60)
class ChannelStatsTimeTest {

    /** How long the test lets its waiters wait. */
    static final Duration PAUSE = Duration.ofMillis(200);

    /** Lets {@code d} pass: the tests measure waits, so here time itself is what they wait for. */
    static void letPass(Duration d) throws InterruptedException {
        assertTrue(!new CountDownLatch(1).await(d.toNanos(), TimeUnit.NANOSECONDS));
    }

    private static String ms(long nanos) {
        return String.format("%.1f ms", nanos / 1e6);
    }

    /* ---- senders ---- */

    @Test
    void tenPendingSendAsync_summedIsAboutTenTimesTheWallTime() throws Exception {
        Channel<String> channel = Channel.bounded(2);
        fill(channel, items("x", 2));
        long before = System.nanoTime();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            pending.add(channel.sendAsync("p" + i));
        }
        awaitWaitingSenders(channel, 10);
        long allWaiting = System.nanoTime();
        letPass(PAUSE);
        long releasing = System.nanoTime();
        for (int i = 0; i < 12; i++) {
            channel.receive(PATIENCE);
        }
        for (CompletableFuture<Void> f : pending) {
            await(f);
        }
        long after = System.nanoTime();

        ChannelStats stats = channel.stats();
        long summed = stats.senderBlockedNanos();
        long wall = stats.senderBlockedWallNanos();
        String report = "summed " + ms(summed) + ", wall " + ms(wall) + ", each wait between "
                + ms(releasing - allWaiting) + " and " + ms(after - before);
        assertTrue(summed >= 10 * (releasing - allWaiting), report);
        assertTrue(summed <= 10 * (after - before), report);
        assertTrue(wall >= releasing - allWaiting, report);
        assertTrue(wall <= after - before, report);
        assertTrue(summed >= 5 * wall, "summed over ten senders: about ten times the wall time; " + report);
        assertEquals(0, stats.waitingSenders());
        System.out.println("10 pending sendAsync: " + report);
    }

    @Test
    void blockedSendThreads_summedOverThreadsWallOverTheUnion() throws Throwable {
        Channel<String> channel = Channel.bounded(1);
        fill(channel, items("x", 1));
        long before = System.nanoTime();
        List<Forked<Void>> senders = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String item = "s" + i;
            senders.add(fork("sender-" + i, () -> {
                channel.send(item);
                return null;
            }));
        }
        awaitWaitingSenders(channel, 3);
        long allWaiting = System.nanoTime();
        letPass(PAUSE);
        long releasing = System.nanoTime();
        for (int i = 0; i < 4; i++) {
            channel.receive(PATIENCE);
        }
        for (Forked<Void> s : senders) {
            s.join();
        }
        long after = System.nanoTime();

        ChannelStats stats = channel.stats();
        long summed = stats.senderBlockedNanos();
        long wall = stats.senderBlockedWallNanos();
        String report = "summed " + ms(summed) + ", wall " + ms(wall);
        assertTrue(summed >= 3 * (releasing - allWaiting) && summed <= 3 * (after - before), report);
        assertTrue(wall >= releasing - allWaiting && wall <= after - before, report);
    }

    @Test
    void wallTime_includesTheWaitInProgress_andNeverExceedsTheChannelsAge() throws Throwable {
        long created = System.nanoTime();
        Channel<String> channel = Channel.bounded(1);
        fill(channel, items("x", 1));
        CompletableFuture<Void> pending = channel.sendAsync("p");
        awaitWaitingSenders(channel, 1);
        letPass(PAUSE);

        long during = channel.stats().senderBlockedWallNanos();
        long now = System.nanoTime();

        // the wait began before awaitWaitingSenders returned and was read at least PAUSE later
        assertTrue(during >= PAUSE.toNanos() && during <= now - created, "wall time so far " + ms(during)
                + " of a channel " + ms(now - created) + " old");
        assertEquals(0, channel.stats().senderBlockedNanos(), "the summed time counts waits that ended");
        channel.receive(PATIENCE);
        await(pending);
        long ended = channel.stats().senderBlockedWallNanos();
        letPass(Duration.ofMillis(50));
        assertEquals(ended, channel.stats().senderBlockedWallNanos(), "no sender waits: the wall time stands still");
        assertTrue(ended <= System.nanoTime() - created);
    }

    /* ---- receivers ---- */

    @Test
    void threeStarvedReceivers_summedIsAboutThreeTimesTheWallTime() throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        long before = System.nanoTime();
        List<Forked<String>> receivers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            receivers.add(fork("receiver-" + i, channel::receive));
        }
        awaitWaitingReceivers(channel, 3);
        for (Forked<String> r : receivers) {
            awaitBlockedReceiver(channel, r, 3);
        }
        long allWaiting = System.nanoTime();
        letPass(PAUSE);
        long releasing = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            channel.send("i" + i);
        }
        for (Forked<String> r : receivers) {
            r.join();
        }
        long after = System.nanoTime();

        ChannelStats stats = channel.stats();
        long summed = stats.receiverStarvedNanos();
        long wall = stats.receiverStarvedWallNanos();
        String report = "summed " + ms(summed) + ", wall " + ms(wall) + ", each wait between "
                + ms(releasing - allWaiting) + " and " + ms(after - before);
        assertTrue(summed >= 3 * (releasing - allWaiting) && summed <= 3 * (after - before), report);
        assertTrue(wall >= releasing - allWaiting && wall <= after - before, report);
        assertTrue(summed >= 2 * wall, report);
        assertEquals(0, stats.senderBlockedNanos(), "nobody waited to send");
        System.out.println("3 starved receivers: " + report);
    }

    @Test
    void iteratorHasNext_countsAsAStarvedReceiver() throws Throwable {
        Channel<String> channel = Channel.bounded(4);
        ChannelIterator<String> it = channel.iterator();
        long before = System.nanoTime();
        Forked<Boolean> waiting = fork("iterator", it::hasNext);
        awaitBlockedReceiver(channel, waiting, 1);
        long began = System.nanoTime();
        letPass(PAUSE);
        long releasing = System.nanoTime();
        channel.send("x");
        assertTrue(waiting.join());
        long after = System.nanoTime();

        long summed = channel.stats().receiverStarvedNanos();
        assertTrue(summed >= releasing - began && summed <= after - before, ms(summed));
    }

    @Test
    void subscriptionWithDemand_isNotAStarvedReceiver() throws Exception {
        Channel<String> channel = Channel.bounded(4);
        RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(5);
        channel.asPublisher().subscribe(subscriber);
        awaitWaitingReceivers(channel, 1);
        letPass(Duration.ofMillis(50));

        ChannelStats stats = channel.stats();

        assertEquals(0, stats.receiverStarvedNanos());
        assertEquals(0, stats.receiverStarvedWallNanos());
        assertEquals(5, stats.outstandingDemand(), "a subscription's waiting shows as its demand");
    }
}
