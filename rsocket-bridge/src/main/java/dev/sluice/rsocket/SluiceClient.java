package dev.sluice.rsocket;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.Channel;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelSender;
import dev.sluice.UndeliveredHandler;
import io.netty.handler.ssl.SslContext;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketConnector;
import io.rsocket.exceptions.RejectedException;
import io.rsocket.exceptions.RejectedSetupException;
import io.rsocket.util.DefaultPayload;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpClient;

/**
 * A connection to a {@link SluiceServer}: local views of its named channels.
 *
 * <p>{@link #receiver} gives a local {@link ChannelReceiver} fed by the remote channel: a local bounded channel whose
 * free capacity is the only demand sent to the server, so a slow local consumer stops the server from taking items
 * out. {@link #sender} gives a local {@link ChannelSender} whose items are pumped to the server only as the server's
 * channel accepts them. Both are ordinary Sluice channels locally: blocking, future and Reactive Streams doors, the
 * same close/fail/cancel rules. See {@link SluiceServer} for the delivery guarantee.
 *
 * <p>One connection carries any number of receivers and senders (the server allows
 * {@link SluiceServer.Builder#maxStreamsPerConnection 32} at once by default). Thread-safe. {@link #close()} closes
 * the connection normally: the server ends this connection's streams at once (their un-acknowledged items go back to
 * its channels) and keeps no session for resumption; receivers drain what they already hold and then fail with a
 * {@link RemoteChannelException}; senders fail.
 *
 * <pre>{@code
 * try (SluiceClient client = SluiceClient.connect("127.0.0.1", port, ClientOptions.token(secret))) {
 *     ChannelSender<String> out = client.sender("jobs", Codec.utf8());
 *     out.send("job-1");
 *     out.close();                                   // ends this producer; the server's channel stays open
 *     ChannelReceiver<Delivery<String>> in = client.receiver("results", Codec.utf8(), 64);
 *     Delivery<String> d = in.receive();             // d.redelivered(): may be a duplicate
 * }
 * }</pre>
 */
public final class SluiceClient implements AutoCloseable {

    /** How long {@link #close()} waits for the server to confirm a normal close. */
    static final long BYE_TIMEOUT_MILLIS = 2000;

    private final RSocket rsocket;
    private final String address;
    private final ClientOptions options;
    private final AtomicLong consumerIds = new AtomicLong();

    private final int sendFrameSize; // the smaller of ours and the server's (from the HELLO reply)

    private SluiceClient(RSocket rsocket, String address, ClientOptions options, int sendFrameSize) {
        this.rsocket = rsocket;
        this.address = address;
        this.options = options;
        this.sendFrameSize = sendFrameSize;
    }

