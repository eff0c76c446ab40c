package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;

/**
 * The server side of a remote producer, without a network: the last pending send being accepted races the client's
 * completion. The final accepted count must include every item the channel accepted (it was one short when
 * {@code pending.remove} ran outside the lock, before the count was incremented).
 */
class ProducerSessionRaceTest {

    private static final int ROUNDS = 5_000;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void lastAcceptanceRacesInboundComplete_finalCountIncludesEveryAcceptedItem() throws Exception {
        int wrong = 0;
        List<String> examples = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Channel<String> channel = Channel.bounded(1);
            channel.trySend("filler"); // full: the item below waits in sendAsync
            Exposure<String> exposure = new Exposure<>("c", channel, Codec.utf8(),
                    SluiceServer.Direction.SEND_AND_RECEIVE, 1);
            SluiceServer.Served served = new SluiceServer.Served(Map.of("c", exposure), 4, 1 << 16, 8, 1 << 20,
                    false, () -> { }, new SetupGuard(new byte[0]));
            ServerHandler handler = new ServerHandler(served, null);
            ProducerSession<String> session = new ProducerSession<>(served.exposures, handler, 4);

            FakeInbound inbound = new FakeInbound();
            List<Long> counts = new ArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            session.start(inbound).subscribe(p -> {
                counts.add(p.getData().getLong(0));
                p.release();
            }, done::completeExceptionally, () -> done.complete(null));
            session.onNext(Wire.openSend("c"));
            session.onNext(DefaultPayload.create("x"));

            CyclicBarrier start = new CyclicBarrier(2);
            Thread taker = new Thread(() -> {
                await(start);
                try {
                    channel.receive(); // frees the slot: "x" is accepted, its completion runs on this thread
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            taker.start();
            await(start);
            session.onComplete();
            taker.join();
            done.get(10, TimeUnit.SECONDS);

            long last = counts.isEmpty() ? 0 : counts.get(counts.size() - 1);
            assertEquals(1, channel.stats().size(), "round " + round + ": the item is in the channel");
            if (last != 1) {
                wrong++;
                if (examples.size() < 5) {
                    examples.add("round " + round + ": counts " + counts);
                }
            }
            assertEquals(0, handler.inbound.used(), "round " + round + ": every byte given back");
        }
        assertEquals(0, wrong, "final accepted count short in " + wrong + " of " + ROUNDS + " rounds: " + examples);
        assertTrue(ROUNDS > 0);
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("barrier", e);
        }
    }

    /** The client's side of the request channel, driven by the test; records what the session requests. */
    private static final class FakeInbound implements Publisher<Payload>, Subscription {
        long requested;

        @Override
        public void subscribe(Subscriber<? super Payload> s) {
            s.onSubscribe(this);
        }

        @Override
        public void request(long n) {
            requested += n;
        }

        @Override
        public void cancel() {
        }
    }

    static long longOf(Payload p) {
        ByteBuffer data = p.getData();
        return data.getLong(data.position());
    }
}
