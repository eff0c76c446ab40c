package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.FlowAdapters;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * One channel, one producer, four competing consumers of every kind: a blocking {@code receive()} loop, a blocking
 * iterator that is closed and reopened at random (sometimes with an item reserved by {@code hasNext()}), and two
 * slots of hand-written Reactive Streams subscribers (one through {@code asPublisher()}, one through
 * {@code asFlowPublisher()}) that request random amounts, cancel at random and resubscribe. Every item must reach
 * exactly one consumer; after close nothing is lost, after cancel the rest goes to the undelivered handler.
 */
class CompetingConsumersTest {

    private static final int ITEMS = Integer.getInteger("sluice.competing.items", 200_000);
    private static final int CAPACITY = 8;
    private static final long WAIT_SECONDS = 60;

    /* Counts how often each item reached a consumer (or the undelivered handler). */
    private static final class Tally {
        final AtomicIntegerArray delivered = new AtomicIntegerArray(ITEMS);
        final AtomicIntegerArray undelivered = new AtomicIntegerArray(ITEMS);
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final AtomicLong[] perConsumer = {new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong()};
        /* iterators opened by consumer 1, subscriptions made by consumers 2 and 3 */
        final AtomicLong[] attachments = {new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong()};

        void delivered(int consumer, Integer item) {
            if (item == null || item < 0 || item >= ITEMS) {
                errors.add("consumer " + consumer + " got unknown item " + item);
                return;
            }
            perConsumer[consumer].incrementAndGet();
            if (delivered.getAndIncrement(item) != 0) {
                errors.add("item " + item + " delivered twice (now to consumer " + consumer + ")");
            }
        }

        void undelivered(Integer item, UndeliveredReason reason) {
            if (undelivered.getAndIncrement(item) != 0) {
                errors.add("item " + item + " passed to onUndelivered twice");
            }
        }
    }

    /* ---- close ---- */

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void competingConsumers_producerCloses_everyItemDeliveredExactlyOnce() throws Exception {
        long start = System.nanoTime();
        Tally tally = new Tally();
        Channel<Integer> channel = Channel.<Integer>builder().capacity(CAPACITY).onUndelivered(tally::undelivered)
                .build();
        int sent = run(channel, tally, false);

        assertEquals(ITEMS, sent, "the channel stayed open, so every send must be accepted");
        StringBuilder problems = new StringBuilder();
        for (int i = 0; i < ITEMS; i++) {
            if (tally.delivered.get(i) != 1) {
                problems.append("\n  item ").append(i).append(" delivered ").append(tally.delivered.get(i))
                        .append(" times");
            }
            if (tally.undelivered.get(i) != 0) {
                problems.append("\n  item ").append(i).append(" went to onUndelivered after a plain close");
            }
            if (problems.length() > 2_000) {
                break;
            }
        }
        tally.errors.forEach(e -> problems.append("\n  ").append(e));
        if (problems.length() > 0) {
            fail("competing consumers after close:" + problems);
        }
        ChannelStats stats = channel.stats();
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertEquals(ITEMS, stats.sent(), stats.toString());
        assertEquals(ITEMS, stats.received(), stats.toString());
        assertEquals(0, stats.undelivered(), stats.toString());
        report("close", start, tally);
    }

