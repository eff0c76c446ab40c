package dev.sluice.rsocket;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

import dev.sluice.Channel;
import io.netty.handler.ssl.SslContext;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketServer;
import io.rsocket.exceptions.RejectedSetupException;
import io.rsocket.plugins.InterceptorRegistry;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpServer;

/**
 * Exposes named channels of this JVM to {@link SluiceClient}s in other JVMs, over RSocket on TCP.
 *
 * <p><b>Remote consumers</b> ({@link SluiceClient#receiver}) are competing consumers of the named channel alongside
 * local ones: an item leaves the channel only against the client's {@code REQUEST_N}, and the client requests only
 * what its local buffer can hold, so a slow remote consumer stops the server from taking items out.
 * <b>Remote producers</b> ({@link SluiceClient#sender}) send into the channel with the same capacity and FIFO
 * admission as local senders: each remote producer has at most {@link Builder#producerWindow(int) producerWindow}
 * items waiting in the channel's sender queue, as that many blocked local senders would, and the client is asked for
 * one more item only when one was accepted. A remote producer finishing (or its connection breaking) does not close the
 * channel; the server's owner does.
 *
 * <p><b>Delivery guarantee (remote consumers): at least once, in order per stream.</b> Items sent to a remote
 * consumer are kept in a per-stream ledger on the server until the client acknowledges them; the client acknowledges
 * (cumulatively, in batches, and within a few milliseconds) each item once it is in the client's local channel. When a
 * stream ends without completing (the connection broke, the client cancelled), its un-acknowledged items go to the
 * named channel's <em>redelivery queue</em>. Every remote consumer stream of that name serves the redelivery queue
 * before it asks the channel for new items; the items are marked {@link Delivery#redelivered()}. Limits, honestly:
 * <ul>
 *   <li>redelivered items overtake the channel's items only for demand not yet forwarded to the channel (at most the
 *       client's outstanding {@code REQUEST_N} may be served by newer items first);</li>
 *   <li>local consumers of the channel never see redelivered items (core has no "put back at the head"): they wait for
 *       the next remote consumer of that name;</li>
 *   <li>the end of the channel reaches a remote consumer only when the redelivery queue is empty and no item taken by
 *       any remote consumer is still unacknowledged;</li>
 *   <li>items already in a client's local channel are acknowledged: if that client JVM dies, they are lost (up to its
 *       local capacity plus one ack batch); a broken connection loses nothing, the client drains them locally.</li>
 * </ul>
 *
 * <p><b>Short disconnects: session resumption.</b> By default both ends keep a broken connection's RSocket session
 * for {@link Builder#resumeSession(Duration) 15 seconds}: the client reconnects, each end replays the frames the other
 * missed (items, acknowledgements, {@code REQUEST_N}), and every stream goes on where it was. Nothing is redelivered
 * and nothing is duplicated; the consumer sees one uninterrupted stream. Only when the session cannot be resumed (it
 * expired, or a bounded frame store already dropped frames the other end needs) do the streams end and the
 * redelivery above take over. The price: the items held by a client that died stay in its ledger until its session
 * expires. A resumed session is found by a random 16-byte resume token that the client chose at {@code SETUP} (after
 * the shared-secret check); use TLS where the network is not trusted.
 *
 * <p><b>Security.</b> Every connection must present the {@link Builder#token(String) token} in its RSocket
 * {@code SETUP} frame; a wrong or missing token is rejected before any channel is looked at: with
 * {@code REJECTED_SETUP}, or, when the client asked for a resumable session, by refusing every request of that
 * session ({@code REJECTED}, the reason in the message) and closing it within 5 seconds.
 * Without an explicit token a random one is generated ({@link #token()}) and logged once at {@code INFO}. Frames are
 * limited to {@link Builder#maxFrameSize(int)}; TLS is a {@link Builder#tls(SslContext)} option. An unknown channel
 * name, an item the codec cannot decode or a malformed request ends only that stream, with a
 * {@link RemoteChannelException} at the client.
 *
 * <p>Thread-safe. {@link #close()} stops accepting connections and closes the open ones (remote streams end, their
 * un-acknowledged items go to redelivery); it does not close the exposed channels.
 *
 * <pre>{@code
 * Channel<String> jobs = Channel.bounded(1024);
 * try (SluiceServer server = SluiceServer.builder()
 *         .channel("jobs", jobs, Codec.utf8())
 *         .token(secret)
 *         .bind("127.0.0.1", 0)) {               // port 0: ephemeral, see server.port()
 *     ...
 * }
 * }</pre>
 */
