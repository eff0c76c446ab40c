package dev.sluice.reliability.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelState;
import dev.sluice.SendResult;
import dev.sluice.UndeliveredReason;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Fault injection: user callbacks that throw and upstream Publishers that break the protocol. Whatever goes wrong,
 * the channel keeps its invariants (every accepted item delivered or undelivered exactly once, counters consistent),
 * later items still reach a consumer, and the terminal signal still arrives where the contract says (contract 7).
 */
@Timeout(30)
class FaultInjectionTest {

    private static final int ITEMS = 2_000;

    /* ---- onNext throws ---- */

    @Test
    void onNext_throws_itemCountsAsDeliveredSubscriptionEndsAndNextSubscriberGetsTheRestAndCompletion() {
        Channel<Integer> channel = Channel.bounded(8);
        for (int i = 0; i < 8; i++) {
            assertEquals(SendResult.OK, channel.trySend(i));
        }
        Recorder broken = new Recorder(Long.MAX_VALUE, 3);
        channel.asPublisher().subscribe(broken);

        assertEquals(List.of(0, 1, 2, 3), broken.items(), "items passed to onNext, the throwing one included");
        assertEquals(1, channel.stats().callbackFailures());
        assertEquals(0, channel.stats().subscribers(), "the broken subscriber must be dropped (rule 2.13)");
        assertEquals(4, channel.stats().received());
        assertEquals(4, channel.stats().size(), "items after the throw stay in the channel");

        channel.close();
        Recorder next = new Recorder(Long.MAX_VALUE, -1);
        channel.asPublisher().subscribe(next);

        assertEquals(List.of(4, 5, 6, 7), next.items());
        assertEquals(1, next.completions.get(), "the next subscriber completes");
        assertEquals(0, broken.completions.get() + broken.errors.get(), "no signal to the dropped subscriber");
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertTrue(channel.termination().toCompletableFuture().isDone());
    }

