package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.SendResult;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.test.util.RaceTestUtils;

@Timeout(60)
class MonoViewTest {

    static final int RACE_ROUNDS = 10_000;

    /* ---- receive ---- */

    @Test
    void receive_itemBuffered_emitsTheHeadAndLeavesTheRest() {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("a");
        channel.trySend("b");
        StepVerifier.create(ReactorChannels.receive(channel.receiver())).expectNext("a").verifyComplete();
        assertEquals(1, channel.stats().size());
        assertEquals("b", channel.tryReceive());
    }

    @Test
    void receive_withoutRequest_takesNothing() {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("a");
        StepVerifier.create(ReactorChannels.receive(channel.receiver()), 0)
                .expectSubscription()
                .then(() -> assertEquals(1, channel.stats().size()))
                .thenRequest(1)
                .expectNext("a")
                .verifyComplete();
        assertEquals(0, channel.stats().size());
    }

    @Test
    void receive_emptyChannel_waitsWithoutBlockingForTheNextSend() {
        Channel<String> channel = Channel.bounded(4);
        StepVerifier.create(ReactorChannels.receive(channel.receiver()))
                .expectSubscription()
                .then(() -> assertEquals(1, channel.stats().waitingReceivers()))
                .then(() -> channel.trySend("x"))
                .expectNext("x")
                .verifyComplete();
        assertEquals(0, channel.stats().subscribers(), "the Mono left the channel after its item");
    }

    @Test
    void receive_closedAndDrained_completesEmpty() {
        Channel<String> channel = Channel.bounded(4);
        channel.close();
        StepVerifier.create(ReactorChannels.receive(channel.receiver())).verifyComplete();
    }

