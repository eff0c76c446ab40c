package dev.sluice.rsocket;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * The first inbound payload names the channel (it must allow sending, and the connection must have a free stream
 * slot); every later one is an item. The session keeps at most `window` items in flight: each is handed to
 * channel.sendAsync, so it waits in the channel's one FIFO of senders exactly like a local sender blocked in send
 * (same capacity, same admission order; one producer's items are offered in arrival order, so they are accepted in that
 * order). Only when a sendAsync completes does the session ask the client for more (requests pass through one
 * serializing counter, rule 2.7): the client's REQUEST_N therefore follows the channel's free capacity.
 *
 * Bytes. Each item asked for reserves a whole frame's worth (the largest item it could be) of the connection's
 * inbound budget; when it arrives the reservation shrinks to its real size, which is held until the channel accepts
 * the item (or it is withdrawn). When the budget is used up the session asks for nothing more and retries when bytes
 * are freed. So one connection, whatever its number of streams, holds at most maxBytesInFlight bytes of items that no
 * channel has accepted yet.
 *
 * Acknowledgements go back on the response stream as the cumulative count of accepted items, at least every
 * window/2 items and whenever nothing is pending, so the client can tell which items the server has.
 *
 * Lock. `lock` guards the counters (pending, asked, accepted, acknowledged) and the end flags, and every emission on
 * the response sink, so that "the last pending send was accepted" and "the inbound completed" are decided together:
 * the final count always includes every accepted item. Budget releases happen after unlocking (they run other
 * sessions' retries, which take their own locks).
 *
 * End. Inbound complete: once every pending send has been accepted, the final count is sent and the response
 * completes; the channel stays open (the server owner closes it). Inbound error (connection broken), response
 * cancelled or the connection ended: pending sends are withdrawn (cancel before acceptance never enqueues). A send
 * refused because the channel closed, or an item the codec cannot decode, ends this stream with an error; the channel
 * is untouched.
 */
final class ProducerSession<T> implements Subscriber<Payload> {

    private final Map<String, Exposure<?>> exposures;
    private final ServerHandler connection;
    private final int window;
    private final int reservation; // bytes reserved per item asked for and not arrived: the largest a frame carries
    private final Sinks.Many<Payload> acks = Sinks.many().unicast().onBackpressureBuffer();
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();
    private final Runnable retry = this::requestMore;
    private final AtomicBoolean released = new AtomicBoolean(); // stream slot and registration given back

    private Exposure<T> exposure; // set by the first payload, then read-only
    private volatile boolean routed; // the first payload was accepted: the stream holds a slot
    private volatile Subscription upstream;
    /* requests not yet passed upstream; the thread that moves it from 0 passes them all (rule 2.7: serial calls) */
    private final AtomicLong toRequest = new AtomicLong();
    private long received; // event-loop only (onNext)
    private int pendingCount; // guarded by lock
    private long asked; // guarded by lock: items asked for (and reserved) that have not arrived
    private long accepted; // guarded by lock
    private long acknowledged; // guarded by lock
    private boolean inboundDone; // guarded by lock
    private boolean ended; // guarded by lock

    ProducerSession(Map<String, Exposure<?>> exposures, ServerHandler connection, int window) {
        this.exposures = exposures;
        this.connection = connection;
        this.window = window;
        this.reservation = connection.maxFrameSize();
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
                route(p);
                return;
            }
            received++;
            int size = p.getData().remaining();
            long unreserve;
            lock.lock();
            try {
                if (ended) {
                    return; // already in flight when the stream ended; the client reports it unconfirmed
                }
                if (asked <= 0) {
                    unreserve = -1;
                } else {
                    asked--;
                    pendingCount++;
                    unreserve = reservation - size;
                }
            } finally {
                lock.unlock();
            }
            if (unreserve < 0) {
                fail("channel '" + exposure.name + "': item " + received + " was sent without being asked for", null);
                return;
            }
            connection.inbound.release(unreserve); // keeps `size` until the item is accepted or withdrawn
            T item;
            try {
                item = exposure.codec.decode(Wire.data(p));
                if (item == null) {
                    throw new IllegalArgumentException("codec returned null");
                }
            } catch (RuntimeException e) {
                settled(size, false);
                String message = "channel '" + exposure.name + "': item " + received + " cannot be decoded by "
                        + exposure.codec + ": " + e.getMessage();
                Log.log(Log.Kind.CODEC, System.Logger.Level.WARNING, () -> message + "; the producer stream ends");
                fail(message, e);
                return;
            }
            CompletableFuture<Void> f = exposure.channel.sendAsync(item);
            pending.add(f);
            f.whenComplete((v, err) -> {
                pending.remove(f);
                if (settled(size, err == null) && err != null && !f.isCancelled()) {
                    fail("channel '" + exposure.name + "' refused an item: " + err, err);
                }
            });
        } finally {
            p.release();
        }
    }

    @SuppressWarnings("unchecked")
    private void route(Payload p) {
        String name = Wire.op(p) == Wire.SEND ? Wire.channel(p) : null;
        Exposure<?> e = name == null ? null : exposures.get(name);
        String refusal;
        if (e == null) {
            refusal = name == null ? "the first payload of a send stream must name a channel"
                    : "unknown channel '" + name + "'";
        } else if (!e.allowsSend()) {
            refusal = "channel '" + name + "' is receive-only: it cannot be sent into";
        } else {
            String noSlot = connection.takeStreamSlot();
            refusal = noSlot == null ? null : "channel '" + name + "': " + noSlot;
        }
        if (refusal != null) {
            fail(ServerHandler.refused(refusal));
            return;
        }
        exposure = (Exposure<T>) e;
        routed = true;
        if (!connection.register(this)) {
            abort(); // the connection is ending
            return;
        }
        requestMore();
    }

    /*
     * A pending send was accepted (or not): counts it, acknowledges, finishes if it was the last one. Returns false
     * if the stream had ended already.
     */
    private boolean settled(int size, boolean wasAccepted) {
        boolean live;
        lock.lock();
        try {
            pendingCount--;
            live = !ended;
            if (live && wasAccepted) {
                accepted++;
                boolean idle = pendingCount == 0;
                if (accepted - acknowledged >= Math.max(1, window / 2) || idle) {
                    acknowledged = accepted;
                    acks.tryEmitNext(Wire.accepted(accepted));
                }
            }
        } finally {
            lock.unlock();
        }
        connection.inbound.release(size);
        if (live && wasAccepted) {
            if (!finishIfDone()) {
                requestMore();
            }
        }
        return live;
    }

    /* Asks the client for as many items as the window and the connection's budget allow. */
    private void requestMore() {
        long n = 0;
        boolean wait = false;
        lock.lock();
        try {
            if (ended || inboundDone || !routed) {
                return;
            }
            long room = window - pendingCount - asked;
            while (n < room && connection.inbound.tryAcquire(reservation)) {
                n++;
            }
            asked += n;
            wait = n == 0 && room > 0;
        } finally {
            lock.unlock();
        }
        if (n > 0) {
            request(n);
        } else if (wait) {
            connection.inbound.whenFreed(retry, reservation);
        }
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
        lock.lock();
        try {
            inboundDone = true;
        } finally {
            lock.unlock();
        }
        finishIfDone();
    }

    /* Completes the response once the inbound is done and nothing is pending; true if the stream has ended. */
    private boolean finishIfDone() {
        long unreserve;
        lock.lock();
        try {
            if (ended) {
                return true;
            }
            if (!inboundDone || pendingCount != 0) {
                return false;
            }
            ended = true;
            if (accepted != acknowledged) {
                acknowledged = accepted;
                acks.tryEmitNext(Wire.accepted(accepted));
            }
            acks.tryEmitComplete();
            unreserve = asked * reservation;
            asked = 0;
        } finally {
            lock.unlock();
        }
        end(unreserve);
        return true;
    }

    private void fail(String message, Throwable cause) {
        fail(new RemoteChannelException(message, cause));
    }

    private void fail(RemoteChannelException error) {
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
        long unreserve;
        lock.lock();
        try {
            if (ended) {
                return;
            }
            ended = true;
            if (accepted != acknowledged) {
                acknowledged = accepted;
                acks.tryEmitNext(Wire.accepted(accepted));
            }
            acks.tryEmitError(error);
            unreserve = asked * reservation;
            asked = 0;
        } finally {
            lock.unlock();
        }
        withdrawPending();
        end(unreserve);
    }

    /* The client cancelled, the connection broke or ended: withdraw what is pending, quietly. */
    void abort() {
        Subscription s = upstream;
        if (s != null) {
            s.cancel();
        }
        long unreserve;
        lock.lock();
        try {
            boolean wasEnded = ended;
            ended = true;
            unreserve = asked * reservation;
            asked = 0;
            if (!wasEnded) {
                acks.tryEmitComplete(); // nobody may be listening any more; a no-op if the response was cancelled
            }
        } finally {
            lock.unlock();
        }
        withdrawPending();
        end(unreserve);
    }

    private void withdrawPending() {
        for (CompletableFuture<Void> f : pending) {
            f.cancel(false); // its completion (cancelled) gives its bytes back through settled()
        }
    }

    private void end(long unreserve) {
        connection.inbound.forget(retry);
        connection.inbound.release(unreserve);
        if (routed && released.compareAndSet(false, true)) {
            connection.unregister(this);
            connection.releaseStreamSlot();
        }
    }

    /** For tests: the final state of the counters, as the client would see them. */
    long acceptedCount() {
        lock.lock();
        try {
            return accepted;
        } finally {
            lock.unlock();
        }
    }
}
