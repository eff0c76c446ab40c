package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** First checks of the channel kinds: rendezvous, unbounded, drop policies, conflated, weighted. */
@Timeout(30)
class ChannelKindsTest {

    /* ---- rendezvous ---- */

    @Test
    void rendezvous_trySendWithoutReceiver_isFull_andTryReceiveWithoutSender_isNull() {
        Channel<String> ch = Channel.rendezvous();
        assertEquals(0, ch.capacity());
        assertEquals(SendResult.FULL, ch.trySend("x"));
        assertNull(ch.tryReceive());
        assertEquals(0, ch.stats().size());
    }

    @Test
    void rendezvous_sendCompletesWhenAReceiverTakesTheItem() throws Exception {
        Channel<String> ch = Channel.rendezvous();
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
            try {
                ch.send("a");
                ch.send("b");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (ch.stats().waitingSenders() == 0) {
            Thread.onSpinWait();
        }
        assertEquals(0, ch.stats().size(), "nothing is buffered while the sender waits");
        assertEquals("a", ch.receive());
        assertEquals("b", ch.receive(Duration.ofSeconds(5)));
        sent.get(5, TimeUnit.SECONDS);
        assertEquals(2, ch.stats().sent());
        assertEquals(2, ch.stats().received());
    }

    @Test
    void rendezvous_trySendSucceedsWhenAReceiverWaits() throws Exception {
        Channel<String> ch = Channel.rendezvous();
        CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
            try {
                return ch.receive();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (ch.stats().waitingReceivers() == 0) {
            Thread.onSpinWait();
        }
        assertEquals(SendResult.OK, ch.trySend("x"));
        assertEquals("x", got.get(5, TimeUnit.SECONDS));
    }

    @Test
    void rendezvous_subscriptionWithDemandTakesItems() throws Exception {
        Channel<Integer> ch = Channel.rendezvous();
        List<Integer> got = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        ch.asPublisher().subscribe(new org.reactivestreams.Subscriber<Integer>() {
            @Override
            public void onSubscribe(org.reactivestreams.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(Integer i) {
                got.add(i);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                done.complete(null);
            }
        });
        for (int i = 0; i < 100; i++) {
            ch.send(i);
        }
        ch.close();
        done.get(5, TimeUnit.SECONDS);
        assertEquals(100, got.size());
        for (int i = 0; i < 100; i++) {
            assertEquals(i, got.get(i));
        }
    }

    /* ---- unbounded ---- */

    @Test
    void unbounded_neverBlocks_keepsOrder_andStatsStayExact() throws InterruptedException {
        Channel<Integer> ch = Channel.unbounded();
        int n = ChannelCore.UNBOUNDED_RING * 5 + 7;
        for (int i = 0; i < n; i++) {
            assertEquals(SendResult.OK, ch.trySend(i));
        }
        assertEquals(n, ch.stats().size());
        assertEquals(n, ch.stats().sent());
        for (int i = 0; i < n; i++) {
            assertEquals(i, ch.receive());
        }
        assertEquals(n, ch.stats().received());
        assertEquals(0, ch.stats().size());
    }

    @Test
    void bounded_hugeCapacity_allocatesLazily() throws InterruptedException {
        Channel<Integer> ch = Channel.bounded(Integer.MAX_VALUE); // no OutOfMemoryError: it is the unbounded channel
        assertEquals(ChannelCore.UNBOUNDED_RING, ch.core.ringCapacity);
        ch.send(1);
        assertEquals(1, ch.receive());
        Channel<Integer> big = Channel.bounded(1 << 24);
        assertEquals(ChannelCore.MAX_RING, big.core.ringCapacity);
        assertEquals(1 << 24, big.capacity());
    }

    @Test
    void unbounded_closeDrainsTheOverflowToo_andCancelDiscardsIt() throws InterruptedException {
        Channel<Integer> ch = Channel.unbounded();
        int n = ChannelCore.UNBOUNDED_RING + 10;
        for (int i = 0; i < n; i++) {
            ch.send(i);
        }
        ch.close();
        int count = 0;
        try (ChannelIterator<Integer> it = ch.iterator()) {
            while (it.hasNext()) {
                assertEquals(count++, it.next());
            }
        }
        assertEquals(n, count);
        assertEquals(ChannelState.COMPLETED, ch.state());

        ConcurrentLinkedQueue<Integer> undelivered = new ConcurrentLinkedQueue<>();
        Channel<Integer> c2 = Channel.<Integer>builder().unbounded()
                .onUndelivered((i, r) -> undelivered.add(i)).build();
        for (int i = 0; i < n; i++) {
            c2.send(i);
        }
        c2.cancel();
        assertEquals(n, undelivered.size());
        assertEquals(n, c2.stats().undelivered());
    }

    /* ---- drop policies ---- */

    @Test
    void dropOldest_evictsTheOldest_toTheHandler() throws InterruptedException {
        List<String> dropped = new ArrayList<>();
        Channel<String> ch = Channel.<String>builder().capacity(2).overflow(Overflow.DROP_OLDEST)
                .onUndelivered((item, reason) -> dropped.add(item + ":" + reason)).build();
        assertEquals(SendResult.OK, ch.trySend("a"));
        assertEquals(SendResult.OK, ch.trySend("b"));
        assertEquals(SendResult.DROPPED_OLDEST, ch.trySend("c"));
        ch.send("d"); // never blocks
        assertEquals(List.of("a:DROPPED", "b:DROPPED"), dropped);
        assertEquals("c", ch.receive());
        assertEquals("d", ch.receive());
        assertEquals(2, ch.stats().dropped());
        assertEquals(2, ch.stats().undelivered());
    }

    @Test
    void dropNewest_refusesTheNewItem_toTheHandler() throws InterruptedException {
        List<String> dropped = new ArrayList<>();
        Channel<String> ch = Channel.<String>builder().capacity(1).overflow(Overflow.DROP_NEWEST)
                .onUndelivered((item, reason) -> dropped.add(item + ":" + reason)).build();
        assertEquals(SendResult.OK, ch.trySend("a"));
        assertEquals(SendResult.DROPPED_NEWEST, ch.trySend("b"));
        assertTrue(ch.send("c", Duration.ofSeconds(1)));
        assertEquals(List.of("b:DROPPED", "c:DROPPED"), dropped);
        assertEquals("a", ch.receive());
        assertEquals(1, ch.stats().sent());
        assertEquals(2, ch.stats().dropped());
    }

    @Test
    void conflated_keepsOnlyTheLatest() throws InterruptedException {
        Channel<Integer> ch = Channel.conflated();
        for (int i = 0; i < 10; i++) {
            ch.send(i);
        }
        assertEquals(9, ch.receive());
        assertEquals(9, ch.stats().dropped());
    }

    /* ---- weights ---- */

    @Test
    void weighted_blocksByWeight_andAHeavyItemEntersAnEmptyChannel() throws Exception {
        Channel<byte[]> ch = Channel.<byte[]>builder().unbounded().weigher(b -> b.length).maxWeight(10).build();
        assertEquals(SendResult.OK, ch.trySend(new byte[6]));
        assertEquals(SendResult.OK, ch.trySend(new byte[4]));
        assertEquals(SendResult.FULL, ch.trySend(new byte[1]));
        CompletableFuture<Void> heavy = ch.sendAsync(new byte[100]);
        assertEquals(6, ch.receive().length);
        assertEquals(4, ch.receive().length);
        heavy.get(5, TimeUnit.SECONDS); // the channel was empty: the heavy item went in
        assertEquals(SendResult.FULL, ch.trySend(new byte[1]));
        assertEquals(100, ch.receive().length);
        assertEquals(SendResult.OK, ch.trySend(new byte[1]));
    }

    /* ---- bad input ---- */

    @Test
    void builder_badCombinations_areRefusedNamingTheProblem() {
        assertThrows(IllegalArgumentException.class,
                () -> Channel.builder().capacity(0).overflow(Overflow.DROP_OLDEST).build());
        assertThrows(IllegalArgumentException.class,
                () -> Channel.builder().unbounded().overflow(Overflow.DROP_NEWEST).build());
        assertThrows(IllegalArgumentException.class, () -> Channel.<String>builder().weigher(String::length).build());
        assertThrows(IllegalArgumentException.class, () -> Channel.builder().maxWeight(5).build());
        assertEquals("maxWeight must be >= 1 but was 0", assertThrows(IllegalArgumentException.class,
                () -> Channel.builder().maxWeight(0)).getMessage());
        assertThrows(NullPointerException.class, () -> Channel.builder().overflow(null));
    }
}