public final class SluiceServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(SluiceServer.class.getName());

    private final CloseableChannel transport;
    private final String host;
    private final String token;

    private SluiceServer(CloseableChannel transport, String host, String token) {
        this.transport = transport;
        this.host = host;
        this.token = token;
    }

    /**
     * Returns a builder with no channels, no token (one is generated), frames up to 1 MiB, no TLS.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The host the server is bound to.
     *
     * @return the host given to {@link Builder#bind(String, int)}
     */
    public String host() {
        return host;
    }

    /**
     * The bound port (the actual one when 0 was asked for).
     *
     * @return the TCP port
     */
    public int port() {
        return transport.address().getPort();
    }

    /**
     * The token clients must present: the one given to the builder, or the generated one.
     *
     * @return the shared secret
     */
    public String token() {
        return token;
    }

    /**
     * Stops the server and closes its connections, waiting up to 10 seconds. Idempotent. The exposed channels stay
     * open.
     */
    @Override
    public void close() {
        transport.dispose();
        transport.onClose().onErrorComplete().block(Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
        return "SluiceServer[" + host + ":" + port() + "]";
    }

    /**
     * Configures and binds a {@link SluiceServer}. Not thread-safe; use it from one thread.
     */
    public static final class Builder {

        private final Map<String, Exposure<?>> exposures = new LinkedHashMap<>();
        private String token;
        private int maxFrameSize = 1 << 20;
        private int producerWindow = 32;
        private Duration resumeSession = ClientOptions.DEFAULT_RESUME_SESSION;
        private SslContext tls;
        private Consumer<InterceptorRegistry> interceptors = r -> { }; // tests count frames with it

        private Builder() {
        }

        /**
         * Exposes a channel under a name.
         *
         * @param name the name clients use, not empty
         * @param channel the channel
         * @param codec how its items cross the wire
         * @param <T> the item type
         * @return this builder
         * @throws NullPointerException if an argument is {@code null}
         * @throws IllegalArgumentException if {@code name} is empty or already exposed
         */
        public <T> Builder channel(String name, Channel<T> channel, Codec<T> codec) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(codec, "codec");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("name must not be empty");
            }
            if (exposures.containsKey(name)) {
                throw new IllegalArgumentException("channel name '" + name + "' is already exposed");
            }
            exposures.put(name, new Exposure<>(name, channel, codec));
            return this;
        }

        /**
         * Sets the shared secret clients must present. Without it a random token is generated.
         *
         * @param token the secret, not empty
         * @return this builder
         * @throws NullPointerException if {@code token} is {@code null}
         * @throws IllegalArgumentException if {@code token} is empty
         */
        public Builder token(String token) {
            Objects.requireNonNull(token, "token");
            if (token.isEmpty()) {
                throw new IllegalArgumentException("token must not be empty");
            }
            this.token = token;
            return this;
        }

        /**
         * Sets the largest frame accepted, for items and requests alike.
         *
         * <p>Size it (and the clients' {@link ClientOptions#withMaxFrameSize}) for the largest encoded item. An item
         * too large for a remote consumer's limit (the smaller of this and the client's) ends that consumer's stream
         * with a {@link RemoteChannelException} naming the size; the item is kept, at the head of the channel's
         * redelivery queue, so it is not lost, but every remote consumer with a limit that small fails on it the same
         * way until one with a larger limit takes it. Remote producers get the same check before an item leaves the
         * client.
         *
         * @param bytes at least 1024; default 1 MiB
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes < 1024} or above 16 MiB - 1 (the RSocket frame limit)
         */
        public Builder maxFrameSize(int bytes) {
            if (bytes < 1024 || bytes > 0xFF_FFFF) {
                throw new IllegalArgumentException("maxFrameSize must be in [1024, 16777215] but was " + bytes);
            }
            this.maxFrameSize = bytes;
            return this;
        }

        /**
         * Sets how many items of one remote producer may wait in the channel's sender queue at once (like that many
         * blocked local senders). Larger windows hide network latency.
         *
         * @param items at least 1; default 32
         * @return this builder
         * @throws IllegalArgumentException if {@code items < 1}
         */
        public Builder producerWindow(int items) {
            if (items < 1) {
                throw new IllegalArgumentException("producerWindow must be >= 1 but was " + items);
            }
            this.producerWindow = items;
            return this;
        }

        /**
         * Serves TLS with the given server context (e.g. {@code SslContextBuilder.forServer(cert, key).build()}).
         *
         * @param context a server-side Netty SSL context
         * @return this builder
         * @throws NullPointerException if {@code context} is {@code null}
         * @throws IllegalArgumentException if {@code context} is a client context
         */
        public Builder tls(SslContext context) {
            Objects.requireNonNull(context, "context");
            if (context.isClient()) {
                throw new IllegalArgumentException("tls needs a server SslContext but was a client one");
            }
            this.tls = context;
            return this;
        }

        /**
         * Sets how long the session of a broken connection is kept for the client to resume it (RSocket session
         * resumption; see {@link ClientOptions#withResumeSession}). While it is kept, the items its consumer streams
         * have not acknowledged stay in their ledgers; if the client resumes in time nothing is redelivered, and
         * otherwise they go to the redelivery queue when the session expires. So this is also how long the items held
         * by a client that died stay out of reach. {@link Duration#ZERO} turns resumption off: a broken connection
         * ends its streams and their items are redelivered at once.
         *
         * @param session zero (off) or positive; default 15 seconds
         * @return this builder
         * @throws NullPointerException if {@code session} is {@code null}
         * @throws IllegalArgumentException if {@code session} is negative
         */
        public Builder resumeSession(Duration session) {
            Objects.requireNonNull(session, "session");
            if (session.isNegative()) {
                throw new IllegalArgumentException("resumeSession must be zero or positive but was " + session);
            }
            this.resumeSession = session;
            return this;
        }

        Builder interceptors(Consumer<InterceptorRegistry> interceptors) {
            this.interceptors = interceptors;
            return this;
        }

        /**
         * Binds to 127.0.0.1 (loopback only) on {@code port}.
         *
         * @param port the TCP port, 0 for an ephemeral one
         * @return the running server
         * @throws IllegalArgumentException if {@code port} is outside [0, 65535]
         * @throws RemoteChannelException if binding fails
         */
        public SluiceServer bind(int port) {
            return bind("127.0.0.1", port);
        }

        /**
         * Binds to {@code host} on {@code port} and starts serving.
         *
         * @param host the address to listen on, e.g. {@code "127.0.0.1"}
         * @param port the TCP port, 0 for an ephemeral one
         * @return the running server
         * @throws NullPointerException if {@code host} is {@code null}
         * @throws IllegalArgumentException if {@code port} is outside [0, 65535]
         * @throws RemoteChannelException if binding fails
         */
        public SluiceServer bind(String host, int port) {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535] but was " + port);
            }
            boolean generated = token == null;
            String secret = generated ? generateToken() : token;
            byte[] expected = secret.getBytes(StandardCharsets.UTF_8);
            Map<String, Exposure<?>> channels = Map.copyOf(exposures);
            int window = producerWindow;
            int frameSize = maxFrameSize;

            TcpServer tcp = TcpServer.create().host(host).port(port);
            if (tls != null) {
                SslContext context = tls;
                tcp = tcp.secure(spec -> spec.sslContext(context));
            }
            CloseableChannel transport;
            try {
                RSocketServer server = RSocketServer.create((setup, sendingSocket) -> {
                            byte[] presented = Wire.data(setup);
                            if (!MessageDigest.isEqual(expected, presented)) {
                                String reason = presented.length == 0 ? "missing token" : "invalid token";
                                if (setup.isResumeEnabled()) {
                                    // RSocket 1.1.5 keeps a resumable session whose SETUP was rejected, and the
                                    // client resumes into it instead of seeing REJECTED_SETUP: accept the session
                                    // with a handler that refuses every request, and end it shortly
                                    return Mono.<RSocket>just(Refusing.refuse(reason, sendingSocket));
                                }
                                return Mono.error(new RejectedSetupException(reason));
                            }
                            ServerHandler handler = new ServerHandler(channels, window, frameSize);
                            sendingSocket.onClose().doFinally(s -> handler.connectionClosed()).subscribe();
                            return Mono.<RSocket>just(handler);
                        })
                        .maxInboundPayloadSize(maxFrameSize)
                        .interceptors(interceptors);
                if (!resumeSession.isZero()) {
                    server = server.resume(Resumption.of(resumeSession, maxFrameSize, false));
                }
                transport = server.bind(TcpServerTransport.create(tcp, maxFrameSize)).block(Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                throw new RemoteChannelException("cannot bind " + host + ":" + port + ": " + e.getMessage(), e);
            }
            SluiceServer server = new SluiceServer(Objects.requireNonNull(transport, "transport"), host, secret);
            if (generated) {
                LOG.log(System.Logger.Level.INFO, "{0} generated its token: {1}", server, secret);
            }
            return server;
        }

        private static String generateToken() {
            byte[] bytes = new byte[24];
            new SecureRandom().nextBytes(bytes);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        }
    }
}
