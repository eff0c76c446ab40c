package dev.sluice.rsocket;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import dev.sluice.Channel;

/*
 * One named channel exposed by a server, shared by all its connections.
 *
 * Redelivery. Items a remote consumer took but never acknowledged come back here when its stream ends (connection
 * broken, stream cancelled). Core has no "put back at the head", so they go to `redelivery`, a FIFO that every remote
 * consumer stream of this channel serves before it asks the channel for more (see ConsumerStream). Local consumers
 * of the channel never see them.
 *
 * In flight. `inFlight` counts items taken out of the channel (or out of `redelivery`) by remote streams and not yet
 * acknowledged or returned. A remote stream whose channel has ended completes only when `redelivery` is empty and
 * `inFlight` is zero, so no remote consumer sees the end while an item may still come back.
 */
final class Exposure<T> {

    private static final System.Logger LOG = System.getLogger(Exposure.class.getName());

    final String name;
    final Channel<T> channel;
    final Codec<T> codec;
    final ConcurrentLinkedQueue<T> redelivery = new ConcurrentLinkedQueue<>();
    private final AtomicLong inFlight = new AtomicLong();
    private final Set<ConsumerStream<T>> streams = ConcurrentHashMap.newKeySet();

    Exposure(String name, Channel<T> channel, Codec<T> codec) {
        this.name = name;
        this.channel = channel;
        this.codec = codec;
    }

    void register(ConsumerStream<T> stream) {
        streams.add(stream);
    }

    void unregister(ConsumerStream<T> stream) {
        streams.remove(stream);
    }

    void taken(long n) {
        inFlight.addAndGet(n);
    }

    /** n items were acknowledged: they are done. */
    void acknowledged(long n) {
        if (n > 0 && inFlight.addAndGet(-n) == 0) {
            signalAll();
        }
    }

    long inFlight() {
        return inFlight.get();
    }

    /** Items come back un-acknowledged, oldest first; they no longer count as in flight. */
    void giveBack(List<T> items) {
        if (items.isEmpty()) {
            return;
        }
        redelivery.addAll(items);
        inFlight.addAndGet(-items.size());
        if (streams.isEmpty() && channel.isClosedForReceive()) {
            LOG.log(System.Logger.Level.WARNING, "channel ''{0}'' has ended and has no remote consumer left: {1} "
                    + "un-acknowledged items wait for one in its redelivery queue", name, redelivery.size());
        }
        signalAll();
    }

    private void signalAll() {
        for (ConsumerStream<T> s : streams) {
            s.drain();
        }
    }
}
