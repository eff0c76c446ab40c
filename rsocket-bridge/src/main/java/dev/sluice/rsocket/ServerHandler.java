package dev.sluice.rsocket;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.reactivestreams.Publisher;

import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/*
 * The responder of one accepted connection (after the token check), and everything the server keeps per connection.
 *
 * Streams. Consumer streams are kept by the id the client chose, so that ACKs find their ledger; producer sessions in
 * a set. Together they are at most served.maxStreams: a stream beyond that is refused. Each stream gives its slot back
 * when it ends (onEnd).
 *
 * Budgets. `inbound` bounds the bytes this connection's producers may have on their way into channels, `outbound`
 * the bytes its consumers were sent and have not acknowledged (see Budget, ProducerSession, ConsumerStream).
 *
 * End. When the connection ends (the RSocket session closed: broken and not resumed, keepalive timeout, the server
 * closed) or the client says BYE (a normal close), every stream is ended here as well: consumer streams give their
 * un-acknowledged items back to the channel, producer sessions withdraw their pending sends. Then, on an exclusive
 * server, the ownership is given up (Served.ended). A BYE also disposes the session soon after the answer, so that a
 * normal close does not leave a session waiting to be resumed.
 */
final class ServerHandler implements RSocket {

    /** How long after answering a BYE the session is disposed (the client closes its end at once anyway). */
    static final Duration BYE_LINGER = Duration.ofMillis(500);

    private final SluiceServer.Served served;
    private final RSocket sendingSocket;
    private final Map<Long, ConsumerStream<?>> consumers = new ConcurrentHashMap<>();
    private final Set<ProducerSession<?>> producers = ConcurrentHashMap.newKeySet();
    private final AtomicInteger streams = new AtomicInteger();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean closing;
    final Budget inbound;
    final Budget outbound;
    /* the smaller of ours and the client's (from its HELLO): no item frame larger than this is sent to it */
    private volatile int sendFrameSize;

    ServerHandler(SluiceServer.Served served, RSocket sendingSocket) {
        this.served = served;
        this.sendingSocket = sendingSocket;
        this.inbound = new Budget(served.maxBytesInFlight);
        this.outbound = new Budget(served.maxBytesInFlight);
        this.sendFrameSize = served.maxFrameSize;
    }

    int maxFrameSize() {
        return served.maxFrameSize;
    }

    /** For tests: open streams of this connection. */
    int openStreams() {
        return streams.get();
    }

    @Override
    public Mono<Payload> requestResponse(Payload p) {
        try {
            byte op = Wire.op(p);
            if (op == Wire.HELLO) {
                sendFrameSize = Math.min(served.maxFrameSize, Wire.announcedFrameSize(p, served.maxFrameSize));
                return Mono.just(Wire.helloReply(served.maxFrameSize));
            }
            if (op == Wire.BYE) {
                closing = true;
                endStreams();
                Mono.delay(BYE_LINGER).subscribe(x -> sendingSocket.dispose());
                return Mono.just(DefaultPayload.create(new byte[0]));
            }
            return Mono.error(refused("unknown request (op " + op + ")"));
        } finally {
            p.release();
        }
    }

    @Override
    public Flux<Payload> requestStream(Payload p) {
        try {
            if (Wire.op(p) != Wire.RECEIVE) {
                return Flux.error(refused("a stream request must be a receive"));
            }
            String name = Wire.channel(p);
            Exposure<?> exposure = served.exposures.get(name);
            if (exposure == null) {
                return Flux.error(refused("unknown channel '" + name + "'"));
            }
            if (!exposure.allowsReceive()) {
                return Flux.error(refused("channel '" + name + "' is send-only: it cannot be received from"));
            }
            long id = Wire.longAt(p, 0);
            return open(exposure, id);
        } catch (RuntimeException e) {
            return Flux.error(refused("malformed receive request: " + e.getMessage()));
        } finally {
            p.release();
        }
    }

    private <T> Flux<Payload> open(Exposure<T> exposure, long id) {
        return Flux.defer(() -> {
            String refusal = takeStreamSlot();
            if (refusal != null) {
                return Flux.error(refused("channel '" + exposure.name + "': " + refusal));
            }
            ConsumerStream<T> stream = new ConsumerStream<>(exposure, this, () -> {
                consumers.remove(id);
                streams.decrementAndGet();
            }, sendFrameSize);
            if (consumers.putIfAbsent(id, stream) != null) {
                streams.decrementAndGet();
                return Flux.error(refused("consumer id " + id + " already in use"));
            }
            if (closing) {
                stream.cancel(); // a BYE or the end of the connection raced with this request
            }
            return Flux.from(stream);
        });
    }

    /* null if a stream may open (and its slot is taken), else why not */
    String takeStreamSlot() {
        if (closing) {
            return "the connection is closing";
        }
        int n = streams.incrementAndGet();
        if (n > served.maxStreams) {
            streams.decrementAndGet();
            return "too many streams on this connection (at most " + served.maxStreams + ")";
        }
        return null;
    }

    void releaseStreamSlot() {
        streams.decrementAndGet();
    }

    @Override
    public Mono<Void> fireAndForget(Payload p) {
        try {
            if (Wire.op(p) == Wire.ACK) {
                ConsumerStream<?> stream = consumers.get(Wire.longAt(p, 0));
                if (stream != null) {
                    stream.ack(Wire.longAt(p, 8));
                }
            }
            return Mono.empty();
        } catch (RuntimeException e) {
            return Mono.empty(); // a malformed ack is ignored: the items go back to the channel, nothing is lost
        } finally {
            p.release();
        }
    }

    @Override
    public Flux<Payload> requestChannel(Publisher<Payload> payloads) {
        ProducerSession<?> session = new ProducerSession<>(served.exposures, this, served.producerWindow);
        return session.start(payloads);
    }

    /* called by a producer session once it knows its channel and holds a stream slot */
    boolean register(ProducerSession<?> session) {
        producers.add(session);
        if (closing) {
            producers.remove(session);
            return false;
        }
        return true;
    }

    void unregister(ProducerSession<?> session) {
        producers.remove(session);
    }

    /* A refused stream: logged (rate-limited), then the error for the client. */
    static RemoteChannelException refused(String reason) {
        Log.log(Log.Kind.REFUSED, System.Logger.Level.WARNING, () -> "refused a stream: " + reason);
        return new RemoteChannelException(reason, null);
    }

    /* The RSocket session of this connection has ended. */
    void connectionClosed() {
        closing = true;
        endStreams();
    }

    /* SluiceServer.close(): end the streams and the session now. */
    void close() {
        closing = true;
        endStreams();
        sendingSocket.dispose();
    }

    private void endStreams() {
        for (ConsumerStream<?> stream : consumers.values()) {
            stream.cancel();
        }
        for (ProducerSession<?> session : producers) {
            session.abort();
        }
        if (ended.compareAndSet(false, true)) {
            served.ended(this);
        }
    }
}
