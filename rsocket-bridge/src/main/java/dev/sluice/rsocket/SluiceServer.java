package dev.sluice.rsocket;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import dev.sluice.Channel;
import io.netty.handler.ssl.SslContext;
import io.rsocket.ConnectionSetupPayload;
import io.rsocket.RSocket;
import io.rsocket.core.RSocketServer;
import io.rsocket.exceptions.RejectedSetupException;
import io.rsocket.plugins.InterceptorRegistry;
import reactor.core.publisher.Mono;
import reactor.netty.tcp.TcpServer;

/**
 * Exposes named channels of this JVM to {@link SluiceClient}s in other JVMs, over RSocket on TCP.
 *
 * <p><b>Remote consumers</b> ({@link SluiceClient#receiver}) are competing consumers of the named channel alongside
 * local ones: an item leaves the channel only against the client's {@code REQUEST_N}, and the client requests only
 * what its local buffer can hold, so a slow remote consumer stops the server from taking items out. Each remote
 * consumer stream holds at most a {@link Builder#consumerWindow(int) window} of items taken out and not yet
 * acknowledged (by default the channel's capacity): demand beyond the window waits for acknowledgements.
 * <b>Remote producers</b> ({@link SluiceClient#sender}) send into the channel with the same capacity and FIFO
 * admission as local senders: each remote producer has at most {@link Builder#producerWindow(int) producerWindow}
 * items waiting in the channel's sender queue, as that many blocked local senders would, and the client is asked for
 * one more item only when one was accepted. A remote producer finishing (or its connection breaking) does not close the
 * channel; the server's owner does.
 *
 * <p><b>Delivery guarantee (remote consumers): at least once, in order per stream.</b> Items sent to a remote
 * consumer are kept in a per-stream ledger on the server until the client acknowledges them; the client acknowledges
 * (cumulatively, in batches, and within a few milliseconds) each item once it is in the client's local channel. When a
 * stream ends without completing (the connection broke, the client cancelled), its un-acknowledged items go back to
 * the <em>head of the channel itself</em>, oldest first: they count against its capacity and in its
 * {@link Channel#stats() stats}, the next consumer of any kind, local or remote, gets them first, and remote consumers
 * see them marked {@link Delivery#redelivered()}. Limits, honestly:
 * <ul>
 *   <li>an item given back after the channel has ended (closed and drained while the item was out) goes to the
 *       channel's {@code onUndelivered} handler with {@link dev.sluice.UndeliveredReason#RETURNED_AFTER_END}: every
 *       receiver was already told the channel ended;</li>
 *   <li>an item the bridge cannot send (the server codec fails on it, or it is larger than the connection's frame
 *       limit) goes to {@code onUndelivered} with {@link dev.sluice.UndeliveredReason#REJECTED}, and that consumer's
 *       stream ends with a {@link RemoteChannelException} naming the size: it never blocks the channel for the
 *       others;</li>
 *   <li>a remote consumer stream completes when the channel has ended and every item it was sent is
 *       acknowledged;</li>
 *   <li>items already in a client's local channel are acknowledged: if that client JVM dies, they are lost (up to its
 *       local capacity plus one ack batch); a broken connection loses nothing, the client drains them locally.</li>
 * </ul>
 *
 * <p><b>Short disconnects: session resumption.</b> By default both ends keep a broken connection's RSocket session
 * for {@link Builder#resumeSession(Duration) 15 seconds}: the client reconnects, each end replays the frames the other
 * missed (items, acknowledgements, {@code REQUEST_N}), and every stream goes on where it was. Nothing is redelivered
 * and nothing is duplicated; the consumer sees one uninterrupted stream. Only when the session cannot be resumed (it
 * expired, or a bounded frame store already dropped frames the other end needs) do the streams end and the items go
 * back as above. The price: the items held by a client that died stay in its ledger until its session expires. A
 * {@link SluiceClient#close() normal close} ends the session at once. A client that vanishes without closing is
 * noticed by the keepalive: it sends one every second and is dropped after 10 seconds of silence (SETUPs asking for a
 * keepalive timeout above 120 seconds are refused). A resumed session is found by a random 16-byte resume token that
 * the client chose at {@code SETUP} (after the shared-secret check); use TLS where the network is not trusted.
 *
 * <p><b>Security model.</b> Every connection must present the {@link Builder#token(String) token} in its RSocket
 * {@code SETUP} frame; a wrong or missing token is rejected before any channel is looked at: with
 * {@code REJECTED_SETUP}, or, when the client asked for a resumable session, by refusing every request of that
 * session ({@code REJECTED}, the reason in the message) and closing it within 5 seconds. Repeated failures from one
 * address are answered later and later (from the 4th on: 0.25 s, doubling, at most 5 s). A token chosen by the user
 * must be strong ({@link Builder#token}); without one a random token is generated ({@link #token()}, never logged).
 * A connection that holds the token can do exactly what the exposed channels allow, nothing else: send into a channel
 * exposed {@link Direction#SEND_ONLY} or {@link Direction#SEND_AND_RECEIVE}, receive from one exposed
 * {@link Direction#RECEIVE_ONLY} or {@link Direction#SEND_AND_RECEIVE}, within the limits below; no other channel,
 * object or file of the server is reachable. On an {@link Builder#exclusive exclusive} server only one connection at a
 * time (the first to be accepted) may do even that: the others are refused at {@code SETUP}. The token and the items
 * cross the network in the clear unless {@link Builder#tls(SslContext) TLS} is on; binding a non-loopback address
 * without TLS logs a warning. Limits per connection: frames of at most {@link Builder#maxFrameSize(int)} (a larger one
 * closes the connection with an error, logged), at most {@link Builder#maxStreamsPerConnection(int)} streams, and at
 * most {@link Builder#maxBytesInFlight(long)} bytes on their way into channels and as many sent and not yet
 * acknowledged. An unknown channel name, a refused direction, an item the codec cannot decode or a malformed request
 * ends only that stream, with a {@link RemoteChannelException} at the client. Refusals, decode errors and connections
 * closed for cause are logged through {@link System.Logger} {@code "dev.sluice.rsocket"}, rate-limited, without
 * secrets.
 *
 * <p>Thread-safe. {@link #close()} stops accepting connections and closes the open ones (remote streams end, their
 * un-acknowledged items go back to the channels); it does not close the exposed channels.
 *
 * <pre>{@code
 * Channel<String> jobs = Channel.bounded(1024);
 * try (SluiceServer server = SluiceServer.builder()
 *         .channel("jobs", jobs, Codec.utf8())
 *         .token(secret)                          // SluiceServer.newToken() makes a strong one
 *         .bind("127.0.0.1", 0)) {               // port 0: ephemeral, see server.port()
 *     ...
 * }
 * }</pre>
 */
