package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelSender;
import dev.sluice.ChannelState;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.rsocket.DuplexConnection;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.RSocketErrorException;
import io.rsocket.core.RSocketConnector;
import io.rsocket.frame.FrameHeaderCodec;
import io.rsocket.frame.FrameLengthCodec;
import io.rsocket.frame.FrameType;
import io.rsocket.frame.SetupFrameCodec;
import io.rsocket.plugins.DuplexConnectionInterceptor;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The attacks of issue 14, each by a hand-built hostile client (a raw RSocket client speaking the bridge's wire
 * format, or a raw socket), loopback only (127.0.0.1), bounded in count and time. Each test also checks that the
 * server goes on serving well-behaved clients.
 */
class HostileClientTest {

    private static final String TOKEN = SluiceServer.newToken();
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void tapLog() {
        Log.resetWindows();
        Log.tap = logged::add;
    }

    @AfterEach
    void closeAll() throws Exception {
        Log.tap = null;
        pool.shutdownNow();
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private SluiceServer serve(SluiceServer.Builder builder) {
        SluiceServer server = builder.token(TOKEN).bind("127.0.0.1", 0);
        closeables.add(server);
        return server;
    }

    private SluiceClient connect(SluiceServer server) {
        SluiceClient client = SluiceClient.connect("127.0.0.1", server.port(), ClientOptions.token(TOKEN));
        closeables.add(client);
        return client;
    }

    /** A raw RSocket client with the right token, no resumption, keepalive every 1 s / 10 s. */
    private RSocket raw(SluiceServer server) {
        return raw(server, RSocketConnector.create().keepAlive(Duration.ofSeconds(1), Duration.ofSeconds(10)));
    }

    private RSocket raw(SluiceServer server, RSocketConnector connector) {
        RSocket socket = connector.setupPayload(DefaultPayload.create(TOKEN))
                .connect(TcpClientTransport.create("127.0.0.1", server.port())).block(WAIT);
        closeables.add(socket::dispose);
        return socket;
    }

    private static ServerHandler onlyConnection(SluiceServer server) {
        Await.until(() -> server.connections().size() == 1, WAIT, () -> "one connection: " + server.connections());
        return server.connections().iterator().next();
    }

    /** An item of {@code size} bytes whose first 8 bytes are its id. */
    private static byte[] item(long id, int size) {
        return ByteBuffer.allocate(size).putLong(id).array();
    }

    private static long idOf(byte[] item) {
        return ByteBuffer.wrap(item).getLong();
    }

    /** A consumer stream that requests {@code n} at once and never acknowledges. */
    private static final class NeverAcks extends BaseSubscriber<Payload> {
        final AtomicLong received = new AtomicLong();
        final long n;

        NeverAcks(long n) {
            this.n = n;
        }

        @Override
        protected void hookOnSubscribe(Subscription s) {
            s.request(n);
        }

        @Override
        protected void hookOnNext(Payload p) {
            received.incrementAndGet();
            p.release();
        }
    }

    private List<byte[]> drainAll(ChannelReceiver<Delivery<byte[]>> in, List<Boolean> redelivered)
            throws InterruptedException {
        List<byte[]> got = new ArrayList<>();
        try {
            for (;;) {
                Delivery<byte[]> d = in.receive();
                got.add(d.item());
                redelivered.add(d.redelivered());
            }
        } catch (ChannelClosedException end) {
            if (end.getCause() != null) {
                throw new AssertionError("stream failed after " + got.size(), end);
            }
        }
        return got;
    }

    /* ---- a consumer with REQUEST_N = Long.MAX_VALUE that never acknowledges ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void consumerRequestsMaxAndNeverAcks_serverHoldsOneWindow_thenEverythingReachesAnHonestConsumer()
            throws Exception {
        int capacity = 64;
        int itemBytes = 1024;
        int n = 3_000; // without the window the hostile stream would take all of them (3 MB)
        Channel<byte[]> jobs = Channel.bounded(capacity);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.bytes()));
        Future<?> producing = pool.submit(() -> {
            for (int i = 0; i < n; i++) {
                if (!jobs.send(item(i, itemBytes), WAIT)) {
                    throw new AssertionError("producer stuck at " + i);
                }
            }
            return null; // the test closes the channel once the hostile stream has given its items back
        });

        RSocket hostile = raw(server);
        NeverAcks greedy = new NeverAcks(Long.MAX_VALUE);
        hostile.requestStream(Wire.receive("jobs", 1)).subscribe(greedy);
        ServerHandler connection = onlyConnection(server);
        // the stream takes one window (the channel's capacity) and stops; then the channel fills up behind it
        Await.until(() -> greedy.received.get() == capacity && jobs.stats().size() == capacity, WAIT,
                () -> "hostile got " + greedy.received + ", channel " + jobs.stats());
        assertEquals(capacity, jobs.stats().received(), "items taken out of the channel: one window");
        assertTrue(connection.outbound.used() <= (long) capacity * itemBytes,
                "bytes sent and not acknowledged: " + connection.outbound.used());
        System.out.printf("never-acking consumer holds %d items, %d bytes un-acknowledged (bound %d x %d)%n",
                greedy.received.get(), connection.outbound.used(), capacity, itemBytes);

        // an honest consumer gets everything, including the hostile stream's items once it is gone
        SluiceClient honest = connect(server);
        ChannelReceiver<Delivery<byte[]>> in = honest.receiver("jobs", Codec.bytes(), 32);
        List<byte[]> got = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        while (got.size() < n - capacity) {
            Delivery<byte[]> d = in.receive();
            got.add(d.item());
            flags.add(d.redelivered());
        }
        assertEquals(capacity, greedy.received.get(), "the hostile stream took nothing more");
        producing.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        hostile.dispose(); // its 64 un-acknowledged items go back to the head of the channel
        while (got.size() < n) {
            Delivery<byte[]> d = in.receive();
            got.add(d.item());
            flags.add(d.redelivered());
        }
        jobs.close();
        got.addAll(drainAll(in, flags));

        BitSet seen = new BitSet(n);
        for (byte[] b : got) {
            assertFalse(seen.get((int) idOf(b)), "delivered twice to the honest consumer: " + idOf(b));
            seen.set((int) idOf(b));
        }
        assertEquals(n, seen.cardinality(), "every item reached the honest consumer");
        assertEquals(capacity, flags.stream().filter(f -> f).count(), "the hostile stream's items come flagged");
        assertEquals(ChannelState.COMPLETED, jobs.state());
        assertEquals(0, connection.outbound.used(), "the hostile connection's bytes are given back");
    }

    /* ---- 200 sender streams into a full channel ---- */

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoHundredSenderStreamsIntoAFullChannel_streamsCappedAndBytesInFlightBounded() throws Exception {
        int streams = 200;
        int itemBytes = 64 * 1024;
        int frame = 128 * 1024;
        long budget = 4L << 20;
        int maxStreams = 32;
        Channel<byte[]> sink = Channel.bounded(4);
        for (int i = 0; i < 4; i++) {
            sink.trySend(item(-1, 8)); // full: every remote item waits
        }
        SluiceServer server = serve(SluiceServer.builder().maxFrameSize(frame).maxBytesInFlight(budget)
                .maxStreamsPerConnection(maxStreams).channel("sink", sink, Codec.bytes()));
        RSocket hostile = raw(server, RSocketConnector.create().keepAlive(Duration.ofSeconds(1),
                Duration.ofSeconds(10)));
        AtomicLong generated = new AtomicLong(); // items the server asked for (the client makes them on request)
        AtomicInteger refused = new AtomicInteger();
        List<String> refusals = new CopyOnWriteArrayList<>();
        for (int s = 0; s < streams; s++) {
            Flux<Payload> items = Flux.range(0, 10_000).map(i -> {
                generated.incrementAndGet();
                return DefaultPayload.create(new byte[itemBytes]);
            });
            hostile.requestChannel(Flux.concat(Mono.just(Wire.openSend("sink")), items)).subscribe(
                    p -> p.release(), e -> {
                        refused.incrementAndGet();
                        refusals.add(e.getMessage());
                    });
        }
        ServerHandler connection = onlyConnection(server);
        Await.until(() -> refused.get() == streams - maxStreams, WAIT, () -> "refused " + refused);
        assertTrue(refusals.stream().allMatch(m -> m.contains("too many streams")), refusals.get(0));
        // the budget is used up: no frame-sized reservation fits any more, everything asked for has arrived
        Await.until(() -> connection.inbound.used() > budget - frame && generated.get() * itemBytes
                        == connection.inbound.used(), WAIT,
                () -> "budget used " + connection.inbound.used() + ", generated " + generated);
        assertEquals(maxStreams, connection.openStreams(), "open streams");
        assertTrue(connection.inbound.used() <= budget, "bytes in flight " + connection.inbound.used());
        assertTrue(generated.get() <= budget / itemBytes, "items asked for: " + generated.get());
        System.out.printf("200 sender streams: %d refused, %d open, %d items (%d bytes) held for a full channel "
                + "(bound %d bytes)%n", refused.get(), connection.openStreams(), generated.get(),
                connection.inbound.used(), budget);
        assertTrue(logged.stream().anyMatch(l -> l.contains("REFUSED") && l.contains("too many streams")), logged
                .toString());

        // the channel drains: the streams move on, still within the budget
        for (int i = 0; i < 100; i++) {
            assertTrue(sink.receive(WAIT) != null);
            assertTrue(connection.inbound.used() <= budget);
        }
        hostile.dispose(); // pending sends are withdrawn, their bytes given back
        Await.until(() -> connection.inbound.used() == 0, WAIT, () -> "bytes given back: " + connection.inbound
                .used());
        assertEquals(ChannelState.OPEN, sink.state());

        // a well-behaved producer is unaffected
        SluiceClient honest = connect(server);
        while (sink.tryReceive() != null) {
            // empty it (withdrawn items never entered; accepted ones are plain items)
        }
        honest.sender("sink", Codec.bytes()).send(item(42, 16));
        byte[] got = sink.receive(WAIT);
        assertEquals(42, idOf(got));
    }

    /* ---- directions ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void directions_consumerOfSendOnlyAndProducerOfReceiveOnly_refusedAndChannelsUntouched() throws Exception {
        Channel<String> in = Channel.bounded(4);
        Channel<String> out = Channel.bounded(4);
        out.send("secret result");
        SluiceServer server = serve(SluiceServer.builder()
                .channel("in", in, Codec.utf8(), SluiceServer.Direction.SEND_ONLY)
                .channel("out", out, Codec.utf8(), SluiceServer.Direction.RECEIVE_ONLY));
        SluiceClient client = connect(server);

        ChannelClosedException stealing = assertThrows(ChannelClosedException.class,
                () -> client.receiver("in", Codec.utf8(), 4).receive());
        assertTrue(stealing.getCause().getMessage().contains("'in' is send-only"), stealing.getCause().getMessage());
        ChannelSender<String> forging = client.sender("out", Codec.utf8(), 4, (item, reason) -> { });
        try {
            forging.send("forged");
        } catch (ChannelClosedException refusedFirst) {
            // refused before the local send
        }
        Await.until(forging::isClosedForSend, WAIT, () -> "the forging sender is refused");
        assertEquals(1, out.stats().size(), "nothing forged into 'out'");
        assertEquals(0, in.stats().received(), "nothing taken from 'in'");
        assertTrue(logged.stream().anyMatch(l -> l.contains("REFUSED") && l.contains("send-only")), logged
                .toString());

        // the allowed directions work on the same connection
        client.sender("in", Codec.utf8()).send("job");
        assertEquals("job", in.receive(WAIT));
        assertEquals("secret result", client.receiver("out", Codec.utf8(), 4).receive().item());
    }

    /* ---- one owning connection ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void exclusive_otherConnectionsRefusedWhileTheOwnerIsConnected_thenTheNextOneOwns() throws Exception {
        Channel<String> jobs = Channel.bounded(4);
        CountDownLatch ownerClosed = new CountDownLatch(1);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8())
                .exclusive(ownerClosed::countDown));
        SluiceClient owner = SluiceClient.connect("127.0.0.1", server.port(), ClientOptions.token(TOKEN));
        ChannelSender<String> out = owner.sender("jobs", Codec.utf8());
        out.send("from the owner");

        RemoteChannelException resumable = assertThrows(RemoteChannelException.class, () -> connect(server));
        assertTrue(resumable.getMessage().contains("in use by another connection"), resumable.getMessage());
        RemoteChannelException plain = assertThrows(RemoteChannelException.class, () -> SluiceClient.connect(
                "127.0.0.1", server.port(), ClientOptions.token(TOKEN).withResumeSession(Duration.ZERO)));
        assertTrue(plain.getMessage().contains("in use by another connection"), plain.getMessage());
        RSocket rogue = RSocketConnector.create().setupPayload(DefaultPayload.create(TOKEN))
                .connect(TcpClientTransport.create("127.0.0.1", server.port())).block(WAIT);
        closeables.add(rogue::dispose);
        assertThrows(RuntimeException.class, () -> rogue.requestStream(Wire.receive("jobs", 1)).blockFirst(WAIT));
        assertEquals("from the owner", jobs.receive(WAIT));
        assertEquals(0, jobs.stats().size());
        assertEquals(1, ownerClosed.getCount(), "the owner is still connected");

        owner.close(); // a normal close: the server is free at once
        assertTrue(ownerClosed.await(WAIT.toSeconds(), TimeUnit.SECONDS), "onOwnerClosed ran");
        SluiceClient next = connect(server);
        next.sender("jobs", Codec.utf8()).send("from the next owner");
        assertEquals("from the next owner", jobs.receive(WAIT));
    }

    /* ---- a frame above the limit after SETUP ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void frameAboveTheLimitAfterSetup_connectionClosedWithAnErrorSayingSo_andLogged() throws Exception {
        int limit = 64 * 1024;
        SluiceServer server = serve(SluiceServer.builder().maxFrameSize(limit).resumeSession(Duration.ZERO)
                .channel("jobs", Channel.<String>bounded(4), Codec.utf8()));
        long start = System.nanoTime();
        String answer;
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            ByteBuf setup = SetupFrameCodec.encode(ByteBufAllocator.DEFAULT, false, 1000, 60_000,
                    "application/binary", "application/binary", DefaultPayload.create(TOKEN));
            out.write(ByteBufUtil.getBytes(FrameLengthCodec.encode(ByteBufAllocator.DEFAULT, setup.readableBytes(),
                    setup)));
            int length = 4 * limit;
            byte[] big = new byte[3 + length];
            big[0] = (byte) (length >> 16);
            big[1] = (byte) (length >> 8);
            big[2] = (byte) length;
            out.write(big);
            out.flush();
            answer = readUntilClosed(socket.getInputStream());
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("oversized frame: closed after " + millis + " ms: " + answer);
        assertTrue(answer.contains("frame too large") && answer.contains(Integer.toString(limit)), answer);
        assertTrue(millis < 10_000, "closed by the guard, not by the 60 s keepalive: " + millis + " ms");
        assertTrue(logged.stream().anyMatch(l -> l.contains("CLOSED") && l.contains("frame too large")), logged
                .toString());
        // a TLS ClientHello read as a frame length (0x16 0x03 0x03 ...) gets a hint; other lengths do not
        assertTrue(Transports.tlsHint("Adjusted frame length exceeds 131072: 1442566 - discarded").contains("TLS"));
        assertEquals("", Transports.tlsHint("Adjusted frame length exceeds 65536: 262147 - discarded"));
        // the server goes on
        SluiceClient honest = SluiceClient.connect("127.0.0.1", server.port(),
                ClientOptions.token(TOKEN).withResumeSession(Duration.ZERO));
        closeables.add(honest);
        assertFalse(honest.isClosed());
    }

    /* The printable characters the server sent until it closed the connection. */
    private static String readUntilClosed(InputStream in) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        for (int n; (n = in.read(buffer)) >= 0; ) {
            bytes.write(buffer, 0, n);
        }
        StringBuilder text = new StringBuilder();
        for (byte b : bytes.toByteArray()) {
            text.append(b >= 32 && b < 127 ? (char) b : '.');
        }
        return text.toString();
    }

