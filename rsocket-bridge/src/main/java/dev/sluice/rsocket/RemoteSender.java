package dev.sluice.rsocket;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import dev.sluice.UndeliveredHandler;
import dev.sluice.UndeliveredReason;
import dev.sluice.reactor.ReactorChannels;
import io.rsocket.Payload;
import io.rsocket.RSocket;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/*
 * The client side of one remote producer: a REQUEST_CHANNEL whose outbound is the route payload followed by a
 * competing-consumer Flux of the local channel, so an item leaves the local buffer only against the server's
 * REQUEST_N. Items on the wire wait in `unconfirmed` (oldest first) until the server's cumulative accepted count
 * covers them.
 */
final class RemoteSender<T> implements Subscriber<Payload> {

    private static final System.Logger LOG = System.getLogger(RemoteSender.class.getName());

    private final RSocket rsocket;
    private final String name;
    private final Codec<T> codec;
    private final Channel<T> local;
    private final UndeliveredHandler<? super T> onUnconfirmed;
    private final ConcurrentLinkedQueue<T> unconfirmed = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean failed = new AtomicBoolean();
    private long confirmed; // ack signals are serial
    private volatile Subscription pump; // the outbound Flux's subscription to the local channel

    private final int maxFrameSize; // the smaller of the client's and the server's

    RemoteSender(RSocket rsocket, String name, Codec<T> codec, Channel<T> local,
            UndeliveredHandler<? super T> onUnconfirmed, int maxFrameSize) {
        this.maxFrameSize = maxFrameSize;
        this.rsocket = rsocket;
        this.name = name;
        this.codec = codec;
        this.local = local;
        this.onUnconfirmed = onUnconfirmed;
    }

    void start() {
        Flux<Payload> items = ReactorChannels.flux(local.receiver()).doOnSubscribe(s -> pump = s).map(item -> {
            unconfirmed.add(item);
            byte[] bytes;
            try {
                bytes = codec.encode(item);
            } catch (RuntimeException e) {
                RemoteChannelException ex = new RemoteChannelException("channel '" + name + "': " + codec
                        + " cannot encode an item: " + e, e);
                failLocal(ex);
                throw ex;
            }
            if (bytes.length > Wire.maxItemBytes(maxFrameSize)) {
                // the server's frame decoder would drop it silently (and wedge the stream): refuse it here
                RemoteChannelException ex = Wire.tooLarge(name, bytes.length, maxFrameSize);
                failLocal(ex);
                throw ex;
            }
            return DefaultPayload.create(bytes);
        });
        rsocket.requestChannel(Flux.concat(Mono.fromCallable(() -> Wire.openSend(name)), items)).subscribe(this);
    }

    @Override
    public void onSubscribe(Subscription s) {
        s.request(Long.MAX_VALUE); // acks are small and at most one per accepted item
    }

    @Override
    public void onNext(Payload p) {
        try {
            long count = Wire.longAt(p, 0);
            while (confirmed < count && unconfirmed.poll() != null) {
                confirmed++;
            }
        } finally {
            p.release();
        }
    }

    @Override
    public void onError(Throwable t) {
        failLocal(t instanceof RemoteChannelException ? (RemoteChannelException) t
                : new RemoteChannelException("channel '" + name + "': " + t.getMessage(), t));
    }

    @Override
    public void onComplete() {
        if (!local.isClosedForReceive()) {
            failLocal(new RemoteChannelException("channel '" + name + "': the server ended the stream", null));
        }
    }

    private void failLocal(RemoteChannelException cause) {
        if (!failed.compareAndSet(false, true)) {
            return;
        }
        Subscription s = pump;
        if (s != null) {
            s.cancel(); // a competing-consumer Flux loses nothing on cancel: no item leaves the buffer after this
        }
        local.fail(cause); // senders now get ChannelClosedException with this cause
        T item;
        while ((item = unconfirmed.poll()) != null) {
            report(item);
        }
        List<T> buffered = new ArrayList<>();
        local.drainTo(buffered, Integer.MAX_VALUE);
        for (T b : buffered) {
            report(b);
        }
        local.cancel(); // if an item slipped in meanwhile, it goes to onUnconfirmed through the channel's handler
    }

    private void report(T item) {
        try {
            onUnconfirmed.onUndelivered(item, UndeliveredReason.CANCELLED);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "onUnconfirmed threw", e);
        }
    }
}