    @Test
    void receive_failed_signalsTheCause() {
        Channel<String> channel = Channel.bounded(4);
        IllegalStateException boom = new IllegalStateException("boom");
        channel.fail(boom);
        StepVerifier.create(ReactorChannels.receive(channel.receiver()))
                .expectErrorSatisfies(e -> assertSame(boom, e))
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void receive_cancelled_signalsChannelClosedException() {
        Channel<String> channel = Channel.bounded(4);
        StepVerifier.create(ReactorChannels.receive(channel.receiver()))
                .expectSubscription()
                .then(channel::cancel)
                .expectError(ChannelClosedException.class)
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void receive_timeoutThenSend_itemStaysForTheNextConsumer() {
        Channel<String> channel = Channel.bounded(4);
        StepVerifier.create(ReactorChannels.receive(channel.receiver()).timeout(Duration.ofMillis(20), Mono.empty()))
                .verifyComplete();
        channel.trySend("late");
        assertEquals("late", channel.tryReceive(), "the timed-out Mono took nothing");
    }

    @Test
    void receive_cancelRacingSend_eachItemReceivedOnceOrLeftInTheChannel() {
        int received = 0;
        int left = 0;
        int discarded = 0;
        for (int round = 0; round < RACE_ROUNDS; round++) {
            Channel<Integer> channel = Channel.bounded(1);
            FluxViewTest.Recorder<Integer> mono = new FluxViewTest.Recorder<>(1);
            ReactorChannels.receive(channel.receiver()).subscribe(mono);
            Integer item = round;
            Runnable cancel = mono::cancel;
            Runnable send = () -> assertEquals(SendResult.OK, channel.trySend(item));
            if (round % 2 == 0) { // alternate which side runs on the calling thread, for a more even race
                RaceTestUtils.race(cancel, send);
            } else {
                RaceTestUtils.race(send, cancel);
            }
            List<Object> seen = new ArrayList<>(mono.values);
            seen.addAll(mono.discarded);
            Integer rest = channel.tryReceive();
            if (rest != null) {
                seen.add(rest);
                left++;
            }
            assertEquals(List.of(item), seen, "round " + round + ": received " + mono.values + ", discarded "
                    + mono.discarded + ", left " + rest);
            assertNull(channel.tryReceive());
            received += mono.values.size();
            discarded += mono.discarded.size();
            assertEquals(!mono.values.isEmpty(), mono.completed, "an item completes the Mono");
        }
        System.out.printf("receive-Mono cancel vs send: %d rounds: %d received, %d left in the channel, "
                + "%d handed over at the cancel instant (discard hook)%n", RACE_ROUNDS, received, left, discarded);
        assertEquals(RACE_ROUNDS, received + left + discarded);
    }

    @Test
    void receive_waitingReceivers_aLaterMonoDoesNotOvertakeThem() {
        Channel<String> channel = Channel.bounded(4);
        FluxViewTest.Recorder<String> first = new FluxViewTest.Recorder<>(1);
        FluxViewTest.Recorder<String> second = new FluxViewTest.Recorder<>(1);
        ReactorChannels.receive(channel.receiver()).subscribe(first);
        ReactorChannels.receive(channel.receiver()).subscribe(second);
        assertEquals(2, channel.stats().waitingReceivers(), "both wait in the channel's FIFO");
        channel.trySend("x");
        channel.trySend("y");
        assertEquals(List.of("x"), first.values, "FIFO: the first waiting Mono gets the first item");
        assertEquals(List.of("y"), second.values);
        assertTrue(first.completed && second.completed);
        assertEquals(0, channel.stats().subscribers(), "both left the channel");
    }

    @Test
    void receive_requestZero_signalsIllegalArgumentAndTakesNothing() {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("a");
        FluxViewTest.Recorder<String> mono = new FluxViewTest.Recorder<>(0);
        ReactorChannels.receive(channel.receiver()).subscribe(mono);
        mono.subscription.request(0);
        assertInstanceOf(IllegalArgumentException.class, mono.error);
        assertTrue(mono.error.getMessage().contains("n was 0"), mono.error.getMessage());
        assertEquals(1, channel.stats().size(), "nothing taken");
        mono.subscription.request(1);
        assertEquals(List.of(), mono.values, "ended: a later request takes nothing");
        assertEquals(1, channel.stats().size());
    }

    @Test
    void receive_requestRacingCancel_itemBuffered_receivedOnceOrLeftOrDiscarded() {
        int received = 0;
        int left = 0;
        int discarded = 0;
        for (int round = 0; round < RACE_ROUNDS; round++) {
            Channel<Integer> channel = Channel.bounded(1);
            Integer item = round;
            assertEquals(SendResult.OK, channel.trySend(item));
            FluxViewTest.Recorder<Integer> mono = new FluxViewTest.Recorder<>(0);
            ReactorChannels.receive(channel.receiver()).subscribe(mono);
            Runnable cancel = () -> mono.subscription.cancel();
            Runnable request = () -> mono.subscription.request(1);
            if (round % 2 == 0) {
                RaceTestUtils.race(cancel, request);
            } else {
                RaceTestUtils.race(request, cancel);
            }
            List<Object> seen = new ArrayList<>(mono.values);
            seen.addAll(mono.discarded);
            Integer rest = channel.tryReceive();
            if (rest != null) {
                seen.add(rest);
                left++;
            }
            assertEquals(List.of(item), seen, "round " + round + ": received " + mono.values + ", discarded "
                    + mono.discarded + ", left " + rest);
            assertEquals(0, channel.stats().subscribers(), "round " + round + ": nothing left subscribed");
            received += mono.values.size();
            discarded += mono.discarded.size();
        }
        System.out.printf("receive-Mono request vs cancel, item buffered: %d rounds: %d received, %d left, "
                + "%d discarded%n", RACE_ROUNDS, received, left, discarded);
        assertEquals(RACE_ROUNDS, received + left + discarded);
    }

    @Test
    void receive_nullReceiver_throwsNpeNamingIt() {
        assertEquals("receiver",
                assertThrows(NullPointerException.class, () -> ReactorChannels.receive(null)).getMessage());
    }

    /* ---- send ---- */

    @Test
    void send_beforeSubscribe_sendsNothing() {
        Channel<String> channel = Channel.bounded(2);
        Mono<Void> send = ReactorChannels.send(channel.sender(), "a");
        assertEquals(0, channel.stats().sent());
        StepVerifier.create(send).verifyComplete();
        StepVerifier.create(send).verifyComplete();
        assertEquals(2, channel.stats().size(), "each subscription sends once");
    }

    @Test
    void send_full_completesOnlyWhenAccepted() {
        Channel<String> channel = Channel.bounded(2);
        channel.trySend("first");
        channel.trySend("second");
        StepVerifier.create(ReactorChannels.send(channel.sender(), "third"))
                .expectSubscription()
                .then(() -> assertEquals(1, channel.stats().waitingSenders()))
                .then(() -> assertEquals("first", channel.tryReceive()))
                .verifyComplete();
        assertEquals("second", channel.tryReceive());
        assertEquals("third", channel.tryReceive());
    }

    @Test
    void send_cancelBeforeAcceptance_withdrawsTheItemToTheDiscardHook() {
        Channel<String> channel = Channel.bounded(2);
        channel.trySend("first");
        channel.trySend("second");
        List<Object> discarded = new CopyOnWriteArrayList<>();
        StepVerifier.create(ReactorChannels.send(channel.sender(), "third").doOnDiscard(String.class,
                        discarded::add))
                .expectSubscription()
                .then(() -> assertEquals(1, channel.stats().waitingSenders()))
                .thenCancel()
                .verify();
        assertEquals(0, channel.stats().waitingSenders());
        assertEquals("first", channel.tryReceive());
        assertEquals("second", channel.tryReceive());
        assertNull(channel.tryReceive(), "the withdrawn item never entered the channel");
        assertEquals(2, channel.stats().sent());
        assertEquals(List.of("third"), discarded);
    }

    @Test
    void send_closedChannel_failsWithChannelClosedException() {
        Channel<String> channel = Channel.bounded(1);
        channel.close();
        List<Object> discarded = new CopyOnWriteArrayList<>();
        StepVerifier.create(ReactorChannels.send(channel.sender(), "x").doOnDiscard(String.class, discarded::add))
                .expectError(ChannelClosedException.class)
                .verify(Duration.ofSeconds(5));
        assertEquals(List.of("x"), discarded);
    }

    @Test
    void send_closedWhileWaiting_failsWithChannelClosedException() {
        Channel<String> channel = Channel.bounded(2);
        channel.trySend("first");
        channel.trySend("second");
        StepVerifier.create(ReactorChannels.send(channel.sender(), "third"))
                .expectSubscription()
                .then(() -> assertEquals(1, channel.stats().waitingSenders()))
                .then(channel::close)
                .expectError(ChannelClosedException.class)
                .verify(Duration.ofSeconds(5));
        assertEquals("first", channel.tryReceive());
        assertEquals("second", channel.tryReceive());
        assertNull(channel.tryReceive());
    }

    @Test
    void send_cancelRacingReceiver_eachItemDeliveredOnceOrWithdrawnNeverBoth() {
        int delivered = 0;
        int withdrawn = 0;
        for (int round = 0; round < RACE_ROUNDS; round++) {
            Channel<Integer> channel = Channel.bounded(2);
            channel.trySend(-2);
            channel.trySend(-1); // full: the send below waits in the FIFO
            FluxViewTest.Recorder<Void> send = new FluxViewTest.Recorder<>(0);
            List<Object> discarded = send.discarded;
            Integer item = round;
            ReactorChannels.send(channel.sender(), item).subscribe(send);
            List<Integer> received = new ArrayList<>();
            Runnable cancel = send::cancel;
            Runnable receive = () -> received.add(channel.tryReceive());
            if (round % 2 == 0) {
                RaceTestUtils.race(cancel, receive);
            } else {
                RaceTestUtils.race(receive, cancel);
            }
            Integer next;
            while ((next = channel.tryReceive()) != null) {
                received.add(next);
            }
            assertEquals(List.of(-2, -1), received.subList(0, 2));
            boolean gotIt = received.contains(item);
            boolean discardedIt = discarded.contains(item);
            assertTrue(gotIt ^ discardedIt, "round " + round + ": received " + received + ", discarded "
                    + discarded);
            assertEquals(gotIt ? 3 : 2, received.size(), "nothing twice: " + received);
            assertTrue(discarded.size() <= 1);
            assertEquals(gotIt ? 3L : 2L, channel.stats().sent());
            if (send.completed) {
                assertTrue(gotIt, "a completed send Mono means the item was accepted");
            }
            assertNull(send.error);
            delivered += gotIt ? 1 : 0;
            withdrawn += discardedIt ? 1 : 0;
        }
        System.out.printf("send-Mono cancel vs receiver: %d rounds: %d delivered, %d withdrawn%n", RACE_ROUNDS,
                delivered, withdrawn);
        assertEquals(RACE_ROUNDS, delivered + withdrawn);
    }

    @Test
    void send_badArguments_throwNpeNamingThem() {
        Channel<String> channel = Channel.bounded(1);
        assertEquals("sender",
                assertThrows(NullPointerException.class, () -> ReactorChannels.send(null, "x")).getMessage());
        assertEquals("item", assertThrows(NullPointerException.class,
                () -> ReactorChannels.send(channel.sender(), null)).getMessage());
        assertEquals(0, channel.stats().sent());
    }

    /* ---- sendAll ---- */

    @Test
    void sendAll_pumpsEverythingRequestingOneAtATime() throws Exception {
        Channel<Integer> channel = Channel.bounded(4);
        List<Long> requests = new CopyOnWriteArrayList<>();
        AtomicLong outstanding = new AtomicLong();
        AtomicLong maxOutstanding = new AtomicLong();
        Flux<Integer> upstream = Flux.range(0, 5_000)
                .doOnRequest(n -> {
                    requests.add(n);
                    maxOutstanding.accumulateAndGet(outstanding.addAndGet(n), Math::max);
                })
                .doOnNext(i -> outstanding.decrementAndGet());
        List<Integer> got = new CopyOnWriteArrayList<>();
        Thread consumer = new Thread(() -> {
            try {
                for (int i = 0; i < 5_000; i++) {
                    got.add(channel.receive());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        consumer.start();
        StepVerifier.create(ReactorChannels.sendAll(channel.sender(), upstream))
                .expectNext(5_000L)
                .verifyComplete();
        consumer.join(10_000);
        assertEquals(IntStream.range(0, 5_000).boxed().collect(Collectors.toList()), got);
        assertTrue(requests.stream().allMatch(n -> n == 1L), "one at a time");
        assertEquals(1L, maxOutstanding.get(), "never more than one item requested and not yet accepted");
        assertFalse(channel.isClosedForSend(), "sendAll does not close the channel");
    }

    @Test
    void sendAll_fullChannel_requestsNothingMoreUntilASlotFrees() {
        Channel<Integer> channel = Channel.bounded(2);
        TestPublisher<Integer> upstream = TestPublisher.create();
        StepVerifier.create(ReactorChannels.sendAll(channel.sender(), upstream))
                .expectSubscription()
                .then(() -> upstream.assertMinRequested(1).assertMaxRequested(1).next(1))
                .then(() -> upstream.assertMaxRequested(1).next(2))
                .then(() -> upstream.assertMaxRequested(1).next(3)) // the channel is full: 3 waits in the FIFO
                .then(() -> {
                    upstream.assertMaxRequested(0);
                    assertEquals(1, channel.stats().waitingSenders());
                })
                .then(() -> assertEquals(1, channel.tryReceive()))
                .then(() -> upstream.assertMaxRequested(1).complete())
                .expectNext(3L)
                .verifyComplete();
        assertEquals(2, channel.tryReceive());
        assertEquals(3, channel.tryReceive());
    }

    @Test
    void sendAll_completeWhileItemWaits_countsItAfterAcceptance() {
        Channel<Integer> channel = Channel.bounded(2);
        channel.trySend(-1);
        channel.trySend(0);
        TestPublisher<Integer> upstream = TestPublisher.create();
        StepVerifier.create(ReactorChannels.sendAll(channel.sender(), upstream))
                .expectSubscription()
                .then(() -> upstream.next(1).complete())
                .then(() -> assertEquals(1, channel.stats().waitingSenders(), "1 waits; no result yet"))
                .then(() -> assertEquals(-1, channel.tryReceive()))
                .expectNext(1L)
                .verifyComplete();
        assertEquals(0, channel.tryReceive());
        assertEquals(1, channel.tryReceive());
    }

    @Test
    void sendAll_channelClosed_failsAndCancelsUpstream() {
        Channel<Integer> channel = Channel.bounded(2);
        TestPublisher<Integer> upstream = TestPublisher.create();
        List<Object> discarded = new CopyOnWriteArrayList<>();
        StepVerifier.create(ReactorChannels.sendAll(channel.sender(), upstream)
                        .doOnDiscard(Integer.class, discarded::add))
                .expectSubscription()
                .then(() -> upstream.next(1))
                .then(channel::close)
                .then(() -> upstream.next(2))
                .expectError(ChannelClosedException.class)
                .verify(Duration.ofSeconds(5));
        upstream.assertCancelled();
        assertEquals(List.of(2), discarded);
        assertEquals(1, channel.tryReceive());
    }

    @Test
    void sendAll_cancel_cancelsUpstreamAndWithdrawsTheWaitingItem() {
        Channel<Integer> channel = Channel.bounded(2);
        channel.trySend(-1);
        channel.trySend(0);
        TestPublisher<Integer> upstream = TestPublisher.create();
        List<Object> discarded = new CopyOnWriteArrayList<>();
        StepVerifier.create(ReactorChannels.sendAll(channel.sender(), upstream)
                        .doOnDiscard(Integer.class, discarded::add))
                .expectSubscription()
                .then(() -> upstream.next(1))
                .then(() -> assertEquals(1, channel.stats().waitingSenders()))
                .thenCancel()
                .verify();
        upstream.assertCancelled();
        assertEquals(List.of(1), discarded);
        assertEquals(0, channel.stats().waitingSenders());
        assertEquals(-1, channel.tryReceive());
        assertEquals(0, channel.tryReceive());
        assertNull(channel.tryReceive());
    }

    @Test
    void sendAll_upstreamError_failsWithIt() {
        Channel<Integer> channel = Channel.bounded(4);
        IllegalStateException boom = new IllegalStateException("boom");
        StepVerifier.create(ReactorChannels.sendAll(channel.sender(), Flux.just(1, 2).concatWith(Mono.error(boom))))
                .expectErrorSatisfies(e -> assertSame(boom, e))
                .verify(Duration.ofSeconds(5));
        assertEquals(2, channel.stats().size(), "accepted items stay");
        assertFalse(channel.isClosedForSend());
    }

    @Test
    void sendAll_concurrentWithBlockingSenders_everythingArrivesOnce() throws Exception {
        Channel<Integer> channel = Channel.bounded(3);
        AtomicInteger blockingSent = new AtomicInteger();
        Thread blocking = new Thread(() -> {
            try {
                for (int i = 0; i < 3_000; i++) {
                    channel.send(-1 - i);
                    blockingSent.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        blocking.start();
        var count = ReactorChannels.sendAll(channel.sender(), Flux.range(0, 3_000))
                .subscribeOn(Schedulers.boundedElastic()).toFuture();
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < 6_000; i++) {
            got.add(channel.receive());
        }
        blocking.join(10_000);
        assertEquals(3_000L, count.get());
        Collections.sort(got);
        List<Integer> expected = IntStream.range(-3_000, 3_000).boxed().collect(Collectors.toList());
        assertEquals(expected, got);
    }

    @Test
    void sendAll_badArguments_throwNpeNamingThem() {
        Channel<String> channel = Channel.bounded(1);
        assertEquals("sender", assertThrows(NullPointerException.class,
                () -> ReactorChannels.sendAll(null, Flux.just("x"))).getMessage());
        assertEquals("publisher", assertThrows(NullPointerException.class,
                () -> ReactorChannels.sendAll(channel.sender(), null)).getMessage());
        assertInstanceOf(Mono.class, ReactorChannels.sendAll(channel.sender(), Flux.empty()));
    }
}
