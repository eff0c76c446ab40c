package dev.sluice.rsocket;

import java.time.Duration;

import org.reactivestreams.Publisher;

import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.exceptions.RejectedException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/*
 * The responder of a connection whose token was wrong or missing, when the client asked for a resumable session (see
 * SluiceServer.Builder#bind): every request is refused with the reason, no channel is looked at, and the session is
 * closed after REFUSED_SESSION_LIFETIME at the latest (the client closes it itself as soon as its HELLO is refused).
 */
final class Refusing implements RSocket {

    static final Duration REFUSED_SESSION_LIFETIME = Duration.ofSeconds(5);

    private final String reason;

    private Refusing(String reason) {
        this.reason = reason;
    }

    static RSocket refuse(String reason, RSocket sendingSocket) {
        Mono.delay(REFUSED_SESSION_LIFETIME).subscribe(x -> sendingSocket.dispose());
        return new Refusing(reason);
    }

    private RejectedException refused() {
        return new RejectedException(reason);
    }

    @Override
    public Mono<Payload> requestResponse(Payload p) {
        p.release();
        return Mono.error(refused());
    }

    @Override
    public Flux<Payload> requestStream(Payload p) {
        p.release();
        return Flux.error(refused());
    }

    @Override
    public Mono<Void> fireAndForget(Payload p) {
        p.release();
        return Mono.empty();
    }

    @Override
    public Flux<Payload> requestChannel(Publisher<Payload> payloads) {
        return Flux.error(refused());
    }
}
