package dev.sluice;

import static dev.sluice.RaceTestSupport.ROUNDS;
import static dev.sluice.RaceTestSupport.awaitDone;
import static dev.sluice.RaceTestSupport.completedNormally;
import static dev.sluice.RaceTestSupport.failureOf;
import static dev.sluice.RaceTestSupport.race;
import static dev.sluice.RaceTestSupport.spin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Conservation races: each test loops {@link RaceTestSupport#ROUNDS} rounds on a fresh small channel whose items are
 * the unique Integers of the round, starts the racers together, and then checks the invariant of the contract:
 * accepted = delivered + undelivered (nothing left buffered once the round is wound up), nothing twice, and an item
 * that was not accepted (CLOSED, an exception, a failed or cancelled future) is never seen by anyone.
 *
 * <p>Races: send vs cancel; sendAsync withdrawal vs acceptance and vs channel cancel; a Publisher subscriber's cancel
 * vs delivery and vs the end of the channel; close/fail vs blocked senders and blocked receivers; an iterator's close
 * vs its hasNext and vs the end of the channel; interrupt or timeout vs delivery, for receivers and senders.
 * Each prints its round count, time and how often each outcome happened, so a run shows that both sides won.
 */
class ConservationRaceTest {

    private static final Duration WAIT = Duration.ofSeconds(RaceTestSupport.RACER_TIMEOUT_SECONDS);

    private static ExecutorService pool;

    @BeforeAll
    static void startPool() {
        pool = RaceTestSupport.racerPool("conservation", 3);
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    private static Channel<Integer> channel(int capacity, RaceTestSupport.Ledger ledger) {
        return Channel.<Integer>builder().capacity(capacity).onUndelivered(ledger::undelivered).build();
    }

    /* Blocking send that reports whether the item was accepted. */
    private static boolean sendOrClosed(ChannelSender<Integer> sender, int item) throws InterruptedException {
        try {
            sender.send(item);
            return true;
        } catch (ChannelClosedException e) {
            return false;
        }
    }

    /* After the race the future must be done: accepted, or failed because the channel ended first. */
    private static boolean acceptedBy(CompletableFuture<Void> future, String round, String what) {
        awaitDone(future, round + " " + what);
        if (completedNormally(future)) {
            return true;
        }
        Throwable cause = failureOf(future);
        if (!(cause instanceof ChannelClosedException)) {
            fail(round + ": " + what + " failed with " + cause + ", expected ChannelClosedException");
        }
        return false;
    }

    /* ---- send vs cancel ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void send_racingCancel_acceptedItemsDeliveredOrUndeliveredOnce() {
        SplittableRandom random = new SplittableRandom(1);
        long start = System.nanoTime();
        int cancelledWhileBlocked = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "send vs cancel, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(6);
            Channel<Integer> channel = channel(2, ledger);
            boolean[] accepted = new boolean[6];
            AtomicReference<CompletableFuture<Void>> f3 = new AtomicReference<>();
            AtomicReference<CompletableFuture<Void>> f4 = new AtomicReference<>();
            int delay = random.nextInt(64);
            race(pool, round,
                    () -> {
                        accepted[0] = channel.trySend(0) == SendResult.OK;
                        accepted[1] = sendOrClosed(channel, 1);
                        accepted[2] = sendOrClosed(channel.sender(), 2);
                    },
                    () -> {
                        f3.set(channel.sendAsync(3));
                        f4.set(channel.sender().sendAsync(4));
                        accepted[5] = channel.trySend(5) == SendResult.OK;
                    },
                    () -> {
                        spin(delay);
                        Integer item = channel.tryReceive();
                        if (item != null) {
                            ledger.delivered(item);
                        }
                        channel.cancel();
                    });
            accepted[3] = acceptedBy(f3.get(), round, "sendAsync(3)");
            accepted[4] = acceptedBy(f4.get(), round, "sendAsync(4)");
            if (!accepted[1] || !accepted[2]) {
                cancelledWhileBlocked++;
            }
            assertEquals(ChannelState.CANCELLED, channel.state(), round);
            assertTrue(channel.isClosedForSend() && channel.isClosedForReceive(), round);
            assertEquals(SendResult.CLOSED, channel.trySend(0), round);
            assertNull(channel.tryReceive(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("send vs cancel", start, "rounds where a blocking send was refused: " + cancelledWhileBlocked);
    }

    /* ---- sendAsync: cancel vs acceptance ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sendAsync_cancelRacingAcceptance_itemEitherWithdrawnOrAcceptedNeverBoth() {
        long start = System.nanoTime();
        int withdrawn = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "sendAsync cancel vs acceptance, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(3);
            Channel<Integer> channel = channel(1, ledger);
            boolean[] accepted = new boolean[3];
            accepted[0] = channel.trySend(0) == SendResult.OK;
            assertTrue(accepted[0], round);
            CompletableFuture<Void> f1 = channel.sendAsync(1);
            CompletableFuture<Void> f2 = channel.sendAsync(2);
            assertFalse(f1.isDone() || f2.isDone(), round + ": the buffer is full, so both sends must wait");
            boolean cancelFuture = (r & 1) == 0;
            AtomicInteger firstReceived = new AtomicInteger(-1);
            race(pool, round,
                    () -> {
                        if (cancelFuture) {
                            f1.cancel(false);
                        } else {
                            f1.completeExceptionally(new TimeoutException("withdrawn by the test"));
                        }
                    },
                    () -> {
                        // frees the slot twice: either item 1 or (if withdrawn) item 2 moves up
                        for (int i = 0; i < 2; i++) {
                            Integer item = channel.receive(WAIT);
                            if (item == null) {
                                fail(round + ": receive timed out although two items were pending");
                            }
                            if (i == 0) {
                                firstReceived.set(item);
                            }
                            ledger.delivered(item);
                        }
                    });
            assertEquals(0, firstReceived.get(), round + ": FIFO, the buffered item leaves first");
            awaitDone(f2, round + " sendAsync(2)");
            assertTrue(completedNormally(f2), round + ": sendAsync(2) must be accepted once two slots were freed: " + f2);
            awaitDone(f1, round + " sendAsync(1)");
            accepted[1] = completedNormally(f1);
            accepted[2] = true;
            if (!accepted[1]) {
                withdrawn++;
            }
            Integer rest;
            while ((rest = channel.tryReceive()) != null) {
                ledger.delivered(rest);
            }
            channel.close();
            assertEquals(ChannelState.COMPLETED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("sendAsync cancel vs acceptance", start, "withdrawn: " + withdrawn + " of " + ROUNDS);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void sendAsync_cancelRacingChannelCancel_withdrawnItemNeverDelivered() {
        long start = System.nanoTime();
        for (int r = 0; r < ROUNDS; r++) {
            String round = "sendAsync cancel vs channel cancel, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(3);
            Channel<Integer> channel = channel(1, ledger);
            boolean[] accepted = {channel.trySend(0) == SendResult.OK, false, false};
            CompletableFuture<Void> f1 = channel.sendAsync(1);
            CompletableFuture<Void> f2 = channel.sendAsync(2);
            race(pool, round,
                    () -> f1.cancel(false),
                    () -> {
                        Integer item = channel.tryReceive();
                        if (item != null) {
                            ledger.delivered(item);
                        }
                        channel.cancel();
                    });
            accepted[1] = acceptedOrWithdrawn(f1, round, "sendAsync(1)");
            accepted[2] = acceptedOrWithdrawn(f2, round, "sendAsync(2)");
            assertEquals(ChannelState.CANCELLED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("sendAsync cancel vs channel cancel", start, "");
    }

    private static boolean acceptedOrWithdrawn(CompletableFuture<Void> future, String round, String what) {
        awaitDone(future, round + " " + what);
        return future.isCancelled() ? false : acceptedBy(future, round, what);
    }

    /* ---- subscriber cancel vs delivery ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void publisher_subscriberCancelRacingDelivery_eachItemDeliveredOnceOrLeftInChannel() {
        SplittableRandom random = new SplittableRandom(2);
        long start = System.nanoTime();
        long deliveredToSubscribers = 0;
        int items = 8;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "subscriber cancel vs delivery, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(items);
            Channel<Integer> channel = channel(2, ledger);
            RecordingSubscriber subscriber = new RecordingSubscriber(ledger, round, 1 + random.nextInt(3));
            if ((r & 2) == 0) {
                channel.asPublisher().subscribe(subscriber);
            } else {
                channel.asFlowPublisher().subscribe(org.reactivestreams.FlowAdapters.toFlowSubscriber(subscriber));
            }
            subscriber.subscription(round); // onSubscribe must have happened before the race starts
            @SuppressWarnings("unchecked")
            CompletableFuture<Void>[] futures = new CompletableFuture[items];
            long extra = 1 + random.nextInt(4);
            int delay = random.nextInt(128);
            race(pool, round,
                    () -> {
                        for (int i = 0; i < items; i++) {
                            futures[i] = channel.sendAsync(i);
                        }
                    },
                    () -> {
                        spin(delay);
                        subscriber.request(extra);
                        subscriber.cancel();
                    });
            boolean[] accepted = new boolean[items];
            if ((r & 1) == 0) {
                // wind up by draining: every item must come out once, to the subscriber or to us
                long deadline = System.nanoTime() + WAIT.toNanos();
                int done = 0;
                while (done < items) {
                    Integer item = channel.tryReceive();
                    if (item != null) {
                        ledger.delivered(item);
                    } else if (futures[done].isDone()) {
                        done++;
                    } else if (System.nanoTime() > deadline) {
                        fail(round + ": sendAsync(" + done + ") still pending with nothing to receive: "
                                + channel.stats());
                    } else {
                        Thread.onSpinWait();
                    }
                }
                for (int i = 0; i < items; i++) {
                    accepted[i] = acceptedBy(futures[i], round, "sendAsync(" + i + ")");
                    assertTrue(accepted[i], round + ": channel stayed open, so sendAsync(" + i + ") must succeed");
                }
                channel.close();
                assertEquals(ChannelState.COMPLETED, channel.state(), round);
            } else {
                // wind up by cancelling: what is still buffered goes to the undelivered handler
                channel.cancel();
                for (int i = 0; i < items; i++) {
                    accepted[i] = acceptedBy(futures[i], round, "sendAsync(" + i + ")");
                }
            }
            subscriber.assertWellBehaved();
            deliveredToSubscribers += subscriber.received.get();
            ledger.assertConservation(round, accepted, channel);
        }
        report("subscriber cancel vs delivery", start,
                "items delivered to the cancelling subscriber: " + deliveredToSubscribers);
    }

    /*
     * A subscriber that requests `initial`, then one more per item, and checks the protocol: signals never overlap,
     * never more onNext than requested, nothing after a terminal signal.
     */
    static final class RecordingSubscriber implements Subscriber<Integer> {
        private final RaceTestSupport.Ledger ledger;
        private final String round;
        private final long initial;
        private final CompletableFuture<Subscription> subscription = new CompletableFuture<>();
        private final RaceTestSupport.SignalSerialCheck serial = new RaceTestSupport.SignalSerialCheck();
        private final AtomicLong requested = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        private volatile boolean cancelled;
        private volatile boolean terminated;

        RecordingSubscriber(RaceTestSupport.Ledger ledger, String round, long initial) {
            this.ledger = ledger;
            this.round = round;
            this.initial = initial;
        }

        Subscription subscription(String round) {
            try {
                return subscription.get(RaceTestSupport.RACER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(round + ": no onSubscribe", e);
            }
        }

        void request(long n) {
            requested.addAndGet(n);
            subscription.join().request(n);
        }

        void cancel() {
            cancelled = true;
            subscription.join().cancel();
        }

        @Override
        public void onSubscribe(Subscription s) {
            enter("onSubscribe");
            if (!subscription.complete(s)) {
                ledger.error(round + ": second onSubscribe");
            }
            if (initial > 0) {
                requested.addAndGet(initial);
                s.request(initial);
            }
            leave();
        }

        @Override
        public void onNext(Integer item) {
            enter("onNext(" + item + ")");
            if (terminated) {
                ledger.error(round + ": onNext(" + item + ") after a terminal signal");
            }
            if (received.incrementAndGet() > requested.get()) {
                ledger.error(round + ": onNext(" + item + ") beyond demand " + requested.get() + " (rule 1.1)");
            }
            ledger.delivered(item);
            if (!cancelled) {
                requested.incrementAndGet();
                subscription.join().request(1);
            }
            leave();
        }

        @Override
        public void onError(Throwable t) {
            enter("onError");
            terminal("onError(" + t + ")");
            if (!(t instanceof ChannelClosedException)) {
                ledger.error(round + ": unexpected onError(" + t + ")");
            }
            leave();
        }

        @Override
        public void onComplete() {
            enter("onComplete");
            terminal("onComplete");
            leave();
        }

        private void terminal(String signal) {
            if (terminated) {
                ledger.error(round + ": second terminal signal " + signal + " (rule 1.7)");
            }
            terminated = true;
        }

        private void enter(String signal) {
            String overlap = serial.enter(signal);
            if (overlap != null) {
                ledger.error(round + ": " + overlap);
            }
        }

        private void leave() {
            serial.leave();
        }

        void assertWellBehaved() {
            assertTrue(serial.idle(), round + ": a signal is still running after the round");
        }
    }

    /* ---- close vs blocked senders ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void close_racingBlockedSenders_refusedItemsNeverDelivered() {
        SplittableRandom random = new SplittableRandom(3);
        long start = System.nanoTime();
        int blockingSendAccepted = 0;
        int asyncSendAccepted = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "close vs blocked senders, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(3);
            Channel<Integer> channel = channel(1, ledger);
            boolean[] accepted = new boolean[3];
            accepted[0] = channel.trySend(0) == SendResult.OK;
            AtomicReference<CompletableFuture<Void>> f2 = new AtomicReference<>();
            int closeDelay = random.nextInt(256);
            int receiveDelay = random.nextInt(256);
            race(pool, round,
                    () -> accepted[1] = sendOrClosed(channel, 1),
                    () -> f2.set(channel.sendAsync(2)),
                    () -> {
                        spin(closeDelay);
                        channel.close();
                    },
                    () -> {
                        spin(receiveDelay);
                        Integer item = channel.receive(WAIT);
                        if (item == null) {
                            fail(round + ": receive timed out with item 0 buffered");
                        }
                        ledger.delivered(item);
                    });
            accepted[2] = acceptedBy(f2.get(), round, "sendAsync(2)");
            blockingSendAccepted += accepted[1] ? 1 : 0;
            asyncSendAccepted += accepted[2] ? 1 : 0;
            drainUntilEnd(channel, ledger, round, null);
            assertEquals(ChannelState.COMPLETED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("close vs blocked senders", start, "send(1) accepted in " + blockingSendAccepted
                + " rounds, sendAsync(2) in " + asyncSendAccepted + " (otherwise refused by close)");
    }

    /* Receives until the end of a closed or failed channel; a receive that waits is a lost wake-up. */
    private static void drainUntilEnd(Channel<Integer> channel, RaceTestSupport.Ledger ledger, String round,
            Throwable expectedCause) {
        try {
            while (true) {
                Integer item = channel.receive(WAIT);
                if (item == null) {
                    fail(round + ": receive on a closed channel waited " + WAIT + ": " + channel.stats());
                }
                ledger.delivered(item);
            }
        } catch (ChannelClosedException end) {
            assertSame(expectedCause, end.getCause(), round + ": cause of the end");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /* ---- close vs blocked receivers ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void close_racingBlockedReceivers_allWakeAndEachItemDeliveredOnce() {
        SplittableRandom random = new SplittableRandom(4);
        long start = System.nanoTime();
        for (int r = 0; r < ROUNDS; r++) {
            String round = "close vs blocked receivers, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(3);
            Channel<Integer> channel = channel(2, ledger);
            boolean[] accepted = new boolean[3];
            boolean failIt = (r & 1) == 1;
            Throwable cause = failIt ? new IOException("round " + r) : null;
            CountDownLatch subscriberDone = new CountDownLatch(1);
            AtomicReference<Throwable> subscriberEnd = new AtomicReference<>();
            channel.asPublisher().subscribe(new Subscriber<Integer>() {
                @Override
                public void onSubscribe(Subscription s) {
                    s.request(1);
                }

                @Override
                public void onNext(Integer item) {
                    ledger.delivered(item);
                }

                @Override
                public void onError(Throwable t) {
                    subscriberEnd.set(t);
                    subscriberDone.countDown();
                }

                @Override
                public void onComplete() {
                    subscriberDone.countDown();
                }
            });
            int delay = random.nextInt(256);
            race(pool, round,
                    () -> {
                        accepted[0] = channel.trySend(0) == SendResult.OK;
                        accepted[1] = channel.trySend(1) == SendResult.OK;
                        accepted[2] = channel.trySend(2) == SendResult.OK;
                        spin(delay);
                        if (failIt) {
                            channel.fail(cause);
                        } else {
                            channel.close();
                        }
                    },
                    () -> {
                        try {
                            while (true) {
                                ledger.delivered(channel.receive());
                            }
                        } catch (ChannelClosedException end) {
                            assertSame(cause, end.getCause(), round + ": receive() end cause");
                        }
                    },
                    () -> {
                        try (ChannelIterator<Integer> it = channel.iterator()) {
                            while (it.hasNext()) {
                                ledger.delivered(it.next());
                            }
                            assertFalse(failIt, round + ": iterator ended normally on a failed channel");
                        } catch (ChannelClosedException end) {
                            assertTrue(failIt, round + ": iterator threw on a closed channel: " + end);
                            assertSame(cause, end.getCause(), round + ": iterator end cause");
                        }
                    });
            try {
                if (!subscriberDone.await(RaceTestSupport.RACER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    fail(round + ": subscriber never saw the end: " + channel.stats());
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertSame(cause, subscriberEnd.get(), round + ": subscriber end signal");
            assertEquals(failIt ? ChannelState.FAILED : ChannelState.COMPLETED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("close/fail vs blocked receivers", start, "");
    }

    /* ---- iterator close vs end of channel ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void iterator_closedWithReservedItemRacingEndOfChannel_itemNeitherStrandedNorLost() {
        SplittableRandom random = new SplittableRandom(5);
        long start = System.nanoTime();
        int reservedThenReturned = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "iterator close vs end of channel, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(1);
            Channel<Integer> channel = channel(2, ledger);
            boolean[] accepted = {channel.trySend(0) == SendResult.OK};
            channel.close();
            ChannelIterator<Integer> iterator = channel.iterator();
            AtomicInteger returned = new AtomicInteger();
            int delay = random.nextInt(128);
            race(pool, round,
                    () -> {
                        // reserve the last item, then give it back: the channel is not drained until it is taken
                        if (iterator.hasNext()) {
                            returned.set(1);
                        }
                        iterator.close();
                    },
                    () -> {
                        spin(delay);
                        drainUntilEnd(channel, ledger, round, null);
                    });
            reservedThenReturned += returned.get();
            assertEquals(ChannelState.COMPLETED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("iterator close vs end of channel", start, "item reserved and returned in " + reservedThenReturned
                + " rounds");
    }

    /*
     * The interleaving the race above finds, in order on one thread: an iterator reserves the last item of a closed
     * channel, a receiver then finds nothing left, and the iterator gives the item back.
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void iterator_closedWithReservedItemAfterReceiverSawEnd_itemNotStranded() throws InterruptedException {
        RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(1);
        Channel<Integer> channel = channel(2, ledger);
        boolean[] accepted = {channel.trySend(0) == SendResult.OK};
        channel.close();
        ChannelIterator<Integer> iterator = channel.iterator();
        assertTrue(iterator.hasNext(), "the iterator reserves item 0");
        Integer item = null;
        try {
            item = channel.receive(Duration.ofMillis(200));
        } catch (ChannelClosedException end) {
            // the receiver was told the channel ended although item 0 was only reserved, not delivered
        }
        iterator.close(); // gives item 0 back
        if (item != null) {
            ledger.delivered(item);
        }
        ledger.assertConservation("iterator reserve, receive, iterator close", accepted, channel);
    }

    /* ---- subscriber cancel vs end of channel ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void publisher_subscriberCancelRacingEndOfChannel_itemNeitherStrandedNorLost() {
        SplittableRandom random = new SplittableRandom(9);
        long start = System.nanoTime();
        long deliveredToSubscriber = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "subscriber cancel vs end of channel, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(2);
            Channel<Integer> channel = channel(2, ledger);
            boolean[] accepted = {channel.trySend(0) == SendResult.OK, channel.trySend(1) == SendResult.OK};
            channel.close();
            RecordingSubscriber subscriber = new RecordingSubscriber(ledger, round, 0);
            channel.asPublisher().subscribe(subscriber);
            subscriber.subscription(round);
            int cancelDelay = random.nextInt(128);
            int receiveDelay = random.nextInt(128);
            race(pool, round,
                    () -> subscriber.request(1),
                    () -> {
                        spin(cancelDelay);
                        subscriber.cancel();
                    },
                    () -> {
                        spin(receiveDelay);
                        drainUntilEnd(channel, ledger, round, null);
                    });
            deliveredToSubscriber += subscriber.received.get();
            subscriber.assertWellBehaved();
            assertEquals(ChannelState.COMPLETED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("subscriber cancel vs end of channel", start, "items delivered to the subscriber: "
                + deliveredToSubscriber);
    }

    /* ---- iterator close vs hasNext ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void iterator_closeRacingHasNext_reservedItemGoesBackToChannel() {
        SplittableRandom random = new SplittableRandom(6);
        long start = System.nanoTime();
        int items = 6;
        long takenByIterator = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "iterator close vs hasNext, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(items);
            Channel<Integer> channel = channel(4, ledger);
            boolean[] accepted = new boolean[items];
            ChannelIterator<Integer> iterator = channel.iterator();
            AtomicInteger taken = new AtomicInteger();
            int closeDelay = random.nextInt(256);
            race(pool, round,
                    () -> {
                        for (int i = 0; i < items; i++) {
                            accepted[i] = channel.trySend(i) == SendResult.OK;
                        }
                    },
                    () -> {
                        try {
                            while (iterator.hasNext()) {
                                ledger.delivered(iterator.next());
                                taken.incrementAndGet();
                            }
                        } catch (java.util.NoSuchElementException closedBetweenHasNextAndNext) {
                            // close() took the reserved item back: it must be in the channel again
                        }
                    },
                    () -> {
                        spin(closeDelay);
                        iterator.close();
                    });
            takenByIterator += taken.get();
            Integer rest;
            while ((rest = channel.tryReceive()) != null) {
                ledger.delivered(rest);
            }
            channel.close();
            assertEquals(ChannelState.COMPLETED, channel.state(), round);
            ledger.assertConservation(round, accepted, channel);
        }
        report("iterator close vs hasNext", start, "items taken through the iterator: " + takenByIterator);
    }

    /* ---- interrupt vs delivery ---- */

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void receive_interruptRacingDelivery_itemNeitherLostNorDuplicated() {
        SplittableRandom random = new SplittableRandom(7);
        long start = System.nanoTime();
        int interrupted = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "receive interrupt vs delivery, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(1);
            Channel<Integer> channel = channel(2, ledger);
            boolean[] accepted = new boolean[1];
            Interruptible receiver = new Interruptible();
            int kind = r % 3;
            int[] delays = skewedDelays(random);
            int sendDelay = delays[0];
            int interruptDelay = delays[1];
            race(pool, round,
                    () -> receiver.interruptAfter(interruptDelay),
                    () -> receiver.run(() -> {
                        switch (kind) {
                            case 0:
                                ledger.delivered(channel.receive());
                                break;
                            case 1:
                                Integer item = channel.receive(WAIT);
                                if (item == null) {
                                    fail(round + ": receive(timeout) waited " + WAIT + " with an item sent");
                                }
                                ledger.delivered(item);
                                break;
                            default:
                                ChannelIterator<Integer> it = channel.iterator();
                                try {
                                    if (it.hasNext()) {
                                        ledger.delivered(it.next());
                                    }
                                } catch (java.util.concurrent.CancellationException e) {
                                    if (!(e.getCause() instanceof InterruptedException)) {
                                        throw e;
                                    }
                                    throw (InterruptedException) e.getCause();
                                } finally {
                                    it.close();
                                }
                        }
                    }),
                    () -> {
                        spin(sendDelay);
                        accepted[0] = channel.trySend(0) == SendResult.OK;
                    });
            interrupted += receiver.wasInterrupted() ? 1 : 0;
            Integer rest;
            while ((rest = channel.tryReceive()) != null) {
                ledger.delivered(rest);
            }
            channel.close();
            ledger.assertConservation(round, accepted, channel);
        }
        report("receive interrupt vs delivery", start, "receives ended by the interrupt: " + interrupted);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void send_interruptOrTimeoutRacingAcceptance_itemEnqueuedIffSendSucceeded() {
        SplittableRandom random = new SplittableRandom(8);
        long start = System.nanoTime();
        int refused = 0;
        for (int r = 0; r < ROUNDS; r++) {
            String round = "send interrupt/timeout vs acceptance, round " + r;
            RaceTestSupport.Ledger ledger = new RaceTestSupport.Ledger(2);
            Channel<Integer> channel = channel(1, ledger);
            boolean[] accepted = {channel.trySend(0) == SendResult.OK, false};
            Interruptible sender = new Interruptible();
            boolean timed = (r & 1) == 1;
            Duration timeout = Duration.ofNanos(random.nextInt(50_000));
            int[] delays = skewedDelays(random);
            int receiveDelay = delays[0];
            int interruptDelay = delays[1];
            race(pool, round,
                    () -> sender.interruptAfter(timed ? -1 : interruptDelay),
                    () -> sender.run(() -> {
                        if (timed) {
                            accepted[1] = channel.send(1, timeout);
                        } else {
                            channel.send(1);
                            accepted[1] = true;
                        }
                    }),
                    () -> {
                        spin(receiveDelay);
                        Integer item = channel.tryReceive();
                        if (item != null) {
                            ledger.delivered(item);
                        }
                    });
            refused += accepted[1] ? 0 : 1;
            Integer rest;
            while ((rest = channel.tryReceive()) != null) {
                ledger.delivered(rest);
            }
            channel.close();
            ledger.assertConservation(round, accepted, channel);
        }
        report("send interrupt/timeout vs acceptance", start, "sends refused (interrupt or timeout): " + refused);
    }

    /* Two spin delays: one racer clearly late, the other clearly late, or both close; a third of the rounds each. */
    private static int[] skewedDelays(SplittableRandom random) {
        switch (random.nextInt(3)) {
            case 0:
                return new int[] {4_096 + random.nextInt(4_096), random.nextInt(64)};
            case 1:
                return new int[] {random.nextInt(64), 4_096 + random.nextInt(4_096)};
            default:
                return new int[] {random.nextInt(256), random.nextInt(256)};
        }
    }

    /*
     * Runs a blocking body on a pool thread that another racer may interrupt. The body's thread clears its
     * interrupt status before it returns to the pool, once the interrupter is done, so no later round sees it.
     */
    static final class Interruptible {
        private final AtomicReference<Thread> thread = new AtomicReference<>();
        private final java.util.concurrent.atomic.AtomicBoolean interrupterDone =
                new java.util.concurrent.atomic.AtomicBoolean();
        private volatile boolean interrupted;

        void run(RaceTestSupport.Racer body) throws Exception {
            thread.set(Thread.currentThread());
            try {
                body.run();
            } catch (InterruptedException e) {
                interrupted = true;
            } finally {
                RaceTestSupport.spinUntil(interrupterDone::get);
                Thread.interrupted();
            }
        }

        /* Interrupts the body's thread after `spins` spin-waits; a negative count: do not interrupt. */
        void interruptAfter(int spins) {
            if (spins < 0) {
                interrupterDone.set(true);
                return;
            }
            try {
                RaceTestSupport.spinUntil(() -> thread.get() != null);
                spin(spins);
                thread.get().interrupt();
            } finally {
                interrupterDone.set(true);
            }
        }

        boolean wasInterrupted() {
            return interrupted;
        }
    }

    private static void report(String race, long startNanos, String detail) {
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        System.out.printf("[race] %s: %d rounds in %d ms%s%n", race, ROUNDS, millis,
                detail.isEmpty() ? "" : "; " + detail);
    }
}