    /**
     * Connects and presents the token; returns once the server has accepted it.
     *
     * @param host the server's host
     * @param port the server's port
     * @param options the token and other options
     * @return the connected client
     * @throws NullPointerException if an argument is {@code null}
     * @throws IllegalArgumentException if {@code port} is outside [1, 65535]
     * @throws RemoteChannelException if the connection fails or the server rejects the token
     */
    public static SluiceClient connect(String host, int port, ClientOptions options) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(options, "options");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be in [1, 65535] but was " + port);
        }
        String address = host + ":" + port;
        TcpClient tcp = TcpClient.create().host(host).port(port);
        SslContext tls = options.tls();
        if (tls != null) {
            tcp = tcp.secure(spec -> spec.sslContext(tls));
        }
        RSocket rsocket;
        int serverFrameSize = options.maxFrameSize();
        try {
            RSocketConnector connector = RSocketConnector.create()
                    .setupPayload(DefaultPayload.create(options.token().getBytes(StandardCharsets.UTF_8)))
                    .maxInboundPayloadSize(options.maxFrameSize())
                    .keepAlive(Resumption.KEEPALIVE_INTERVAL, Resumption.KEEPALIVE_MAX_LIFETIME)
                    .interceptors(options.interceptors);
            if (!options.resumeSession().isZero()) {
                connector = connector.resume(Resumption.of(options.resumeSession(), options.maxFrameSize(), true));
            }
            rsocket = connector.connect(Transports.client(tcp, options.maxFrameSize())).block(options.connectTimeout());
        } catch (RuntimeException e) {
            throw new RemoteChannelException("cannot connect to " + address + ": " + e.getMessage(), e);
        }
        try {
            // SETUP has no answer: a request/response round trip tells whether the token was accepted
            Payload reply = Objects.requireNonNull(rsocket, "rsocket")
                    .requestResponse(Wire.hello(options.maxFrameSize())).timeout(options.connectTimeout()).block();
            if (reply != null) {
                serverFrameSize = Wire.announcedFrameSize(reply, options.maxFrameSize());
                reply.release();
            }
        } catch (RuntimeException e) {
            rsocket.dispose();
            Throwable cause = e instanceof RejectedSetupException || e.getCause() == null ? e : e.getCause();
            if (cause instanceof RejectedSetupException || cause instanceof RejectedException) {
                throw new RemoteChannelException(address + " rejected the connection: " + cause.getMessage(), cause);
            }
            if (Exceptions.unwrap(e) instanceof TimeoutException) {
                throw new RemoteChannelException("handshake with " + address + " failed: no answer within "
                        + options.connectTimeout().toMillis() + " ms (a TLS server while this client is plain, or not"
                        + " a Sluice server?)", e);
            }
            throw new RemoteChannelException("handshake with " + address + " failed: " + e, e);
        }
        return new SluiceClient(rsocket, address, options, Math.min(options.maxFrameSize(), serverFrameSize));
    }

    /**
     * Becomes a competing consumer of the server's channel {@code name}, through a local channel of
     * {@code localCapacity}. The server sends no more items than the local channel has free slots.
     *
     * <p>The returned receiver completes when the remote channel has ended and every item taken by remote consumers
     * is acknowledged or given back to the channel. It fails with a {@link RemoteChannelException} (as the cause of the
     * {@link dev.sluice.ChannelClosedException}) if the name is unknown, an item cannot be decoded, or the connection
     * breaks, after the items already received locally. Cancelling it ({@link ChannelReceiver#cancel()}) stops the
     * remote stream; items already in the local buffer are then discarded, as with any Sluice channel.
     *
     * @param name the channel name on the server
     * @param codec decodes its items
     * @param localCapacity the local buffer, at least 1: the most items requested and not yet received
     * @param <T> the item type
     * @return a local receiver of deliveries
     * @throws NullPointerException if an argument is {@code null}
     * @throws IllegalArgumentException if {@code localCapacity < 1}
     */
    public <T> ChannelReceiver<Delivery<T>> receiver(String name, Codec<T> codec, int localCapacity) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(codec, "codec");
        if (localCapacity < 1) {
            throw new IllegalArgumentException("localCapacity must be >= 1 but was " + localCapacity);
        }
        Channel<Delivery<T>> local = Channel.bounded(localCapacity);
        new RemoteReceiver<>(rsocket, name, codec, consumerIds.incrementAndGet(), options.ackBatch(), local).start();
        return local.receiver();
    }

    /**
     * A remote producer into the server's channel {@code name}, through a local channel of 256 items.
     *
     * @param name the channel name on the server
     * @param codec encodes its items
     * @param <T> the item type
     * @return a local sender
     * @throws NullPointerException if an argument is {@code null}
     * @see #sender(String, Codec, int, UndeliveredHandler)
     */
    public <T> ChannelSender<T> sender(String name, Codec<T> codec) {
        return sender(name, codec, 256, (item, reason) -> { });
    }

    /**
     * A remote producer into the server's channel {@code name}, through a local channel of {@code localCapacity}.
     *
     * <p>Items leave the local channel only as the server asks for them, which it does as its channel accepts them.
     * Closing the sender sends what is buffered and then ends this producer; the server's channel stays open. If the
     * stream fails (unknown name, the server refused or could not decode an item, the connection broke) the local
     * channel fails and is cancelled: sends throw {@link dev.sluice.ChannelClosedException}, and every item that the
     * server has not confirmed (sent but unconfirmed, then still buffered, in order) goes to {@code onUnconfirmed}
     * with {@link dev.sluice.UndeliveredReason#CANCELLED}. An unconfirmed item that was on the wire may still have been
     * accepted by the server (at least once if the caller resends it).
     *
     * @param name the channel name on the server
     * @param codec encodes its items
     * @param localCapacity the local buffer, at least 1
     * @param onUnconfirmed receives the items the server did not confirm when the stream fails
     * @param <T> the item type
     * @return a local sender
     * @throws NullPointerException if an argument is {@code null}
     * @throws IllegalArgumentException if {@code localCapacity < 1}
     */
    public <T> ChannelSender<T> sender(String name, Codec<T> codec, int localCapacity,
            UndeliveredHandler<? super T> onUnconfirmed) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(codec, "codec");
        Objects.requireNonNull(onUnconfirmed, "onUnconfirmed");
        if (localCapacity < 1) {
            throw new IllegalArgumentException("localCapacity must be >= 1 but was " + localCapacity);
        }
        Channel<T> local = Channel.<T>builder().capacity(localCapacity).onUndelivered(onUnconfirmed).build();
        new RemoteSender<>(rsocket, name, codec, local, onUnconfirmed, sendFrameSize).start();
        return local.sender();
    }

    /**
     * Tells whether the connection is closed.
     *
     * @return {@code true} once closed or broken
     */
    public boolean isClosed() {
        return rsocket.isDisposed();
    }

    /**
     * Closes the connection normally: tells the server (which ends this connection's streams at once and keeps no
     * session to resume), waits for its answer for at most {@value #BYE_TIMEOUT_MILLIS} ms, then closes. Idempotent.
     */
    @Override
    public void close() {
        if (rsocket.isDisposed()) {
            return;
        }
        try {
            Payload reply = rsocket.requestResponse(Wire.bye()).timeout(Duration.ofMillis(BYE_TIMEOUT_MILLIS))
                    .onErrorResume(e -> Mono.empty()).block();
            if (reply != null) {
                reply.release();
            }
        } catch (RuntimeException e) {
            // closing anyway: the server then ends the session when it expires
        } finally {
            rsocket.dispose();
        }
    }

    RSocket rsocket() {
        return rsocket;
    }

    @Override
    public String toString() {
        return "SluiceClient[" + address + (isClosed() ? ", closed]" : "]");
    }
}
