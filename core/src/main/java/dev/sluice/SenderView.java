package dev.sluice;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

import org.reactivestreams.Subscriber;

/*
 * The sending side of a Channel: a stateless adapter, or (counted = true) a handle from openSender() whose close()
 * releases one count instead of closing the channel.
 */
final class SenderView<T> implements ChannelSender<T> {
    private final Channel<T> channel;
    private final AtomicBoolean released; // null unless counted

    SenderView(Channel<T> channel) {
        this.channel = channel;
        this.released = null;
    }

    SenderView(Channel<T> channel, boolean counted) {
        this.channel = channel;
        this.released = counted ? new AtomicBoolean() : null;
    }

    @Override
    public SendResult trySend(T item) {
        return channel.trySend(item);
    }

    @Override
    public void send(T item) throws InterruptedException {
        channel.send(item);
    }

    @Override
    public boolean send(T item, Duration timeout) throws InterruptedException {
        return channel.send(item, timeout);
    }

    @Override
    public CompletableFuture<Void> sendAsync(T item) {
        return channel.sendAsync(item);
    }

    @Override
    public int trySendAll(List<? extends T> items) {
        return channel.trySendAll(items);
    }

    @Override
    public void sendAll(Iterable<? extends T> items) throws InterruptedException {
        channel.sendAll(items);
    }

    @Override
    public Subscriber<T> asSubscriber() {
        return channel.asSubscriber();
    }

    @Override
    public Flow.Subscriber<T> asFlowSubscriber() {
        return channel.asFlowSubscriber();
    }

    @Override
    public ChannelSender<T> openSender() {
        return channel.openSender();
    }

    @Override
    public void close() {
        if (released == null) {
            channel.close();
        } else if (released.compareAndSet(false, true)) {
            channel.core.releaseSender();
        }
    }

    @Override
    public void fail(Throwable cause) {
        channel.fail(cause);
    }

    @Override
    public boolean isClosedForSend() {
        return channel.isClosedForSend();
    }

    @Override
    public ChannelStats stats() {
        return channel.stats();
    }

    @Override
    public String toString() {
        return (released == null ? "ChannelSender[" : "ChannelSender(handle)[") + channel.core + "]";
    }
}
