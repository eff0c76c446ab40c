package dev.sluice.bench;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;

import dev.sluice.Channel;
import dev.sluice.ChannelReceiver;
import dev.sluice.rsocket.ClientOptions;
import dev.sluice.rsocket.Codec;
import dev.sluice.rsocket.Delivery;
import dev.sluice.rsocket.SluiceClient;
import dev.sluice.rsocket.SluiceServer;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.SocketAcceptor;
import io.rsocket.core.RSocketConnector;
import io.rsocket.core.RSocketServer;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import io.rsocket.util.DefaultPayload;

/**
 * S-remote: 8-byte items over an RSocket connection on loopback (127.0.0.1), server and client in this JVM. ns/item.
 *
 * <p>{@code sluiceRemote}: a blocking producer thread sends into a server {@code Channel} (capacity 256) exposed by a
 * {@link SluiceServer}; the JMH thread receives from {@code SluiceClient.receiver(name, codec, 256)} (demand = free
 * local capacity, at-least-once ledger and batched acks included). The remote stream is opened once per trial.
 * {@code rsocketStream}: plain RSocket, no Sluice: the server answers each {@code requestStream} with {@value #N}
 * payloads from {@code Flux.fromArray}, the JMH thread subscribes with {@code limitRate(256)} and blocks for the sum;
 * no blocking producer and no ledger, so it is the transport's floor rather than a like-for-like peer. Both encode
 * preboxed {@code Long}s to 8-byte arrays on the server and decode them to {@code Long}s on the client. The sum is
 * checked every invocation; every wait has a timeout.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(value = 3, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch",
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 2)
public class SRemote {

    /** Items per invocation. */
    public static final int N = 1 << 13;
    /** The server channel's capacity, the client's local capacity and the plain stream's {@code limitRate}. */
    public static final int CAPACITY = 256;

    private static final String HOST = "127.0.0.1";
    private static final String NAME = "s";
    private static final String TOKEN = SluiceServer.newToken();
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration INVOCATION_TIMEOUT = Duration.ofSeconds(Bench.INVOCATION_TIMEOUT_SECONDS);

    /** A {@code Long} as 8 big-endian bytes. */
    static final Codec<Long> LONGS = new Codec<>() {
        @Override
        public byte[] encode(Long item) {
            return ByteBuffer.allocate(8).putLong(item).array();
        }

        @Override
        public Long decode(byte[] bytes) {
            if (bytes.length != 8) {
                throw new IllegalArgumentException("a long needs 8 bytes but got " + bytes.length);
            }
            return ByteBuffer.wrap(bytes).getLong();
        }
    };

    /** The path under test. */
    @Param({"sluiceRemote", "rsocketStream"})
    public String impl;

    private Long[] items;
    // sluiceRemote
    private Channel<Long> channel;
    private SluiceServer server;
    private SluiceClient client;
    private ChannelReceiver<Delivery<Long>> receiver;
    private ExecutorService producer;
    // rsocketStream
    private CloseableChannel plainServer;
    private RSocket plainClient;

    /** Starts the server, connects the client and (sluiceRemote) opens the remote stream. */
    @Setup(Level.Trial)
    public void setUp() {
        items = Bench.items(N);
        switch (impl) {
            case "sluiceRemote":
                channel = Channel.bounded(CAPACITY);
                server = SluiceServer.builder().channel(NAME, channel, LONGS).token(TOKEN).bind(HOST, 0);
                client = SluiceClient.connect(HOST, server.port(), ClientOptions.token(TOKEN));
                receiver = client.receiver(NAME, LONGS, CAPACITY);
                producer = Bench.worker(Bench.PLATFORM, "sremote-producer");
                break;
            case "rsocketStream":
                Long[] source = items;
                plainServer = RSocketServer.create(SocketAcceptor.forRequestStream(request -> {
                    request.release();
                    return Flux.fromArray(source).map(item -> DefaultPayload.create(LONGS.encode(item)));
                })).bind(TcpServerTransport.create(HOST, 0)).block(SETUP_TIMEOUT);
                plainClient = RSocketConnector.create()
                        .connect(TcpClientTransport.create(HOST, plainServer.address().getPort()))
                        .block(SETUP_TIMEOUT);
                break;
            default:
                throw new IllegalArgumentException("unknown impl " + impl);
        }
    }

    /** Closes the stream, the client, the server and the producer thread. */
    @TearDown(Level.Trial)
    public void tearDown() {
        if (receiver != null) {
            receiver.cancel();
        }
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
        if (channel != null) {
            channel.close();
        }
        Bench.shutdown(producer);
        if (plainClient != null) {
            plainClient.dispose();
        }
        if (plainServer != null) {
            plainServer.dispose();
            plainServer.onClose().onErrorComplete().block(SETUP_TIMEOUT);
        }
    }

    /**
     * Moves {@value #N} items from server to client and checks their sum.
     *
     * @return the sum
     * @throws InterruptedException never expected
     */
    @Benchmark
    @OperationsPerInvocation(N)
    public long transfer() throws InterruptedException {
        long sum;
        switch (impl) {
            case "sluiceRemote":
                sum = viaSluice();
                break;
            case "rsocketStream":
                sum = viaPlainStream();
                break;
            default:
                throw new IllegalArgumentException("unknown impl " + impl);
        }
        Bench.checkSum("SRemote " + impl, Bench.checksum(N), sum);
        return sum;
    }

    private long viaSluice() throws InterruptedException {
        Long[] items = this.items;
        Channel<Long> channel = this.channel;
        Future<?> producing = producer.submit(() -> {
            for (Long item : items) {
                if (!channel.send(item, Bench.TIMEOUT)) {
                    throw Bench.stuck("server Channel.send");
                }
            }
            return null;
        });
        ChannelReceiver<Delivery<Long>> receiver = this.receiver;
        long sum = 0;
        for (int i = 0; i < N; i++) {
            Delivery<Long> d = receiver.receive(Bench.TIMEOUT);
            if (d == null) {
                producing.cancel(true);
                throw Bench.stuck("remote receive (item " + i + ")");
            }
            if (d.redelivered()) {
                throw new IllegalStateException("SRemote: item " + d.item() + " redelivered on a healthy connection");
            }
            sum += d.item();
        }
        Bench.await(producing, "producer");
        return sum;
    }

    private long viaPlainStream() {
        Long sum = plainClient.requestStream(DefaultPayload.create(new byte[0]))
                .limitRate(CAPACITY)
                .map(SRemote::decode)
                .reduce(0L, Long::sum)
                .block(INVOCATION_TIMEOUT);
        if (sum == null) {
            throw new IllegalStateException("SRemote rsocketStream: empty stream");
        }
        return sum;
    }

    /** As the Sluice client does: copy the data to an array, release the payload, decode. */
    private static Long decode(Payload p) {
        try {
            ByteBuffer data = p.getData();
            byte[] bytes = new byte[data.remaining()];
            data.duplicate().get(bytes);
            return LONGS.decode(bytes);
        } finally {
            p.release();
        }
    }
}