    /* ---- normal close vs cut connection ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void normalClose_theSessionEndsAtOnce_theNextConsumerGetsEveryItem() throws Exception {
        Channel<String> jobs = Channel.bounded(32);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8())); // resumption on
        SluiceClient first = SluiceClient.connect("127.0.0.1", server.port(), ClientOptions.token(TOKEN));
        ChannelReceiver<Delivery<String>> idle = first.receiver("jobs", Codec.utf8(), 10); // 10 requested, none sent
        Await.until(() -> onlyConnection(server).openStreams() == 1, WAIT, () -> "the stream is open");
        first.close();
        Await.until(() -> server.connections().isEmpty(), WAIT, () -> "the session ends at once");
        for (int i = 0; i < 20; i++) {
            jobs.send("j" + i);
        }
        assertThrows(ChannelClosedException.class, idle::receive, "the closed client's receiver ends");

        SluiceClient second = connect(server);
        ChannelReceiver<Delivery<String>> in = second.receiver("jobs", Codec.utf8(), 32);
        for (int i = 0; i < 20; i++) {
            Delivery<String> d = in.receive(Duration.ofSeconds(5)); // a lingering session would hold 10 for 15 s
            assertTrue(d != null, "item " + i + " arrives promptly");
            assertEquals("j" + i, d.item());
            assertFalse(d.redelivered());
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void cutConnection_unacknowledgedItemsGoBackToTheHead_servedFirstAndPromptlyToTheWaitingConsumer()
            throws Exception {
        Channel<String> jobs = Channel.bounded(32);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        for (int i = 0; i < 20; i++) {
            jobs.send("j" + i);
        }
        RSocket hostile = raw(server);
        NeverAcks takesTen = new NeverAcks(10);
        hostile.requestStream(Wire.receive("jobs", 1)).subscribe(takesTen);
        Await.until(() -> takesTen.received.get() == 10, WAIT, () -> "the first consumer took 10");

        SluiceClient second = connect(server);
        ChannelReceiver<Delivery<String>> in = second.receiver("jobs", Codec.utf8(), 32);
        List<Delivery<String>> got = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            got.add(in.receive()); // the other ten
        }
        hostile.dispose(); // cut: no BYE
        for (int i = 0; i < 10; i++) {
            Delivery<String> d = in.receive(Duration.ofSeconds(5));
            assertTrue(d != null, "given-back item " + i + " arrives promptly");
            got.add(d);
        }
        java.util.Set<String> back = new java.util.HashSet<>();
        for (int i = 0; i < 10; i++) {
            assertEquals("j" + (10 + i), got.get(i).item());
            assertFalse(got.get(i).redelivered());
            back.add(got.get(10 + i).item()); // core gives items back one at a time: their own order may change
            assertTrue(got.get(10 + i).redelivered());
        }
        for (int i = 0; i < 10; i++) {
            assertTrue(back.contains("j" + i), "j" + i + " given back: " + back);
        }
        assertEquals(20, jobs.stats().received());
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void givenBackItems_countInTheChannelsSizeAndStats_andALocalConsumerGetsThemFirst() throws Exception {
        Channel<String> jobs = Channel.bounded(4);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        for (int i = 0; i < 4; i++) {
            jobs.send("old" + i);
        }
        RSocket hostile = raw(server);
        NeverAcks takesAll = new NeverAcks(4);
        hostile.requestStream(Wire.receive("jobs", 1)).subscribe(takesAll);
        Await.until(() -> takesAll.received.get() == 4, WAIT, () -> "the remote consumer took 4");
        for (int i = 0; i < 4; i++) {
            jobs.send("new" + i); // the channel is full again
        }
        assertEquals(4, jobs.stats().received());

        hostile.dispose(); // its 4 un-acknowledged items go back to the head of the channel itself
        Await.until(() -> jobs.stats().size() == 8, WAIT, () -> "given back: " + jobs.stats());
        assertEquals(0, jobs.stats().received(), "given back: no longer counted as received");
        assertEquals(dev.sluice.SendResult.FULL, jobs.trySend("more"), "senders wait until the excess is drained");
        java.util.Set<String> first = new java.util.HashSet<>();
        for (int i = 0; i < 4; i++) {
            first.add(jobs.receive(WAIT)); // a local consumer: the given-back items first
        }
        assertEquals(java.util.Set.of("old0", "old1", "old2", "old3"), first);
        for (int i = 0; i < 4; i++) {
            assertEquals("new" + i, jobs.receive(WAIT));
        }
        assertEquals(8, jobs.stats().received());
    }

    @Test
    void log_aRepeatedFault_isRateLimited() {
        for (int i = 0; i < 3 * Log.BURST; i++) {
            int n = i;
            Log.log(Log.Kind.CODEC, System.Logger.Level.WARNING, () -> "fault " + n);
        }
        assertEquals(Log.BURST, logged.stream().filter(l -> l.contains("CODEC fault")).count(), logged.toString());
        Log.log(Log.Kind.REFUSED, System.Logger.Level.WARNING, () -> "another kind");
        assertTrue(logged.stream().anyMatch(l -> l.contains("another kind")), "kinds are limited apart");
    }

    /* ---- a client that goes silent (no keepalive) ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void silentClient_noKeepalive_droppedWithinItsTimeout_itsItemsGoToTheNextConsumer() throws Exception {
        Channel<String> jobs = Channel.bounded(32);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        for (int i = 0; i < 10; i++) {
            jobs.send("j" + i);
        }
        RSocket silent = raw(server, RSocketConnector.create()
                .keepAlive(Duration.ofMillis(200), Duration.ofSeconds(1))
                .interceptors(r -> r.forConnection((DuplexConnectionInterceptor) (type, c) ->
                        type == DuplexConnectionInterceptor.Type.SOURCE ? new NoKeepalives(c) : c)));
        NeverAcks holder = new NeverAcks(10);
        silent.requestStream(Wire.receive("jobs", 1)).subscribe(holder);
        Await.until(() -> holder.received.get() == 10, WAIT, () -> "the silent client took 10");
        long start = System.nanoTime();

        SluiceClient next = connect(server);
        ChannelReceiver<Delivery<String>> in = next.receiver("jobs", Codec.utf8(), 32);
        java.util.Set<String> back = new java.util.HashSet<>();
        for (int i = 0; i < 10; i++) {
            Delivery<String> d = in.receive(Duration.ofSeconds(10));
            assertTrue(d != null, "item " + i + " comes back once the silent client is dropped");
            assertTrue(d.redelivered());
            back.add(d.item());
        }
        assertEquals(10, back.size(), back.toString());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("silent client dropped, items back after " + millis + " ms");
        assertTrue(millis < 5_000, "within a few seconds of its 1 s keepalive timeout: " + millis + " ms");
    }

    /* Drops the client's KEEPALIVE frames: the connection stays open but says nothing. */
    private static final class NoKeepalives implements DuplexConnection {
        private final DuplexConnection delegate;

