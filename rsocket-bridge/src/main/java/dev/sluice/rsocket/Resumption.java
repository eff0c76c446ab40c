package dev.sluice.rsocket;

import java.time.Duration;

import io.rsocket.core.Resume;
import io.rsocket.resume.InMemoryResumableFramesStore;
import reactor.util.retry.Retry;

/*
 * RSocket session resumption, configured the same way on both ends.
 *
 * Each end keeps the frames it sent in an in-memory store until the other end confirms their position in a KEEPALIVE
 * frame (cleanupStoreOnKeepAlive; the client sends one every KEEPALIVE_INTERVAL and the server answers). After a broken
 * connection the client reconnects and sends RESUME with its positions; each end replays what the other missed, and
 * the streams (and so the ack ledger of every consumer stream) go on untouched: nothing is redelivered. If a store has
 * already dropped frames the other end needs (it is bounded), or the session is older than its duration, the server
 * rejects the RESUME, the session ends, and the usual path runs: the server's streams are cancelled and their
 * un-acknowledged items are redelivered; the client's receivers fail after draining what they hold.
 */
final class Resumption {

    /** How often the client sends KEEPALIVE (which also confirms received positions). */
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(1);
    /**
     * A connection silent for this long is considered broken (and resumed if resumption is on), on both ends: the
     * server uses what the client's SETUP says.
     */
    static final Duration KEEPALIVE_MAX_LIFETIME = Duration.ofSeconds(10);

    private Resumption() {
    }

    /**
     * The Resume settings of one end.
     *
     * @param session how long a broken session is kept (server) or retried (client)
     * @param maxFrameSize the frame limit: the store holds at least two frames of that size, and at least 4 MiB
     * @param client whether this is the client's end (which reconnects)
     */
    static Resume of(Duration session, int maxFrameSize, boolean client) {
        int storeBytes = Math.max(4 << 20, 2 * maxFrameSize);
        String tag = client ? "sluice-client" : "sluice-server";
        Resume resume = new Resume()
                .sessionDuration(session)
                .cleanupStoreOnKeepAlive()
                .storeFactory(token -> new InMemoryResumableFramesStore(tag, token, storeBytes));
        if (client) {
            resume = resume.retry(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(50))
                    .maxBackoff(Duration.ofSeconds(1)));
        }
        return resume;
    }
}
