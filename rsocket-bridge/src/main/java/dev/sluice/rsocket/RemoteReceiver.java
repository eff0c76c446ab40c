package dev.sluice.rsocket;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import reactor.core.scheduler.Schedulers;

/*
 * The client side of one remote consumer: subscribes the local channel's asSubscriber() to the server's stream, so
 * the local channel's free capacity is the REQUEST_N sent to the server (no prefetch in between: RSocket turns
 * request(n) into REQUEST_N frames as is).
 *
 * Each item is decoded and handed to the local channel; then its sequence is acknowledged, cumulatively: at once after
 * `ackBatch` items or when the server flags the item "acknowledge now" (its window of un-acknowledged items is half
 * full or full), otherwise by a flush scheduled 10 ms later. Acks are fire-and-forget; a lost ack only causes a
 * redelivery. Signals from RSocket are serial, so `received` is written by one thread at a time.
 */
final class RemoteReceiver<T> implements Subscriber<Payload> {

    private static final long FLUSH_MILLIS = 10;

    private final RSocket rsocket;
    private final String name;
    private final Codec<T> codec;
    private final long consumerId;
    private final int ackBatch;
    private final Subscriber<Delivery<T>> local;

    private Subscription upstream;
    private boolean done;
    private volatile long received;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();

    RemoteReceiver(RSocket rsocket, String name, Codec<T> codec, long consumerId, int ackBatch,
            Channel<Delivery<T>> local) {
        this.rsocket = rsocket;
        this.name = name;
        this.codec = codec;
        this.consumerId = consumerId;
        this.ackBatch = ackBatch;
        this.local = local.asSubscriber();
    }

    void start() {
        rsocket.requestStream(Wire.receive(name, consumerId)).subscribe(this);
    }

    @Override
    public void onSubscribe(Subscription s) {
        upstream = s;
        local.onSubscribe(s);
    }

    @Override
    public void onNext(Payload p) {
        if (done) {
            p.release();
            return;
        }
        Delivery<T> delivery;
        boolean ackNow;
        try {
            ByteBuffer meta = p.getMetadata();
            if (meta.remaining() != 9) {
                throw new IllegalArgumentException("item metadata has " + meta.remaining() + " bytes, expected 9");
            }
            long seq = meta.getLong(meta.position());
            byte flags = meta.get(meta.position() + 8);
            boolean redelivered = (flags & Wire.REDELIVERED) != 0;
            ackNow = (flags & Wire.ACK_NOW) != 0;
            T item = codec.decode(Wire.data(p));
            if (item == null) {
                throw new IllegalArgumentException(codec + " decoded null");
            }
            delivery = new Delivery<>(item, seq, redelivered);
        } catch (RuntimeException e) {
            done = true;
            upstream.cancel();
            local.onError(new RemoteChannelException("channel '" + name + "': cannot decode an item: "
                    + e.getMessage(), e));
            return;
        } finally {
            p.release();
        }
        local.onNext(delivery);
        long seq = delivery.sequence();
        received = seq;
        if (ackNow || seq - acked.get() >= ackBatch) {
            ack(seq);
        } else if (flushScheduled.compareAndSet(false, true)) {
            Schedulers.parallel().schedule(() -> {
                flushScheduled.set(false);
                ack(received);
            }, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void ack(long seq) {
        long prev = acked.getAndAccumulate(seq, Math::max);
        if (seq > prev && !rsocket.isDisposed()) {
            rsocket.fireAndForget(Wire.ack(consumerId, seq)).subscribe(v -> { }, e -> { });
        }
    }

    @Override
    public void onError(Throwable t) {
        if (done) {
            return;
        }
        done = true;
        ack(received);
        local.onError(t instanceof RemoteChannelException ? t
                : new RemoteChannelException("channel '" + name + "': " + t.getMessage(), t));
    }

    @Override
    public void onComplete() {
        if (done) {
            return;
        }
        done = true;
        ack(received);
        local.onComplete();
    }
}
