package dev.sluice.rsocket;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

import io.netty.handler.ssl.SslContext;
import io.rsocket.plugins.InterceptorRegistry;

/**
 * Immutable connection options for {@link SluiceClient#connect}: the token, TLS, limits and acknowledgement batching.
 * Each {@code with...} method returns a copy.
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.token(secret).withAckBatch(128);
 * }</pre>
 */
public final class ClientOptions {

    /** How long a broken connection may take to resume unless {@link #withResumeSession} says otherwise. */
    static final Duration DEFAULT_RESUME_SESSION = Duration.ofSeconds(15);

    private final String token;
    private final SslContext tls;
    private final int maxFrameSize;
    private final int ackBatch;
    private final Duration connectTimeout;
    private final Duration resumeSession;
    final Consumer<InterceptorRegistry> interceptors; // tests count and cut frames with it

    private ClientOptions(String token, SslContext tls, int maxFrameSize, int ackBatch, Duration connectTimeout,
            Duration resumeSession, Consumer<InterceptorRegistry> interceptors) {
        this.token = token;
        this.tls = tls;
        this.maxFrameSize = maxFrameSize;
        this.ackBatch = ackBatch;
        this.connectTimeout = connectTimeout;
        this.resumeSession = resumeSession;
        this.interceptors = interceptors;
    }

    /**
     * Options presenting {@code token}, without TLS, frames up to 1 MiB, acks every 64 items, 10 s connect timeout,
     * and session resumption for disconnects of up to 15 seconds.
     *
     * @param token the server's shared secret
     * @return the options
     * @throws NullPointerException if {@code token} is {@code null}
     */
    public static ClientOptions token(String token) {
        Objects.requireNonNull(token, "token");
        return new ClientOptions(token, null, 1 << 20, 64, Duration.ofSeconds(10), DEFAULT_RESUME_SESSION, r -> { });
    }

    /**
     * Connects with TLS, verifying the server with this client context.
     *
     * @param context a client-side Netty SSL context (e.g. {@code SslContextBuilder.forClient().trustManager(cert)})
     * @return a copy with TLS
     * @throws NullPointerException if {@code context} is {@code null}
     * @throws IllegalArgumentException if {@code context} is a server context
     */
    public ClientOptions withTls(SslContext context) {
        Objects.requireNonNull(context, "context");
        if (!context.isClient()) {
            throw new IllegalArgumentException("withTls needs a client SslContext but was a server one");
        }
        return new ClientOptions(token, context, maxFrameSize, ackBatch, connectTimeout, resumeSession, interceptors);
    }

    /**
     * Sets the largest frame accepted from the server.
     *
     * @param bytes in [1024, 16777215]; default 1 MiB
     * @return a copy with the limit
     * @throws IllegalArgumentException if {@code bytes} is out of range
     */
    public ClientOptions withMaxFrameSize(int bytes) {
        if (bytes < 1024 || bytes > 0xFF_FFFF) {
            throw new IllegalArgumentException("maxFrameSize must be in [1024, 16777215] but was " + bytes);
        }
        return new ClientOptions(token, tls, bytes, ackBatch, connectTimeout, resumeSession, interceptors);
    }

    /**
     * Sets after how many received items an acknowledgement is sent at once; fewer are acknowledged within about 10
     * milliseconds anyway. Larger batches mean fewer frames and more redeliveries after a broken connection.
     *
     * @param items at least 1; default 64
     * @return a copy with the batch size
     * @throws IllegalArgumentException if {@code items < 1}
     */
    public ClientOptions withAckBatch(int items) {
        if (items < 1) {
            throw new IllegalArgumentException("ackBatch must be >= 1 but was " + items);
        }
        return new ClientOptions(token, tls, maxFrameSize, items, connectTimeout, resumeSession, interceptors);
    }

    /**
     * Sets how long {@link SluiceClient#connect} waits for the connection and the token check.
     *
     * @param timeout positive
     * @return a copy with the timeout
     * @throws NullPointerException if {@code timeout} is {@code null}
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public ClientOptions withConnectTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive but was " + timeout);
        }
        return new ClientOptions(token, tls, maxFrameSize, ackBatch, timeout, resumeSession, interceptors);
    }

    /**
     * Sets how long a broken connection may stay broken and still be <em>resumed</em> (RSocket session resumption):
     * the client reconnects, both sides replay the frames the other missed, and every stream goes on as if nothing
     * happened, so nothing is redelivered. Only after this long (or if the server no longer knows the session) do the
     * streams fail: receivers then end with a {@link RemoteChannelException} and the server redelivers what they had
     * not acknowledged. {@link Duration#ZERO} turns resumption off: a broken connection fails the streams at once.
     * The server must allow resumption too ({@link SluiceServer.Builder#resumeSession}).
     *
     * @param session zero (off) or positive; default 15 seconds
     * @return a copy with the resumption window
     * @throws NullPointerException if {@code session} is {@code null}
     * @throws IllegalArgumentException if {@code session} is negative
     */
    public ClientOptions withResumeSession(Duration session) {
        Objects.requireNonNull(session, "session");
        if (session.isNegative()) {
            throw new IllegalArgumentException("resumeSession must be zero or positive but was " + session);
        }
        return new ClientOptions(token, tls, maxFrameSize, ackBatch, connectTimeout, session, interceptors);
    }

    ClientOptions withInterceptors(Consumer<InterceptorRegistry> registry) {
        return new ClientOptions(token, tls, maxFrameSize, ackBatch, connectTimeout, resumeSession, registry);
    }

    String token() {
        return token;
    }

    SslContext tls() {
        return tls;
    }

    int maxFrameSize() {
        return maxFrameSize;
    }

    int ackBatch() {
        return ackBatch;
    }

    Duration connectTimeout() {
        return connectTimeout;
    }

    Duration resumeSession() {
        return resumeSession;
    }

    @Override
    public String toString() {
        return "ClientOptions[tls=" + (tls != null) + ", maxFrameSize=" + maxFrameSize + ", ackBatch=" + ackBatch
                + ", connectTimeout=" + connectTimeout + ", resumeSession=" + resumeSession + "]"; // never the token
    }
}