public final class SluiceServer implements AutoCloseable {

    /** The longest keepalive timeout a client may ask for in its SETUP, in milliseconds. */
    static final int MAX_KEEPALIVE_LIFETIME_MILLIS = 120_000;

    /** What remote clients may do with an exposed channel. */
    public enum Direction {
        /** Clients may send into the channel and receive from it. */
        SEND_AND_RECEIVE,
        /** Clients may only send into the channel (remote producers); a remote consumer stream is refused. */
        SEND_ONLY,
        /** Clients may only receive from the channel (remote consumers); a remote producer stream is refused. */
        RECEIVE_ONLY
    }

    private final Transports.BoundServer transport;
    private final String host;
    private final String token;
    private final Served served;

    private SluiceServer(Transports.BoundServer transport, String host, String token, Served served) {
        this.transport = transport;
        this.host = host;
        this.token = token;
        this.served = served;
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
     * A new random token for {@link Builder#token} and {@link ClientOptions#token}: 24 bytes from
     * {@link java.security.SecureRandom}, as 32 URL-safe base64 characters.
     *
     * @return a fresh token
     */
    public static String newToken() {
        return Tokens.newToken();
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
     * The token clients must present: the one given to the builder, or the generated one. Handle it as a secret.
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
        served.closeAll();
        transport.onClose().onErrorComplete().block(Duration.ofSeconds(10));
    }

    /** For tests: the open connections' handlers. */
    Set<ServerHandler> connections() {
        return Set.copyOf(served.handlers);
    }

    /** For tests: the setup guard. */
    SetupGuard setupGuard() {
        return served.guard;
    }

    @Override
    public String toString() {
        return "SluiceServer[" + host + ":" + port() + "]"; // never the token
    }

    /* What every connection of one server shares. */
    static final class Served {
        final Map<String, Exposure<?>> exposures;
        final int producerWindow;
        final int maxFrameSize;
        final int maxStreams;
        final long maxBytesInFlight;
        final boolean exclusive;
        final Runnable onOwnerClosed;
        final SetupGuard guard;
        final AtomicReference<ServerHandler> owner = new AtomicReference<>();
        final Set<ServerHandler> handlers = ConcurrentHashMap.newKeySet();

        Served(Map<String, Exposure<?>> exposures, int producerWindow, int maxFrameSize, int maxStreams,
                long maxBytesInFlight, boolean exclusive, Runnable onOwnerClosed, SetupGuard guard) {
            this.exposures = exposures;
            this.producerWindow = producerWindow;
            this.maxFrameSize = maxFrameSize;
            this.maxStreams = maxStreams;
            this.maxBytesInFlight = maxBytesInFlight;
            this.exclusive = exclusive;
            this.onOwnerClosed = onOwnerClosed;
            this.guard = guard;
        }

        /* A connection's streams have ended: if it owned the server, tell the application, then let the next in. */
        void ended(ServerHandler handler) {
            handlers.remove(handler);
            if (exclusive && owner.get() == handler) {
                try {
                    onOwnerClosed.run();
                } catch (RuntimeException e) {
                    Log.LOGGER.log(System.Logger.Level.WARNING, "onOwnerClosed threw", e);
                }
                owner.compareAndSet(handler, null);
            }
        }

        void closeAll() {
            for (ServerHandler h : handlers) {
                h.close();
            }
        }
    }

    /**
     * Configures and binds a {@link SluiceServer}. Not thread-safe; use it from one thread.
     */
    public static final class Builder {

        private final Map<String, ExposureSpec<?>> exposures = new LinkedHashMap<>();
        private String token;
        private int maxFrameSize = 1 << 20;
        private int producerWindow = 32;
        private int consumerWindow; // 0: each channel's capacity
        private int maxStreams = 32;
        private long maxBytesInFlight; // 0: max(16 MiB, 4 frames)
        private Duration resumeSession = ClientOptions.DEFAULT_RESUME_SESSION;
        private SslContext tls;
        private Runnable onOwnerClosed; // non-null: exclusive
        private Consumer<InterceptorRegistry> interceptors = r -> { }; // tests count frames with it

        private record ExposureSpec<T>(String name, Channel<T> channel, Codec<T> codec, Direction direction) {
        }

        private Builder() {
        }

        /**
         * Exposes a channel under a name, for remote producers and consumers alike
         * ({@link Direction#SEND_AND_RECEIVE}).
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
            return channel(name, channel, codec, Direction.SEND_AND_RECEIVE);
        }

        /**
         * Exposes a channel under a name, for what {@code direction} allows: a stream of the other direction is
         * refused with a {@link RemoteChannelException} naming the channel.
         *
         * @param name the name clients use, not empty
         * @param channel the channel
         * @param codec how its items cross the wire
         * @param direction what clients may do with it
         * @param <T> the item type
         * @return this builder
         * @throws NullPointerException if an argument is {@code null}
         * @throws IllegalArgumentException if {@code name} is empty or already exposed
         */
        public <T> Builder channel(String name, Channel<T> channel, Codec<T> codec, Direction direction) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(channel, "channel");
            Objects.requireNonNull(codec, "codec");
            Objects.requireNonNull(direction, "direction");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("name must not be empty");
            }
            if (exposures.containsKey(name)) {
                throw new IllegalArgumentException("channel name '" + name + "' is already exposed");
            }
            exposures.put(name, new ExposureSpec<>(name, channel, codec, direction));
            return this;
        }

        /**
         * Sets the shared secret clients must present. Without it a random token is generated ({@link #newToken()}).
         *
         * <p>The token must be strong: its estimated strength (length times log2 of the smaller of the size of the
         * character classes it uses and three times its number of distinct characters) must be at least 128 bits.
         * 32 random hex digits or 24 random base64 characters pass; words, names and short strings do not. The
         * estimate cannot see that a long phrase of dictionary words is weak: use random tokens.
         *
         * @param token the secret
         * @return this builder
         * @throws NullPointerException if {@code token} is {@code null}
         * @throws IllegalArgumentException if {@code token} is empty or estimated below 128 bits (the message gives
         *         the estimate and its length, never the token)
         */
        public Builder token(String token) {
            Objects.requireNonNull(token, "token");
            if (token.isEmpty()) {
                throw new IllegalArgumentException("token must not be empty");
            }
            int bits = Tokens.estimatedBits(token);
            if (bits < Tokens.MIN_BITS) {
                throw new IllegalArgumentException("token is too weak: " + token.length() + " characters, about "
                        + bits + " bits estimated, at least " + Tokens.MIN_BITS + " needed (use random tokens, e.g. "
                        + "SluiceServer.newToken(), 'openssl rand -hex 16' or 'openssl rand -base64 24')");
            }
            this.token = token;
            return this;
        }

        /**
         * Sets the largest frame accepted, for items and requests alike.
         *
         * <p>Size it (and the clients' {@link ClientOptions#withMaxFrameSize}) for the largest encoded item. An item
         * too large for a remote consumer's limit (the smaller of this and the client's) goes to the channel's
         * {@code onUndelivered} handler ({@link dev.sluice.UndeliveredReason#REJECTED}) and ends that consumer's
         * stream with a {@link RemoteChannelException} naming the size; the channel and its other consumers go on.
         * Remote producers get the same check before an item leaves the client. A peer that sends a larger frame
         * anyway has its connection closed with an RSocket connection error saying so (logged).
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
         * Sets how many items one remote consumer stream may hold taken out of the channel and not yet
         * acknowledged; demand beyond it waits for acknowledgements (the client acknowledges at once when told the
         * window is half full). Without it each channel's capacity is used (at most 4096).
         *
         * @param items at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code items < 1}
         */
        public Builder consumerWindow(int items) {
            if (items < 1) {
                throw new IllegalArgumentException("consumerWindow must be >= 1 but was " + items);
            }
            this.consumerWindow = items;
            return this;
        }

        /**
         * Sets how many streams (remote producers and consumers together) one connection may have open at once; a
         * stream beyond it is refused with a {@link RemoteChannelException}.
         *
         * @param streams at least 1; default 32
         * @return this builder
         * @throws IllegalArgumentException if {@code streams < 1}
         */
        public Builder maxStreamsPerConnection(int streams) {
            if (streams < 1) {
                throw new IllegalArgumentException("maxStreamsPerConnection must be >= 1 but was " + streams);
            }
            this.maxStreams = streams;
            return this;
        }

        /**
         * Sets how many bytes one connection may have in flight in each direction: items its remote producers were
         * asked for or sent and that no channel has accepted yet (an item asked for counts as a whole frame until it
         * arrives), and items its remote consumers were sent and have not acknowledged. When it is used up, the
         * server asks that connection's producers for nothing more, and sends its consumers nothing more, until
         * bytes are freed. Default: 16 MiB, or four frames if that is more.
         *
         * @param bytes at least {@link #maxFrameSize(int) maxFrameSize} (checked by {@link #bind})
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes < 1024}
         */
        public Builder maxBytesInFlight(long bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxBytesInFlight must be >= 1024 but was " + bytes);
            }
            this.maxBytesInFlight = bytes;
            return this;
        }

