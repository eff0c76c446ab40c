package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelSender;
import dev.sluice.ChannelState;

/**
 * RSocket session resumption: a connection cut under a live stream is resumed, and nothing is lost, duplicated or
 * redelivered; when the session cannot be resumed, the redelivery ledger takes over.
 */
class ResumptionTest {

    private static final String TOKEN = SluiceServer.newToken();
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ExecutorService pool = Executors.newSingleThreadExecutor();

    @AfterEach
    void closeAll() throws Exception {
        pool.shutdownNow();
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <C extends AutoCloseable> C closeLater(C closeable) {
        closeables.add(closeable);
        return closeable;
    }

    /** Sends "0" .. "n-1" into the channel from the pool, then closes it. */
    private Future<?> produce(Channel<String> channel, int n) {
        return pool.submit(() -> {
            for (int i = 0; i < n; i++) {
                channel.send(Integer.toString(i));
            }
            channel.close();
            return null;
        });
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void receiver_connectionCutThreeTimesMidStream_resumesWithNothingLostDuplicatedOrRedelivered() throws Exception {
        int n = 20_000;
        Channel<String> jobs = Channel.bounded(64);
        SluiceServer server = closeLater(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()).token(TOKEN)
                .bind(0));
        Frames frames = new Frames();
        SluiceClient client = closeLater(SluiceClient.connect("127.0.0.1", server.port(),
                ClientOptions.token(TOKEN).withAckBatch(16).withInterceptors(frames::register)));
        ChannelReceiver<Delivery<String>> in = client.receiver("jobs", Codec.utf8(), 32);
        Future<?> producing = produce(jobs, n);

        List<Delivery<String>> got = new ArrayList<>(n);
        try {
            for (;;) {
                got.add(in.receive());
                if (got.size() % (n / 4) == 0 && got.size() < n) {
                    frames.cut(); // the TCP connection drops under the client mid-stream
                }
            }
        } catch (ChannelClosedException end) {
            assertEquals(null, end.getCause(), "the stream completes normally after " + got.size() + " items");
        }
        producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        assertEquals(4, frames.connections.get(), "one connection and three resumed ones");
        assertEquals(n, got.size(), "delivered");
        for (int i = 0; i < n; i++) {
            assertEquals(Integer.toString(i), got.get(i).item(), "FIFO position " + i);
            assertFalse(got.get(i).redelivered(), "a resumed session redelivers nothing (position " + i + ")");
        }
        assertEquals(n, jobs.stats().received(), "server channel gave out each item once");
        assertFalse(client.isClosed(), "the client survived the cuts");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sender_connectionCutMidStream_resumesAndTheServerAcceptsEachItemOnceInOrder() throws Exception {
        int n = 20_000;
        Channel<String> jobs = Channel.bounded(64);
        SluiceServer server = closeLater(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()).token(TOKEN)
                .bind(0));
        Frames frames = new Frames();
        SluiceClient client = closeLater(SluiceClient.connect("127.0.0.1", server.port(),
                ClientOptions.token(TOKEN).withInterceptors(frames::register)));
        List<String> unconfirmed = java.util.Collections.synchronizedList(new ArrayList<>());
        ChannelSender<String> out = client.sender("jobs", Codec.utf8(), 64, (item, reason) -> unconfirmed.add(item));
        Future<?> producing = pool.submit(() -> {
            for (int i = 0; i < n; i++) {
                out.send(Integer.toString(i));
            }
            out.close();
            return null;
        });

        for (int i = 0; i < n; i++) {
            assertEquals(Integer.toString(i), jobs.receive(WAIT), "FIFO position " + i);
            if (i == n / 3 || i == 2 * n / 3) {
                frames.cut();
            }
        }
        producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(3, frames.connections.get(), "one connection and two resumed ones");
        assertEquals(List.of(), unconfirmed, "items the server did not confirm");
        assertEquals(n, jobs.stats().sent(), "accepted once each");
        assertEquals(0, jobs.stats().size(), "nothing extra");
        assertEquals(ChannelState.OPEN, jobs.state(), "a remote producer does not close the channel");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sessionExpires_clientGone_unacknowledgedItemsRedeliveredToTheNextConsumer() throws Exception {
        int n = 5_000;
        Channel<String> jobs = Channel.bounded(64);
        SluiceServer server = closeLater(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()).token(TOKEN)
                .resumeSession(Duration.ofMillis(300)).bind(0));
        Frames frames = new Frames();
        SluiceClient first = closeLater(SluiceClient.connect("127.0.0.1", server.port(),
                ClientOptions.token(TOKEN).withAckBatch(16).withResumeSession(Duration.ofSeconds(1))
                        .withInterceptors(frames::register)));
        ChannelReceiver<Delivery<String>> in1 = first.receiver("jobs", Codec.utf8(), 32);
        Future<?> producing = produce(jobs, n);

        List<Delivery<String>> got1 = new ArrayList<>();
        while (got1.size() < n / 4) {
            got1.add(in1.receive());
        }
        frames.refuseReconnect = true; // the client's host is gone: it cannot come back
        frames.cut();
        ChannelClosedException broken = assertThrows(ChannelClosedException.class, () -> {
            for (;;) {
                got1.add(in1.receive()); // what is already local is still delivered, then the failure
            }
        });
        assertInstanceOf(RemoteChannelException.class, broken.getCause(), "session could not be resumed");

        SluiceClient second = closeLater(SluiceClient.connect("127.0.0.1", server.port(), ClientOptions.token(TOKEN)));
        List<Delivery<String>> got2 = new ArrayList<>();
        ChannelReceiver<Delivery<String>> in2 = second.receiver("jobs", Codec.utf8(), 32);
        try {
            for (;;) {
                got2.add(in2.receive());
            }
        } catch (ChannelClosedException end) {
            assertEquals(null, end.getCause(), "second consumer completes");
        }
        producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        Map<String, Integer> count = new HashMap<>();
        long redelivered = 0;
        for (List<Delivery<String>> got : List.of(got1, got2)) {
            for (Delivery<String> d : got) {
                count.merge(d.item(), 1, Integer::sum);
                redelivered += d.redelivered() ? 1 : 0;
            }
        }
        for (int i = 0; i < n; i++) {
            assertTrue(count.containsKey(Integer.toString(i)), "item " + i + " was lost");
        }
        long duplicates = got1.size() + got2.size() - n;
        assertTrue(duplicates <= redelivered, duplicates + " duplicates but only " + redelivered + " flagged");
        assertEquals(1, frames.connections.get(), "no reconnection got through");
        System.out.printf("expired session: first consumer got %d, second %d, redelivered %d, duplicates %d%n",
                got1.size(), got2.size(), redelivered, duplicates);
    }
}
