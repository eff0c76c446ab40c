package dev.sluice;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Flow;
import java.util.stream.Stream;

import org.reactivestreams.Publisher;

/**
 * The receiving side of a {@link Channel}: hand it to code that must only receive.
 *
 * <p>All methods are thread-safe. Every consumer, of whatever kind (blocking {@code receive}, an iterator, a
 * Publisher subscription), <em>competes</em> for items: each item goes to exactly one of them. Blocked receivers and
 * subscriptions with unmet demand wait in one FIFO queue and are served in arrival order. A subscription is served per
 * unit of its demand with a bounded quota: while it is first in line it takes up to {@code capacity} items in a row
 * (as many as it requested and the buffer holds), then goes to the back of the line if anybody else waits; a
 * subscription whose demand is used up leaves the line and rejoins it at the back with its next {@code request(n)}.
 * So a blocked receiver waits behind a subscription for at most {@code capacity} items.
 *
 * <pre>{@code
 * ChannelReceiver<String> in = channel.receiver();
 * try (ChannelIterator<String> it = in.iterator()) {
 *     while (it.hasNext()) {
 *         process(it.next());
 *     }
 * }
 * }</pre>
 *
 * @param <T> the item type
 */
public interface ChannelReceiver<T> {

    /**
     * Takes an item if one is available now, without blocking.
     *
     * @return the item, or {@code null} if none is available now (or earlier receivers are waiting)
     */
    T tryReceive();

    /**
     * Takes an item, waiting until one is available.
     *
     * @return the item
     * @throws InterruptedException if interrupted while waiting (no item is lost)
     * @throws ChannelClosedException at the end of the channel; its cause is the failure, or a
     *         {@link java.util.concurrent.CancellationException} after {@link #cancel()}, or {@code null} after close
     * @throws IllegalStateException if a {@link BlockingGuard} forbids blocking on this thread
     */
    T receive() throws InterruptedException;

    /**
     * Takes an item, waiting at most {@code timeout}.
     *
     * @param timeout the longest wait; zero or negative means do not wait (and is allowed on any thread, a Reactor
     *        non-blocking one included)
     * @return the item, or {@code null} on timeout
     * @throws InterruptedException if interrupted while waiting (no item is lost)
     * @throws ChannelClosedException at the end of the channel, as {@link #receive()}
     * @throws NullPointerException if {@code timeout} is {@code null}
     * @throws IllegalStateException if a {@link BlockingGuard} forbids blocking on this thread
     */
    T receive(Duration timeout) throws InterruptedException;

    /**
     * Moves up to {@code max} available items into {@code sink} without blocking, in channel order.
     *
     * <p>Not atomic: it takes items one at a time, as repeated {@link #tryReceive()} calls would, so items sent while
     * it runs may be included, and competing consumers may take items in between.
     *
     * @param sink where to add the items
     * @param max the most items to move
     * @return how many items were moved
     * @throws NullPointerException if {@code sink} is {@code null}
     * @throws IllegalArgumentException if {@code max} is negative
     */
    int drainTo(Collection<? super T> sink, int max);

    /**
     * Returns a new blocking iterator: one more competing consumer.
     *
     * @return an iterator to close when done
     */
    ChannelIterator<T> iterator();

    /**
     * Returns a sequential stream over a new {@link #iterator()}; closing the stream closes the iterator.
     *
     * @return a stream to close when done (use try-with-resources)
     */
    Stream<T> stream();

    /**
     * Returns a Reactive Streams view: every subscriber is a competing consumer.
     *
     * <p>Items leave the buffer only against {@code request(n)} and go straight to {@code onNext}; there is no
     * private prefetch, so cancelling a subscription loses nothing. Close completes subscribers after the buffer is
     * drained; fail signals {@code onError(cause)}; cancel signals {@code onError(ChannelClosedException)}. Signals may
     * run on the thread that sent the item or on the thread that called {@code request}.
     *
     * @return a Publisher view
     */
    Publisher<T> asPublisher();

    /**
     * The {@link java.util.concurrent.Flow} twin of {@link #asPublisher()}.
     *
     * @return a {@code Flow.Publisher} view
     */
    Flow.Publisher<T> asFlowPublisher();

    /**
     * The receiving side gives up: buffered items go to the undelivered handler with
     * {@link UndeliveredReason#CANCELLED}, waiting and future senders get {@link SendResult#CLOSED} or
     * {@link ChannelClosedException}, waiting receivers and subscribers end with {@link ChannelClosedException}.
     * Idempotent.
     */
    void cancel();

    /**
     * Tells whether no item will ever be received again: closed and drained, failed and drained, or cancelled.
     *
     * @return {@code true} at the end of the channel
     */
    boolean isClosedForReceive();

    /**
     * A snapshot of the channel's counters.
     *
     * @return the current statistics
     */
    ChannelStats stats();
}