        NoKeepalives(DuplexConnection delegate) {
            this.delegate = delegate;
        }

        @Override
        public void sendFrame(int streamId, ByteBuf frame) {
            if (FrameHeaderCodec.frameType(frame) == FrameType.KEEPALIVE) {
                frame.release();
                return;
            }
            delegate.sendFrame(streamId, frame);
        }

        @Override
        public void sendErrorAndClose(RSocketErrorException e) {
            delegate.sendErrorAndClose(e);
        }

        @Override
        public Flux<ByteBuf> receive() {
            return delegate.receive();
        }

        @Override
        public ByteBufAllocator alloc() {
            return delegate.alloc();
        }

        @Override
        public SocketAddress remoteAddress() {
            return delegate.remoteAddress();
        }

        @Override
        public Mono<Void> onClose() {
            return delegate.onClose();
        }

        @Override
        public void dispose() {
            delegate.dispose();
        }

        @Override
        public boolean isDisposed() {
            return delegate.isDisposed();
        }
    }

    /* ---- malformed requests ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void malformedRequests_endOnlyThatStream_withAClearError() throws Exception {
        Channel<String> jobs = Channel.bounded(4);
        SluiceServer server = serve(SluiceServer.builder().channel("jobs", jobs, Codec.utf8()));
        RSocket hostile = raw(server);

        Throwable noId = assertThrows(RuntimeException.class, () -> hostile.requestStream(
                DefaultPayload.create(new byte[3], new byte[] {Wire.RECEIVE, 'j', 'o', 'b', 's'})).blockFirst(WAIT));
        assertTrue(noId.getMessage().contains("malformed receive request"), noId.getMessage());
        Throwable unknownOp = assertThrows(RuntimeException.class, () -> hostile.requestResponse(
                DefaultPayload.create(new byte[0], new byte[] {42})).block(WAIT));
        assertTrue(unknownOp.getMessage().contains("unknown request"), unknownOp.getMessage());
        hostile.fireAndForget(DefaultPayload.create(new byte[5], new byte[] {Wire.ACK})).block(WAIT); // ignored
        Throwable unasked = assertThrows(RuntimeException.class, () -> hostile.requestChannel(Flux.just(
                DefaultPayload.create(new byte[0], "\u0009".getBytes(StandardCharsets.UTF_8)))).blockLast(WAIT));
        assertTrue(unasked.getMessage().contains("must name a channel"), unasked.getMessage());

        SluiceClient honest = connect(server);
        honest.sender("jobs", Codec.utf8()).send("ok");
        assertEquals("ok", jobs.receive(WAIT));
        assertInstanceOf(SluiceClient.class, honest);
    }
}
