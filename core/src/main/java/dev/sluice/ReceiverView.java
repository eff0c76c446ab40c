package dev.sluice;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Flow;
import java.util.stream.Stream;

import org.reactivestreams.Publisher;

/* The receiving side of a Channel: a stateless adapter. */
final class ReceiverView<T> implements ChannelReceiver<T> {
    private final Channel<T> channel;

    ReceiverView(Channel<T> channel) {
        this.channel = channel;
    }

    Channel<T> channel() {
        return channel;
    }

    @Override
    public T tryReceive() {
        return channel.tryReceive();
    }

    @Override
    public T receive() throws InterruptedException {
        return channel.receive();
    }

    @Override
    public T receive(Duration timeout) throws InterruptedException {
        return channel.receive(timeout);
    }

    @Override
    public int drainTo(Collection<? super T> sink, int max) {
        return channel.drainTo(sink, max);
    }

    @Override
    public ChannelIterator<T> iterator() {
        return channel.iterator();
    }

    @Override
    public Stream<T> stream() {
        return channel.stream();
    }

    @Override
    public Publisher<T> asPublisher() {
        return channel.asPublisher();
    }

    @Override
    public Flow.Publisher<T> asFlowPublisher() {
        return channel.asFlowPublisher();
    }

    @Override
    public void cancel() {
        channel.cancel();
    }

    @Override
    public boolean isClosedForReceive() {
        return channel.isClosedForReceive();
    }

    @Override
    public ChannelStats stats() {
        return channel.stats();
    }

    @Override
    public String toString() {
        return "ChannelReceiver[" + channel.core + "]";
    }
}