    @Test
    void onNext_throwsWhileSendersAndAReceiverRace_noItemLostOrDuplicatedAndChannelCompletes() throws Exception {
        Channel<Integer> channel = Channel.bounded(4);
        Recorder broken = new Recorder(Long.MAX_VALUE, 100);
        channel.asPublisher().subscribe(broken);
        Queue<Integer> received = new ConcurrentLinkedQueue<>();
        CompletableFuture<Void> receiver = CompletableFuture.runAsync(() -> {
            try {
                for (;;) {
                    received.add(channel.receive());
                }
            } catch (ChannelClosedException end) {
                // the end of the channel
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        for (int i = 0; i < ITEMS; i++) {
            channel.send(i);
        }
        channel.close();
        receiver.get(20, TimeUnit.SECONDS);

        List<Integer> all = new ArrayList<>(broken.items());
        all.addAll(received);
        Collections.sort(all);
        assertEquals(range(ITEMS), all, "each item delivered exactly once, to one of the two consumers");
        assertEquals(1, channel.stats().callbackFailures());
        assertEquals(ChannelState.COMPLETED, channel.state());
        assertEquals(0, channel.stats().subscribers());
    }

    @Test
    void onNext_throwsForEverySubscriberInTurn_drainLoopNeverStuck() {
        Channel<Integer> channel = Channel.bounded(64);
        for (int i = 0; i < 64; i++) {
            channel.trySend(i);
        }
        List<Integer> all = new ArrayList<>();
        for (int s = 0; s < 64; s++) {
            Recorder broken = new Recorder(Long.MAX_VALUE, 0); // throws on its first item
            channel.asPublisher().subscribe(broken);
            all.addAll(broken.items());
        }
        assertEquals(range(64), all, "every subscriber got exactly the next item, then was dropped");
        assertEquals(64, channel.stats().callbackFailures());
        channel.close();
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    /* ---- onUndelivered throws ---- */

    @Test
    void onUndelivered_throwsOnEveryOtherItem_cancelStillHandsEachItemOnceAndEndsEverything() throws Exception {
        Queue<Integer> handled = new ConcurrentLinkedQueue<>();
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(8)
                .onUndelivered((item, reason) -> {
                    handled.add(item);
                    if (item % 2 == 0) {
                        throw new IllegalStateException("injected handler failure for " + item);
                    }
                })
                .build();
        for (int i = 0; i < 8; i++) {
            channel.trySend(i);
        }
        CompletableFuture<Void> pending = channel.sendAsync(8);

        channel.cancel();

        List<Integer> sorted = new ArrayList<>(handled);
        Collections.sort(sorted);
        assertEquals(range(8), sorted, "every buffered item handed over once, even after the handler threw");
        assertEquals(4, channel.stats().callbackFailures());
        assertEquals(8, channel.stats().undelivered());
        assertEquals(ChannelState.CANCELLED, channel.state());
        ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(5, TimeUnit.SECONDS));
        assertInstanceOf(ChannelClosedException.class, e.getCause(), "the pending send is refused, not lost");
        assertEquals(SendResult.CLOSED, channel.trySend(9));
        assertThrows(ChannelClosedException.class, channel::receive);
        assertEquals(ChannelState.CANCELLED, channel.termination().toCompletableFuture().get(5, TimeUnit.SECONDS));
    }

    @Test
    void onUndelivered_throwsForRejectedUpstreamItem_channelUnaffected() {
        AtomicInteger calls = new AtomicInteger();
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(4)
                .onUndelivered((item, reason) -> {
                    calls.incrementAndGet();
                    throw new IllegalStateException("injected");
                })
                .build();
        FakeUpstream upstream = new FakeUpstream();
        Subscriber<Integer> sink = channel.asSubscriber();
        sink.onSubscribe(upstream);
        sink.onNext(1);
        sink.onComplete();
        sink.onNext(2); // after complete: rejected, handler throws

        assertEquals(1, calls.get());
        assertEquals(1, channel.stats().callbackFailures());
        assertEquals(1, channel.tryReceive());
        assertEquals(ChannelState.COMPLETED, channel.state());
    }

    /* ---- upstream violates the protocol ---- */

    @Test
    void upstream_sendsMoreThanRequested_channelFailsExcessIsRejectedAndAcceptedItemsStillDrain() {
        Queue<String> released = new ConcurrentLinkedQueue<>();
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(4)
                .onUndelivered((item, reason) -> released.add(item + ":" + reason))
                .build();
        FakeUpstream upstream = new FakeUpstream();
        Subscriber<Integer> sink = channel.asSubscriber();
        sink.onSubscribe(upstream);
        long requested = upstream.requested.get();
        assertTrue(requested >= 1 && requested <= 4, "requests within capacity, was " + requested);

        int emitted = (int) requested + 3;
        for (int i = 0; i < emitted; i++) {
            sink.onNext(i); // the first `requested` are fine, the rest break rule 1.1
        }

        assertTrue(upstream.cancelled, "the misbehaving upstream is cancelled");
        List<Integer> drained = new ArrayList<>();
        channel.drainTo(drained, Integer.MAX_VALUE);
        assertEquals(range((int) requested), drained, "items within demand were accepted and still drain");
        List<String> expectedReleased = new ArrayList<>();
        for (int i = (int) requested; i < emitted; i++) {
            expectedReleased.add(i + ":" + UndeliveredReason.REJECTED);
        }
        assertEquals(expectedReleased, new ArrayList<>(released), "excess items handed over once, as REJECTED");
        assertEquals(ChannelState.FAILED, channel.state());
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertInstanceOf(IllegalStateException.class, end.getCause(), "receivers see why the channel failed");
    }

    @Test
    void upstream_sendsAfterComplete_itemRejectedAndChannelStaysCompleted() throws Exception {
        Queue<String> released = new ConcurrentLinkedQueue<>();
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(4)
                .onUndelivered((item, reason) -> released.add(item + ":" + reason))
                .build();
        FakeUpstream upstream = new FakeUpstream();
        Subscriber<Integer> sink = channel.asSubscriber();
        sink.onSubscribe(upstream);
        sink.onNext(1);
        sink.onComplete();
        sink.onNext(2);
        sink.onError(new IllegalStateException("error after complete"));

        assertEquals(List.of("2:" + UndeliveredReason.REJECTED), new ArrayList<>(released));
        assertEquals(ChannelState.DRAINING, channel.state());
        assertEquals(1, channel.receive());
        assertEquals(ChannelState.COMPLETED, channel.state(), "the late onError must not turn completion into failure");
        ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
        assertEquals(null, end.getCause());
        assertEquals(ChannelState.COMPLETED, channel.termination().toCompletableFuture().get(5, TimeUnit.SECONDS));
    }

    @Test
    void upstream_emitsFromManyThreadsBeyondDemand_everyItemDeliveredOrRejectedExactlyOnce() throws Exception {
        Queue<Integer> released = new ConcurrentLinkedQueue<>();
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(8)
                .onUndelivered((item, reason) -> released.add(item))
                .build();
        FakeUpstream upstream = new FakeUpstream();
        Subscriber<Integer> sink = channel.asSubscriber();
        sink.onSubscribe(upstream);
        Queue<Integer> received = new ConcurrentLinkedQueue<>();
        CompletableFuture<Void> receiver = CompletableFuture.runAsync(() -> {
            try {
                for (;;) {
                    received.add(channel.receive());
                }
            } catch (ChannelClosedException end) {
                // failed by the violation
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        // A serial but demand-ignoring upstream: emits everything as fast as it can.
        for (int i = 0; i < ITEMS; i++) {
            sink.onNext(i);
        }
        receiver.get(20, TimeUnit.SECONDS);

        List<Integer> all = new ArrayList<>(received);
        all.addAll(released);
        Collections.sort(all);
        assertEquals(range(ITEMS), all, "each emitted item delivered or rejected exactly once");
        assertEquals(ChannelState.FAILED, channel.state());
        assertTrue(upstream.cancelled);
    }

    /* ---- helpers ---- */

    static List<Integer> range(int n) {
        List<Integer> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(i);
        }
        return list;
    }

    /** A subscription handed to {@code asSubscriber()} by a hand-driven upstream. */
    static final class FakeUpstream implements Subscription {
        final AtomicLong requested = new AtomicLong();
        volatile boolean cancelled;

        @Override
        public void request(long n) {
            requested.addAndGet(n);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /** A subscriber that records items and signals, and throws from onNext at a given index. */
    static final class Recorder implements Subscriber<Integer> {
        private final long initialRequest;
        private final int throwAt;
        private final Queue<Integer> items = new ConcurrentLinkedQueue<>();
        private final AtomicInteger seen = new AtomicInteger();
        final AtomicInteger completions = new AtomicInteger();
        final AtomicInteger errors = new AtomicInteger();
        final AtomicReference<Subscription> subscription = new AtomicReference<>();

        Recorder(long initialRequest, int throwAt) {
            this.initialRequest = initialRequest;
            this.throwAt = throwAt;
        }

        @Override
        public void onSubscribe(Subscription s) {
            subscription.set(s);
            s.request(initialRequest);
        }

        @Override
        public void onNext(Integer item) {
            items.add(item);
            if (seen.getAndIncrement() == throwAt) {
                throw new IllegalStateException("injected onNext failure at " + item);
            }
        }

        @Override
        public void onError(Throwable t) {
            errors.incrementAndGet();
        }

        @Override
        public void onComplete() {
            completions.incrementAndGet();
        }

        List<Integer> items() {
            return new ArrayList<>(items);
        }
    }
}