        /**
         * Makes the server serve one connection at a time: the first connection whose token is accepted owns every
         * exposed channel until it closes; every other connection is refused at {@code SETUP} ("in use by another
         * connection"). When the owner's connection ends (a {@link SluiceClient#close() normal close}, an expired
         * session, a keepalive timeout, {@link #close()}), its streams end first, then {@code onOwnerClosed} runs,
         * and only then may another connection become the owner.
         *
         * @param onOwnerClosed runs each time an owner's connection has ended, on a transport thread: it must not
         *        block
         * @return this builder
         * @throws NullPointerException if {@code onOwnerClosed} is {@code null}
         */
        public Builder exclusive(Runnable onOwnerClosed) {
            this.onOwnerClosed = Objects.requireNonNull(onOwnerClosed, "onOwnerClosed");
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
         * otherwise they go back to the channel when the session expires. So this is also how long the items held
         * by a client that died stay out of reach, and how long an {@link #exclusive} server stays owned by it.
         * {@link Duration#ZERO} turns resumption off: a broken connection ends its streams and their items go back
         * at once.
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
         * Binds to {@code host} on {@code port} and starts serving. Binding an address other than a loopback one
         * without {@link #tls TLS} logs a warning: the token and the items would cross the network in the clear.
         *
         * @param host the address to listen on, e.g. {@code "127.0.0.1"}
         * @param port the TCP port, 0 for an ephemeral one
         * @return the running server
         * @throws NullPointerException if {@code host} is {@code null}
         * @throws IllegalArgumentException if {@code port} is outside [0, 65535], or
         *         {@link #maxBytesInFlight(long) maxBytesInFlight} is below {@link #maxFrameSize(int) maxFrameSize}
         * @throws RemoteChannelException if binding fails
         */
        public SluiceServer bind(String host, int port) {
            Objects.requireNonNull(host, "host");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be in [0, 65535] but was " + port);
            }
            long inFlight = maxBytesInFlight == 0 ? Math.max(16L << 20, 4L * maxFrameSize) : maxBytesInFlight;
            if (inFlight < maxFrameSize) {
                throw new IllegalArgumentException("maxBytesInFlight (" + inFlight + ") must be >= maxFrameSize ("
                        + maxFrameSize + ")");
            }
            String secret = token == null ? Tokens.newToken() : token;
            byte[] expected = secret.getBytes(StandardCharsets.UTF_8);
            Map<String, Exposure<?>> channels = new LinkedHashMap<>();
            for (ExposureSpec<?> spec : exposures.values()) {
                channels.put(spec.name(), exposure(spec));
            }
            SetupGuard guard = new SetupGuard(expected);
            Served served = new Served(Map.copyOf(channels), producerWindow, maxFrameSize, maxStreams, inFlight,
                    onOwnerClosed != null, onOwnerClosed == null ? () -> { } : onOwnerClosed, guard);

            TcpServer tcp = TcpServer.create().host(host).port(port);
            if (tls != null) {
                SslContext context = tls;
                tcp = tcp.secure(spec -> spec.sslContext(context));
            }
            Transports.BoundServer transport;
            try {
                RSocketServer server = RSocketServer.create((setup, sendingSocket) -> accept(served, expected, setup,
                                sendingSocket))
                        .maxInboundPayloadSize(maxFrameSize)
                        .interceptors(interceptors);
                if (!resumeSession.isZero()) {
                    server = server.resume(Resumption.of(resumeSession, maxFrameSize, false));
                }
                transport = server.bind(Transports.server(tcp, maxFrameSize, guard)).block(Duration.ofSeconds(30));
            } catch (RuntimeException e) {
                throw new RemoteChannelException("cannot bind " + host + ":" + port + ": " + e.getMessage(), e);
            }
            SluiceServer bound = new SluiceServer(Objects.requireNonNull(transport, "transport"), host, secret,
                    served);
            warnIfPlainText(host, tls != null, bound.toString());
            return bound;
        }

        private <T> Exposure<T> exposure(ExposureSpec<T> spec) {
            int window = consumerWindow > 0 ? consumerWindow : Math.min(4096, spec.channel().stats().capacity());
            return new Exposure<>(spec.name(), spec.channel(), spec.codec(), spec.direction(), Math.max(1, window));
        }

        private static Mono<RSocket> accept(Served served, byte[] expected, ConnectionSetupPayload setup,
                RSocket sendingSocket) {
            byte[] presented = Wire.data(setup);
            String refusal = null;
            ServerHandler handler = null;
            if (!MessageDigest.isEqual(expected, presented)) {
                refusal = presented.length == 0 ? "missing token" : "invalid token"; // logged by the setup guard
            } else if (setup.keepAliveMaxLifetime() > MAX_KEEPALIVE_LIFETIME_MILLIS) {
                refusal = "keepalive timeout of " + setup.keepAliveMaxLifetime() + " ms asked for, at most "
                        + MAX_KEEPALIVE_LIFETIME_MILLIS + " ms allowed";
            } else {
                handler = new ServerHandler(served, sendingSocket);
                if (served.exclusive && !served.owner.compareAndSet(null, handler)) {
                    refusal = "the server is in use by another connection (it serves one connection at a time)";
                    handler = null;
                }
            }
            if (refusal != null) {
                String reason = refusal;
                if (!reason.endsWith("token")) {
                    Log.log(Log.Kind.AUTH, System.Logger.Level.WARNING, () -> "refused a SETUP: " + reason);
                }
                if (setup.isResumeEnabled()) {
                    // RSocket 1.1.5 keeps a resumable session whose SETUP was rejected, and the client resumes into
                    // it instead of seeing REJECTED_SETUP: accept the session with a handler that refuses every
                    // request, and end it shortly
                    return Mono.<RSocket>just(Refusing.refuse(reason, sendingSocket));
                }
                return Mono.error(new RejectedSetupException(reason));
            }
            ServerHandler accepted = handler;
            served.handlers.add(accepted);
            sendingSocket.onClose().doFinally(s -> accepted.connectionClosed()).subscribe(v -> { }, e -> {
                if (!isPlainClose(e)) {
                    Log.log(Log.Kind.CLOSED, System.Logger.Level.INFO, () -> "connection closed for cause: " + e);
                }
            });
            return Mono.<RSocket>just(accepted);
        }

        static void warnIfPlainText(String host, boolean tls, String server) {
            if (!tls && !isLoopback(host)) {
                Log.log(Log.Kind.CONFIG, System.Logger.Level.WARNING, () -> server + " listens on a non-loopback "
                        + "address without TLS: the token and every item cross the network in the clear (give it "
                        + "tls(SslContext))");
            }
        }

        /* a dispose at either end, or the peer closing: not worth a log line */
        private static boolean isPlainClose(Throwable e) {
            return e instanceof java.nio.channels.ClosedChannelException
                    || (e instanceof io.rsocket.exceptions.ConnectionErrorException && "Disposed".equals(e.getMessage()))
                    || e instanceof io.rsocket.exceptions.ConnectionCloseException;
        }

        static boolean isLoopback(String host) {
            try {
                return InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
    }
}
