package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelSender;
import dev.sluice.ChannelState;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.Flux;

/** Remote channels over loopback RSocket connections (127.0.0.1 only). */
class RemoteChannelTest {

    private static final String TOKEN = SluiceServer.newToken();
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private SluiceServer serve(SluiceServer.Builder builder) {
        SluiceServer server = builder.token(TOKEN).bind("127.0.0.1", 0);
        closeables.add(server);
        return server;
    }

    private SluiceClient connect(SluiceServer server, ClientOptions options) {
        SluiceClient client = SluiceClient.connect("127.0.0.1", server.port(), options);
        closeables.add(client);
        return client;
    }

    private SluiceClient connect(SluiceServer server) {
        return connect(server, ClientOptions.token(TOKEN));
    }

    /** Receives until the end; returns the deliveries in order. */
    private static List<Delivery<String>> drain(ChannelReceiver<Delivery<String>> in) throws InterruptedException {
        List<Delivery<String>> got = new ArrayList<>();
        try {
            for (;;) {
                got.add(in.receive());
            }
        } catch (ChannelClosedException end) {
            if (end.getCause() != null) {
                throw new AssertionError("remote stream failed after " + got.size() + " items", end);
            }
        }
        return got;
    }

    /* ---- round trip ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void senderAndReceiver_100kItemsOverTwoConnections_allArriveOnceInOrder() throws Exception {
        int n = 100_000;
        Channel<String> jobs = Channel.bounded(256);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        SluiceClient producerSide = connect(server);
        SluiceClient consumerSide = connect(server);

        ChannelReceiver<Delivery<String>> in = consumerSide.receiver("jobs", Codec.utf8(), 128);
        ChannelSender<String> out = producerSide.sender("jobs", Codec.utf8());
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> producing = pool.submit(() -> {
                for (int i = 0; i < n; i++) {
                    out.send(Integer.toString(i));
                }
                out.close();
                return null;
            });
            List<Delivery<String>> got = new ArrayList<>(n);
            while (got.size() < n) {
                got.add(in.receive());
            }
            producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            jobs.close(); // the server's owner ends the channel; the remote receiver then completes
            got.addAll(drain(in));

            assertEquals(n, got.size(), "delivered");
            for (int i = 0; i < n; i++) {
                assertEquals(Integer.toString(i), got.get(i).item(), "FIFO position " + i);
                assertTrue(!got.get(i).redelivered(), "nothing redelivered without a broken connection");
            }
            assertEquals(n, jobs.stats().sent(), "server channel accepted");
            assertEquals(n, jobs.stats().received(), "server channel gave out");
            assertEquals(ChannelState.COMPLETED, jobs.state());
        } finally {
            pool.shutdownNow();
        }
    }

    /* ---- demand ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void receiver_slowLocalConsumer_remoteDemandNeverExceedsLocalCapacity() throws Exception {
        int capacity = 8;
        Channel<String> jobs = Channel.bounded(1000);
        for (int i = 0; i < 1000; i++) {
            assertEquals(dev.sluice.SendResult.OK, jobs.trySend("j" + i));
        }
        jobs.close();
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        Frames frames = new Frames();
        SluiceClient client = connect(server, ClientOptions.token(TOKEN).withInterceptors(frames::register));

        ChannelReceiver<Delivery<String>> in = client.receiver("jobs", Codec.utf8(), capacity);
        Await.until(() -> in.stats().size() == capacity, WAIT, () -> "local buffer full: " + in.stats());
        // nobody consumes locally: the server has given out exactly the local capacity and no more
        assertEquals(capacity, frames.requested.get(), "REQUEST_N total while the local consumer sleeps");
        assertEquals(capacity, jobs.stats().received(), "items taken out of the server channel");
        assertEquals(1000 - capacity, jobs.stats().size(), "items still in the server channel");

        int consumed = 0;
        long maxOutstanding = 0;
        try {
            for (;;) {
                Delivery<String> d = in.receive();
                assertEquals("j" + consumed, d.item());
                consumed++;
                long outstanding = frames.requested.get() - consumed;
                maxOutstanding = Math.max(maxOutstanding, outstanding);
                assertTrue(outstanding <= capacity, "requested " + frames.requested.get() + " after consuming "
                        + consumed + ": more than " + capacity + " outstanding");
            }
        } catch (ChannelClosedException end) {
            assertEquals(null, end.getCause());
        }
        assertEquals(1000, consumed);
        assertTrue(maxOutstanding <= capacity, "max outstanding " + maxOutstanding);
    }

    /* ---- broken connection ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void receiver_connectionCutMidStream_everyItemConsumedAtLeastOnceAndDuplicatesFlagged() throws Exception {
        int n = 20_000;
        Channel<String> jobs = Channel.bounded(64);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> producing = pool.submit(() -> {
                for (int i = 0; i < n; i++) {
                    jobs.send(Integer.toString(i));
                }
                jobs.close();
                return null;
            });

            Frames frames = new Frames();
            SluiceClient first = connect(server,
                    ClientOptions.token(TOKEN).withAckBatch(16).withResumeSession(Duration.ZERO) // no resumption
                            .withInterceptors(frames::register));
            ChannelReceiver<Delivery<String>> in1 = first.receiver("jobs", Codec.utf8(), 32);
            List<Delivery<String>> got1 = new ArrayList<>();
            while (got1.size() < n / 4) {
                got1.add(in1.receive());
            }
            frames.cut(); // the TCP connection drops under the client mid-stream
            Throwable cause = null;
            try {
                for (;;) {
                    got1.add(in1.receive()); // what is already local is still delivered, then the failure
                }
            } catch (ChannelClosedException broken) {
                cause = broken.getCause();
            }
            assertInstanceOf(RemoteChannelException.class, cause, "the first receiver ends with the broken link");

            SluiceClient second = connect(server);
            List<Delivery<String>> got2 = drain(second.receiver("jobs", Codec.utf8(), 32));
            producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);

            Map<String, AtomicInteger> fresh = new ConcurrentHashMap<>();
            Map<String, AtomicInteger> all = new ConcurrentHashMap<>();
            long redelivered = 0;
            for (List<Delivery<String>> got : List.of(got1, got2)) {
                int lastFresh = -1;
                for (Delivery<String> d : got) {
                    all.computeIfAbsent(d.item(), k -> new AtomicInteger()).incrementAndGet();
                    if (d.redelivered()) {
                        redelivered++;
                    } else {
                        fresh.computeIfAbsent(d.item(), k -> new AtomicInteger()).incrementAndGet();
                        int value = Integer.parseInt(d.item());
                        assertTrue(value > lastFresh, "fresh items in channel order per consumer: " + value
                                + " after " + lastFresh);
                        lastFresh = value;
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                String item = Integer.toString(i);
                assertTrue(all.containsKey(item), "item " + i + " was lost");
                AtomicInteger f = fresh.get(item);
                assertTrue(f == null || f.get() == 1, "item " + i + " delivered unflagged twice");
            }
            long duplicates = got1.size() + got2.size() - n;
            assertTrue(duplicates <= redelivered, duplicates + " duplicates but only " + redelivered + " flagged");
            System.out.printf("cut after %d items: first consumer got %d, second %d, redelivered %d, "
                    + "duplicates %d%n", n / 4, got1.size(), got2.size(), redelivered, duplicates);
        } finally {
            pool.shutdownNow();
        }
    }

    /* ---- security ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void connect_wrongOrMissingToken_rejectedBeforeAnyChannelIsTouched() {
        Channel<String> jobs = Channel.bounded(4);
        jobs.trySend("secret job");
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));

        RemoteChannelException wrong = assertThrows(RemoteChannelException.class,
                () -> connect(server, ClientOptions.token("guess")));
        assertTrue(wrong.getMessage().contains("invalid token"), wrong.getMessage());
        RemoteChannelException missing = assertThrows(RemoteChannelException.class,
                () -> connect(server, ClientOptions.token("")));
        assertTrue(missing.getMessage().contains("missing token"), missing.getMessage());
        // without resumption the server answers SETUP with REJECTED_SETUP; with it (the default), it refuses the HELLO
        RemoteChannelException plain = assertThrows(RemoteChannelException.class,
                () -> connect(server, ClientOptions.token("guess").withResumeSession(Duration.ZERO)));
        assertInstanceOf(io.rsocket.exceptions.RejectedSetupException.class, plain.getCause());
        assertTrue(plain.getMessage().contains("invalid token"), plain.getMessage());

        assertEquals(1, jobs.stats().size());
        assertEquals(0, jobs.stats().received());
        assertEquals(ChannelState.OPEN, jobs.state());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void bind_withoutToken_generatesOneThatClientsMustPresent() throws Exception {
        SluiceServer server = SluiceServer.builder().channel("jobs", Channel.<String>bounded(4), Codec.utf8())
                .bind(0);
        closeables.add(server);
        assertTrue(server.token().length() >= 20, "generated token " + server.token().length() + " chars");
        assertThrows(RemoteChannelException.class, () -> connect(server, ClientOptions.token("")));
        SluiceClient client = connect(server, ClientOptions.token(server.token()));
        assertTrue(!client.isClosed());
    }

    /* ---- bad input ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void receiver_unknownChannel_endsWithClearErrorAndOthersUnaffected() throws Exception {
        Channel<String> jobs = Channel.bounded(4);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        SluiceClient client = connect(server);

        ChannelClosedException e = assertThrows(ChannelClosedException.class,
                () -> client.receiver("nope", Codec.utf8(), 4).receive());
        assertInstanceOf(RemoteChannelException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("unknown channel 'nope'"), e.getCause().getMessage());

        CountDownLatch unconfirmed = new CountDownLatch(1);
        ChannelSender<String> bad = client.sender("nope", Codec.utf8(), 4, (item, reason) -> unconfirmed.countDown());
        try {
            bad.send("x"); // accepted locally if it wins the race with the server's refusal of the stream ...
            assertTrue(unconfirmed.await(WAIT.toSeconds(), TimeUnit.SECONDS), "unconfirmed item reported");
        } catch (ChannelClosedException refusedFirst) { // ... else refused with the server's reason
            assertInstanceOf(RemoteChannelException.class, refusedFirst.getCause());
            assertTrue(refusedFirst.getCause().getMessage().contains("unknown channel 'nope'"));
        }
        ChannelClosedException refused = assertThrows(ChannelClosedException.class, () -> bad.send("y"));
        assertInstanceOf(RemoteChannelException.class, refused.getCause());

        // the same connection still works for a known channel
        client.sender("jobs", Codec.utf8()).send("ok");
        Await.until(() -> jobs.stats().size() == 1, WAIT, () -> "item arrives: " + jobs.stats());
        assertEquals("ok", jobs.receive());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void send_undecodablePayload_endsThatStreamOnlyAndChannelUnaffected() throws Exception {
        record Job(String id, byte[] body) {
        }
        Codec<Job> codec = Codec.record(j -> List.of(j.id().getBytes(StandardCharsets.UTF_8), j.body()),
                f -> new Job(new String(f.get(0), StandardCharsets.UTF_8), f.get(1)));
        Channel<Job> jobs = Channel.bounded(16);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, codec));

        // a raw RSocket peer with the right token sends garbage where a record is expected
        RSocket raw = RSocketConnector.create()
                .setupPayload(DefaultPayload.create(TOKEN))
                .connect(TcpClientTransport.create("127.0.0.1", server.port()))
                .block(WAIT);
        closeables.add(raw::dispose);
        Flux<Payload> garbage = Flux.just(Wire.openSend("jobs"), DefaultPayload.create(new byte[] {1, 2, 3}));
        Throwable error = assertThrows(RuntimeException.class, () -> raw.requestChannel(garbage).blockLast(WAIT));
        assertTrue(error.getMessage().contains("cannot be decoded"), error.getMessage());
        assertTrue(error.getMessage().contains("record too short"), error.getMessage());

        assertEquals(ChannelState.OPEN, jobs.state());
        assertEquals(0, jobs.stats().sent());

        // a well-behaved client is unaffected
        SluiceClient client = connect(server);
        ChannelSender<Job> out = client.sender("jobs", codec);
        out.send(new Job("a", new byte[] {42}));
        Job job = jobs.receive(WAIT);
        assertEquals("a", job.id());
        assertEquals(42, job.body()[0]);
    }

    /* ---- load ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void eightRemoteProducersAndConsumers_forTwoSeconds_noLossNoDuplicates() throws Exception {
        int producers = 8;
        int consumers = 8;
        long runNanos = TimeUnit.SECONDS.toNanos(2);
        int maxPerProducer = 200_000;
        Channel<String> jobs = Channel.bounded(128);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));

        ExecutorService pool = Executors.newFixedThreadPool(producers + consumers);
        try {
            List<Future<List<Delivery<String>>>> receiving = new ArrayList<>();
            for (int c = 0; c < consumers; c++) {
                ChannelReceiver<Delivery<String>> in = connect(server).receiver("jobs", Codec.utf8(), 32);
                receiving.add(pool.submit(() -> drain(in)));
            }
            AtomicLong produced = new AtomicLong();
            List<String> unconfirmed = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> producing = new ArrayList<>();
            long deadline = System.nanoTime() + runNanos;
            for (int p = 0; p < producers; p++) {
                int id = p;
                ChannelSender<String> out = connect(server).sender("jobs", Codec.utf8(), 64,
                        (item, reason) -> unconfirmed.add(item));
                producing.add(pool.submit(() -> {
                    for (int i = 0; i < maxPerProducer && System.nanoTime() - deadline < 0; i++) {
                        out.send(id + ":" + i);
                        produced.incrementAndGet();
                    }
                    out.close();
                    return null;
                }));
            }
            for (Future<?> f : producing) {
                f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            assertEquals(List.of(), unconfirmed, "items the server did not confirm");
            long total = produced.get();
            Await.until(() -> jobs.stats().sent() == total, WAIT,
                    () -> "server accepted all " + total + ": " + jobs.stats());
            jobs.close();

            Map<String, Boolean> seen = new ConcurrentHashMap<>();
            long delivered = 0;
            for (Future<List<Delivery<String>>> f : receiving) {
                for (Delivery<String> d : f.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                    delivered++;
                    assertTrue(seen.put(d.item(), Boolean.TRUE) == null, "duplicate " + d.item());
                }
            }
            assertEquals(total, delivered, "every produced item delivered once");
            assertTrue(total > producers, "some load ran: " + total);
            System.out.printf("load: %d producers, %d consumers, %d items in ~2 s%n", producers, consumers, total);
        } finally {
            pool.shutdownNow();
        }
    }
}
