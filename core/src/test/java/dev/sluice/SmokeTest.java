package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/** A quick end-to-end pass over each door; the contract suites cover the details. */
@Timeout(20)
class SmokeTest {

    @Test
    void sendReceive_acrossThreads_conservesAndKeepsOrder() throws Exception {
        Channel<Integer> ch = Channel.bounded(4);
        int n = 200_000;
        Thread producer = new Thread(() -> {
            try (ch) {
                for (int i = 0; i < n; i++) {
                    ch.send(i);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        producer.start();
        int expected = 0;
        try (ChannelIterator<Integer> it = ch.iterator()) {
            while (it.hasNext()) {
                assertEquals(expected++, it.next());
            }
        }
        assertEquals(n, expected);
        producer.join();
        assertEquals(ChannelState.COMPLETED, ch.state());
        assertEquals(ChannelState.COMPLETED, ch.termination().toCompletableFuture().get(5, TimeUnit.SECONDS));
        ChannelStats s = ch.stats();
        assertEquals(n, s.sent());
        assertEquals(n, s.received());
    }

    @Test
    void publisher_and_subscriber_doors_moveEverything() throws Exception {
        Channel<Integer> ch = Channel.bounded(8);
        int n = 100_000;
        // upstream publisher -> channel
        ch.asPublisher(); // warm
        Thread producer = new Thread(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    ch.send(i);
                }
                ch.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        producer.start();
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong sum = new AtomicLong();
        AtomicLong count = new AtomicLong();
        ch.asPublisher().subscribe(new Subscriber<Integer>() {
            Subscription s;
            int got;

            @Override
            public void onSubscribe(Subscription s) {
                this.s = s;
                s.request(16);
            }

            @Override
            public void onNext(Integer item) {
                sum.addAndGet(item);
                count.incrementAndGet();
                if (++got == 12) {
                    got = 0;
                    s.request(12);
                }
            }

            @Override
            public void onError(Throwable t) {
                t.printStackTrace();
                done.countDown();
            }

            @Override
            public void onComplete() {
                done.countDown();
            }
        });
        assertTrue(done.await(15, TimeUnit.SECONDS));
        assertEquals(n, count.get());
        assertEquals((long) n * (n - 1) / 2, sum.get());
    }

    @Test
    void asSubscriber_feedsFromPublisher() throws Exception {
        Channel<Integer> ch = Channel.bounded(3);
        int n = 10_000;
        ch.asPublisher();
        new RangePublisher(n).subscribe(ch.asSubscriber());
        List<Integer> got = new ArrayList<>();
        for (Integer i : (Iterable<Integer>) ch::iterator) {
            got.add(i);
        }
        assertEquals(n, got.size());
        for (int i = 0; i < n; i++) {
            assertEquals(i, got.get(i));
        }
    }

    @Test
    void cancel_discardsBuffered_andFailsPendingSenders() throws Exception {
        ConcurrentLinkedQueue<Object> undelivered = new ConcurrentLinkedQueue<>();
        Channel<String> ch = Channel.<String>builder().capacity(2)
                .onUndelivered((item, reason) -> undelivered.add(item)).build();
        assertEquals(SendResult.OK, ch.trySend("a"));
        assertEquals(SendResult.OK, ch.trySend("b"));
        assertEquals(SendResult.FULL, ch.trySend("c"));
        CompletableFuture<Void> pending = ch.sendAsync("d");
        CompletableFuture<Void> withdrawn = ch.sendAsync("e");
        assertTrue(withdrawn.cancel(false));
        ch.cancel();
        assertEquals(List.of("a", "b"), new ArrayList<>(undelivered));
        assertTrue(pending.isCompletedExceptionally());
        assertEquals(SendResult.CLOSED, ch.trySend("f"));
        assertThrows(ChannelClosedException.class, ch::receive);
        assertNull(ch.tryReceive());
        assertEquals(ChannelState.CANCELLED, ch.state());
        assertEquals(2, ch.stats().undelivered());
    }

    /** Emits 0..n-1 honoring demand, from whichever thread requests. */
    static final class RangePublisher implements org.reactivestreams.Publisher<Integer> {
        final int n;

        RangePublisher(int n) {
            this.n = n;
        }

        @Override
        public void subscribe(Subscriber<? super Integer> s) {
            s.onSubscribe(new Subscription() {
                final AtomicLong requested = new AtomicLong();
                int next;
                volatile boolean cancelled;

                @Override
                public void request(long k) {
                    if (requested.getAndAdd(k) != 0) {
                        return;
                    }
                    long r = k;
                    for (;;) {
                        long e = 0;
                        while (e < r && next < n && !cancelled) {
                            s.onNext(next++);
                            e++;
                        }
                        if (next == n && !cancelled) {
                            cancelled = true;
                            s.onComplete();
                            return;
                        }
                        r = requested.addAndGet(-e);
                        if (r == 0) {
                            return;
                        }
                    }
                }

                @Override
                public void cancel() {
                    cancelled = true;
                }
            });
        }
    }
}