    /* ---- cancel ---- */

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void competingConsumers_cancelledMidway_deliveredPlusUndeliveredEqualsAccepted() throws Exception {
        long start = System.nanoTime();
        Tally tally = new Tally();
        Channel<Integer> channel = Channel.<Integer>builder().capacity(CAPACITY).onUndelivered(tally::undelivered)
                .build();
        int accepted = run(channel, tally, true);

        assertTrue(accepted < ITEMS, "the cancel at half-way should have refused later sends: " + accepted);
        StringBuilder problems = new StringBuilder();
        for (int i = 0; i < ITEMS; i++) {
            int fates = tally.delivered.get(i) + tally.undelivered.get(i);
            int expected = i < accepted ? 1 : 0;
            if (fates != expected) {
                problems.append("\n  item ").append(i).append(i < accepted ? " (accepted)" : " (refused)")
                        .append(" delivered ").append(tally.delivered.get(i)).append(", undelivered ")
                        .append(tally.undelivered.get(i));
            }
            if (problems.length() > 2_000) {
                break;
            }
        }
        tally.errors.forEach(e -> problems.append("\n  ").append(e));
        if (problems.length() > 0) {
            fail("competing consumers after cancel:" + problems);
        }
        ChannelStats stats = channel.stats();
        assertEquals(ChannelState.CANCELLED, channel.state());
        assertEquals(accepted, stats.sent(), stats.toString());
        assertEquals(accepted, stats.received() + stats.undelivered(), stats.toString());
        report("cancel at " + accepted, start, tally);
    }

