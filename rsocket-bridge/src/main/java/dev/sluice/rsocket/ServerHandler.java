package dev.sluice.rsocket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.reactivestreams.Publisher;

import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/*
 * The responder of one accepted connection (after the token check). Holds this connection's consumer streams by
 * the id the client chose, so that ACKs find their ledger; when the connection closes every stream is cancelled
 * (RSocket does that too; doing it here as well costs nothing and does not depend on it).
 */
final class ServerHandler implements RSocket {

    private final Map<String, Exposure<?>> exposures;
    private final int producerWindow;
    private final Map<Long, ConsumerStream<?>> consumers = new ConcurrentHashMap<>();
    private final int maxFrameSize;
    /* the smaller of ours and the client's (from its HELLO): no item frame larger than this is sent to it */
    private volatile int sendFrameSize;

    ServerHandler(Map<String, Exposure<?>> exposures, int producerWindow, int maxFrameSize) {
        this.exposures = exposures;
        this.producerWindow = producerWindow;
        this.maxFrameSize = maxFrameSize;
        this.sendFrameSize = maxFrameSize;
    }

    @Override
    public Mono<Payload> requestResponse(Payload p) {
        try {
            if (Wire.op(p) == Wire.HELLO) {
                sendFrameSize = Math.min(maxFrameSize, Wire.announcedFrameSize(p, maxFrameSize));
                return Mono.just(Wire.helloReply(maxFrameSize));
            }
            return Mono.error(new RemoteChannelException("unknown request", null));
        } finally {
            p.release();
        }
    }

    @Override
    public Flux<Payload> requestStream(Payload p) {
        try {
            if (Wire.op(p) != Wire.RECEIVE) {
                return Flux.error(new RemoteChannelException("a stream request must be a receive", null));
            }
            String name = Wire.channel(p);
            Exposure<?> exposure = exposures.get(name);
            if (exposure == null) {
                return Flux.error(new RemoteChannelException("unknown channel '" + name + "'", null));
            }
            long id = Wire.longAt(p, 0);
            return open(exposure, id);
        } catch (RuntimeException e) {
            return Flux.error(new RemoteChannelException("malformed receive request: " + e.getMessage(), e));
        } finally {
            p.release();
        }
    }

    private <T> Flux<Payload> open(Exposure<T> exposure, long id) {
        return Flux.defer(() -> {
            ConsumerStream<T> stream = new ConsumerStream<>(exposure, () -> consumers.remove(id), sendFrameSize);
            if (consumers.putIfAbsent(id, stream) != null) {
                return Flux.error(new RemoteChannelException("consumer id " + id + " already in use", null));
            }
            return Flux.from(stream);
        });
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
            return Mono.empty(); // a malformed ack is ignored: the items are redelivered, nothing is lost
        } finally {
            p.release();
        }
    }

    @Override
    public Flux<Payload> requestChannel(Publisher<Payload> payloads) {
        return new ProducerSession<>(exposures, producerWindow).start(payloads);
    }

    void connectionClosed() {
        for (ConsumerStream<?> stream : consumers.values()) {
            stream.cancel();
        }
    }
}
