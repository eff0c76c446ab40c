package dev.sluice.reliability.leak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Deterministic reproductions of the leak matrix's {@code ITERATOR vs RECEIVER_ABORT} failure: a consumer reserves
 * the last item of a closed channel, the channel reports {@code COMPLETED}, then the consumer is detached and gives
 * the item back. The item must not be stranded in an ended channel (neither delivered nor passed to the undelivered
 * handler, still counted in {@code size}); either completion waits for the reserved item, or an item given back after
 * the end goes to the undelivered handler.
 */
@Timeout(10)
class PushBackAfterEndTest {

    /* ---- iterator ---- */

    @Test
    void iteratorClose_afterHasNextReservedTheLastItemOfAClosedChannel_itemNotStranded() {
        Queue<String> released = new ConcurrentLinkedQueue<>();
        Channel<String> channel = Channel.<String>builder()
                .capacity(2)
                .onUndelivered((item, reason) -> released.add(item + ":" + reason))
                .build();
        channel.trySend("last");
        channel.close();
        ChannelIterator<String> it = channel.iterator();
        assertTrue(it.hasNext(), "the buffered item is reserved for this iterator");

        it.close(); // gives the reserved item back
        channel.cancel(); // a cleanup that must account for everything still held

        assertNoStrandedItem(channel, released, List.of("last"));
    }

    /* ---- asPublisher ---- */

    @Test
    void subscriptionCancel_insideOnNextOfTheLastItemOfAClosedChannel_itemCountsAsDeliveredNothingStranded() {
        Queue<String> released = new ConcurrentLinkedQueue<>();
        Channel<String> channel = Channel.<String>builder()
                .capacity(2)
                .onUndelivered((item, reason) -> released.add(item + ":" + reason))
                .build();
        channel.trySend("last");
        channel.close();
        List<String> got = new ArrayList<>();
        channel.asPublisher().subscribe(new Subscriber<String>() {
            private Subscription s;

            @Override
            public void onSubscribe(Subscription s) {
                this.s = s;
                s.request(1);
            }

            @Override
            public void onNext(String item) {
                got.add(item);
                s.cancel();
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        });
        channel.cancel();

        assertEquals(List.of("last"), got);
        ChannelStats stats = channel.stats();
        assertEquals(0, stats.size(), "nothing left behind: " + stats);
        assertEquals(1, stats.received(), stats.toString());
        assertTrue(released.isEmpty(), "a delivered item must not also be released: " + released);
    }

    private static void assertNoStrandedItem(Channel<String> channel, Queue<String> released, List<String> items) {
        ChannelStats stats = channel.stats();
        List<String> fates = new ArrayList<>();
        for (String r : released) {
            fates.add(r.substring(0, r.indexOf(':')));
        }
        String item;
        while ((item = channel.tryReceive()) != null) {
            fates.add(item + " (still receivable although the channel is " + channel.state() + ")");
        }
        assertEquals(items, fates, "each item released exactly once after the final cancel; stats before: "
                + stats + ", state " + channel.state());
        assertEquals(0, stats.size(), "an ended channel holds nothing: " + stats);
    }
}