    /*
     * Runs the producer and the four consumers to the end. The producer sends 0..ITEMS-1 in order and closes; with
     * cancelHalfway it cancels the channel after ITEMS/2 sends instead. Returns how many items were accepted (as the
     * producer sends in order, items 0..accepted-1).
     */
    private static int run(Channel<Integer> channel, Tally tally, boolean cancelHalfway) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(5);
        try {
            List<Future<?>> consumers = new ArrayList<>();
            consumers.add(threads.submit(() -> receiveLoop(channel, tally)));
            consumers.add(threads.submit(() -> iteratorLoop(channel, tally, new SplittableRandom(11))));
            consumers.add(threads.submit(() -> subscriberSlot(channel.asPublisher(), 2, tally,
                    new SplittableRandom(12))));
            consumers.add(threads.submit(() -> subscriberSlot(FlowAdapters.toPublisher(channel.asFlowPublisher()), 3,
                    tally, new SplittableRandom(13))));
            Future<Integer> producer = threads.submit(() -> produce(channel, cancelHalfway));

            int accepted = get(producer, "producer");
            for (int i = 0; i < consumers.size(); i++) {
                get(consumers.get(i), "consumer " + i);
            }
            return accepted;
        } finally {
            threads.shutdownNow();
        }
    }

    private static <V> V get(Future<V> future, String who) throws InterruptedException {
        try {
            return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError(who + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError(who + " did not finish within " + WAIT_SECONDS + " s (hang or lost item)");
        }
    }

    private static int produce(Channel<Integer> channel, boolean cancelHalfway) throws InterruptedException {
        SplittableRandom random = new SplittableRandom(10);
        for (int i = 0; i < ITEMS; i++) {
            if (cancelHalfway && i == ITEMS / 2) {
                channel.cancel();
            }
            try {
                switch (random.nextInt(8)) {
                    case 0:
                        if (channel.trySend(i) != SendResult.OK) {
                            channel.send(i);
                        }
                        break;
                    case 1:
                        channel.sendAsync(i).join();
                        break;
                    default:
                        channel.send(i);
                }
            } catch (ChannelClosedException | java.util.concurrent.CompletionException refused) {
                return i;
            }
        }
        channel.close();
        return ITEMS;
    }

    private static Void receiveLoop(Channel<Integer> channel, Tally tally) throws InterruptedException {
        try {
            while (true) {
                tally.delivered(0, channel.receive());
            }
        } catch (ChannelClosedException end) {
            return null;
        }
    }

    /* Closes and reopens the iterator at random, sometimes right after hasNext() reserved an item. */
    private static Void iteratorLoop(Channel<Integer> channel, Tally tally, SplittableRandom random) {
        try {
            while (true) {
                try (ChannelIterator<Integer> it = channel.iterator()) {
                    tally.attachments[1].incrementAndGet();
                    int budget = 1 + random.nextInt(100);
                    boolean more;
                    while ((more = it.hasNext()) && budget-- > 0) {
                        tally.delivered(1, it.next());
                    }
                    if (!more) {
                        return null;
                    }
                    // hasNext() reserved an item that next() never takes: closing must put it back
                }
            }
        } catch (ChannelClosedException end) {
            return null;
        }
    }

    /* Subscribes one ChaosSubscriber after the other until one sees the end of the channel. */
    private static Void subscriberSlot(Publisher<Integer> publisher, int consumer, Tally tally,
            SplittableRandom random) throws InterruptedException {
        int subscriptions = 0;
        while (true) {
            ChaosSubscriber subscriber = new ChaosSubscriber(consumer, tally, random.split());
            publisher.subscribe(subscriber);
            subscriptions++;
            tally.attachments[consumer].incrementAndGet();
            if (!subscriber.done.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("subscriber " + consumer + "#" + subscriptions + " stalled with "
                        + subscriber.outstanding + " outstanding");
            }
            if (subscriber.completed) {
                return null;
            }
            if (subscriber.error != null) {
                if (subscriber.error instanceof ChannelClosedException) {
                    return null; // the channel was cancelled
                }
                throw new AssertionError("subscriber " + consumer + " got onError", subscriber.error);
            }
        }
    }

    /*
     * A hand-written Reactive Streams subscriber: requests random amounts (sometimes before the previous demand is
     * met), cancels at random (then counts as done; its slot subscribes a new one), checks the signal protocol.
     */
    static final class ChaosSubscriber implements Subscriber<Integer> {
        private final int consumer;
        private final Tally tally;
        private final SplittableRandom random;
        private final RaceTestSupport.SignalSerialCheck serial = new RaceTestSupport.SignalSerialCheck();
        final CountDownLatch done = new CountDownLatch(1);
        private Subscription subscription;
        volatile long outstanding;
        private boolean cancelled;
        volatile boolean completed;
        volatile Throwable error;

        ChaosSubscriber(int consumer, Tally tally, SplittableRandom random) {
            this.consumer = consumer;
            this.tally = tally;
            this.random = random;
        }

        @Override
        public void onSubscribe(Subscription s) {
            enter();
            if (subscription != null) {
                tally.errors.add("consumer " + consumer + ": second onSubscribe");
            }
            subscription = s;
            long n = 1 + random.nextInt(8);
            outstanding = n;
            s.request(n);
            leave();
        }

        @Override
        public void onNext(Integer item) {
            enter();
            if (completed || error != null) {
                tally.errors.add("consumer " + consumer + ": onNext(" + item + ") after a terminal signal");
            }
            long left = outstanding - 1;
            outstanding = left;
            if (left < 0) {
                tally.errors.add("consumer " + consumer + ": onNext(" + item + ") beyond demand (rule 1.1)");
            }
            // an onNext that races our own cancel still counts as delivered (contract 1)
            tally.delivered(consumer, item);
            if (!cancelled) {
                if (random.nextInt(64) == 0) {
                    cancelled = true;
                    subscription.cancel();
                    done.countDown();
                } else if (left == 0 || random.nextInt(16) == 0) {
                    long n = 1 + random.nextInt(8);
                    outstanding = left + n;
                    subscription.request(n);
                }
            }
            leave();
        }

        @Override
        public void onError(Throwable t) {
            enter();
            if (!cancelled) {
                error = t;
                done.countDown();
            }
            leave();
        }

        @Override
        public void onComplete() {
            enter();
            if (!cancelled) {
                completed = true;
                done.countDown();
            }
            leave();
        }

        private void enter() {
            String overlap = serial.enter("signal");
            if (overlap != null) {
                tally.errors.add("consumer " + consumer + ": " + overlap);
            }
        }

        private void leave() {
            serial.leave();
        }
    }

    private static void report(String ending, long startNanos, Tally tally) {
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        System.out.printf("[competing] %s: %d items in %d ms; items per consumer: receive=%d iterator=%d publisher=%d"
                + " flow=%d; iterators opened=%d, subscriptions=%d+%d%n", ending, ITEMS, millis,
                tally.perConsumer[0].get(), tally.perConsumer[1].get(), tally.perConsumer[2].get(),
                tally.perConsumer[3].get(), tally.attachments[1].get(), tally.attachments[2].get(),
                tally.attachments[3].get());
    }
}
