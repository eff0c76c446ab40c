package dev.sluice.rsocket;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import io.rsocket.Payload;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/*
 * The server side of one remote producer (one REQUEST_CHANNEL).
 *
 * Overview of implementation
 *
 * The first inbound payload names the channel; every later one is an item. The session keeps at most `window` items
 * in flight: each is handed to channel.sendAsync, so it waits in the channel's one FIFO of senders exactly like a local
 * sender blocked in send (same capacity, same admission order; one producer's items are offered in arrival order, so
 * they are accepted in that order). Only when a sendAsync completes does the session request(1) more from the client (requests
 * pass through one serializing counter, rule 2.7):
 * the client's REQUEST_N therefore follows the channel's free capacity.
 *
 * Acknowledgements go back on the response stream as the cumulative count of accepted items, at least every
 * window/2 items and whenever nothing is pending, so the client can tell which items the server has.
 *
 * End. Inbound complete: once every pending send has been accepted, the final count is sent and the response
 * completes; the channel stays open (the server owner closes it). Inbound error (connection broken) or response
 * cancelled: pending sends are withdrawn (cancel before acceptance never enqueues). A send refused because the channel
 * closed, or an item the codec cannot decode, ends this stream with an error; the channel is untouched.
 */
final class ProducerSession<T> implements Subscriber<Payload> {

    private final Map<String, Exposure<?>> exposures;
    private final int window;
    private final Sinks.Many<Payload> acks = Sinks.many().unicast().onBackpressureBuffer();
    private final ReentrantLock emitLock = new ReentrantLock();
    private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();

    private Exposure<T> exposure; // set by the first payload, then read-only
    private volatile Subscription upstream;
    /* requests not yet passed upstream; the thread that moves it from 0 passes them all (rule 2.7: serial calls) */
    private final AtomicLong toRequest = new AtomicLong();
    private long received; // event-loop only (onNext)
    private long accepted; // guarded by emitLock
    private long acknowledged; // guarded by emitLock
    private boolean inboundDone; // guarded by emitLock
    private boolean ended; // guarded by emitLock

    ProducerSession(Map<String, Exposure<?>> exposures, int window) {
        this.exposures = exposures;
        this.window = window;
    }

    Flux<Payload> start(Publisher<Payload> inbound) {
        return acks.asFlux()
                .doOnSubscribe(s -> inbound.subscribe(this))
                .doOnCancel(this::abort);
    }

    @Override
    public void onSubscribe(Subscription s) {
        upstream = s;
        request(1); // the route
    }

    @Override
    @SuppressWarnings("unchecked")
    public void onNext(Payload p) {
        try {
            if (exposure == null) {
                String name = Wire.op(p) == Wire.SEND ? Wire.channel(p) : null;
                Exposure<?> e = name == null ? null : exposures.get(name);
                if (e == null) {
                    fail(name == null ? "the first payload of a send stream must name a channel"
                            : "unknown channel '" + name + "'", null);
                    return;
                }
                exposure = (Exposure<T>) e;
                request(window);
                return;
            }
            received++;
            T item;
            try {
                item = exposure.codec.decode(Wire.data(p));
                if (item == null) {
                    throw new IllegalArgumentException("codec returned null");
                }
            } catch (RuntimeException e) {
                fail("channel '" + exposure.name + "': item " + received + " cannot be decoded by "
                        + exposure.codec + ": " + e.getMessage(), e);
                return;
            }
            CompletableFuture<Void> f = exposure.channel.sendAsync(item);
            pending.add(f);
            f.whenComplete((v, err) -> {
                pending.remove(f);
                if (err == null) {
                    onAccepted();
                } else if (!f.isCancelled()) {
                    fail("channel '" + exposure.name + "' refused an item: " + err, err);
                }
            });
        } finally {
            p.release();
        }
    }

    private void onAccepted() {
        emitLock.lock();
        try {
            if (ended) {
                return;
            }
            accepted++;
            boolean idle = pending.isEmpty();
            if (accepted - acknowledged >= Math.max(1, window / 2) || idle) {
                acknowledged = accepted;
                acks.tryEmitNext(Wire.accepted(accepted));
            }
            if (inboundDone && idle) {
                finish();
            }
        } finally {
            emitLock.unlock();
        }
        request(1);
    }

    /*
     * sendAsync completions run on whichever thread freed a slot, so several may want to request at once; Reactive
     * Streams rule 2.7 wants request calls serial (RSocket 1.1.5's responder counts requests in a plain field and
     * fails the stream with "The number of messages received exceeds the number requested" when two race).
     */
    private void request(long n) {
        if (toRequest.getAndAdd(n) != 0) {
            return;
        }
        long r = n;
        for (;;) {
            Subscription s = upstream;
            if (s != null) {
                s.request(r);
            }
            r = toRequest.addAndGet(-r);
            if (r == 0) {
                return;
            }
        }
    }

    @Override
    public void onError(Throwable t) {
        abort();
    }

    @Override
    public void onComplete() {
        emitLock.lock();
        try {
            inboundDone = true;
            if (pending.isEmpty() && !ended) {
                finish();
            }
        } finally {
            emitLock.unlock();
        }
    }

    /* under emitLock */
    private void finish() {
        ended = true;
        if (accepted != acknowledged) {
            acknowledged = accepted;
            acks.tryEmitNext(Wire.accepted(accepted));
        }
        acks.tryEmitComplete();
    }

    private void fail(String message, Throwable cause) {
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
        withdrawPending();
        emitLock.lock();
        try {
            if (ended) {
                return;
            }
            ended = true;
            if (accepted != acknowledged) {
                acknowledged = accepted;
                acks.tryEmitNext(Wire.accepted(accepted));
            }
            acks.tryEmitError(new RemoteChannelException(message, cause));
        } finally {
            emitLock.unlock();
        }
    }

    private void abort() {
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
        emitLock.lock();
        try {
            ended = true;
        } finally {
            emitLock.unlock();
        }
        withdrawPending();
    }

    private void withdrawPending() {
        for (CompletableFuture<Void> f : pending) {
            f.cancel(false);
        }
    }
}
