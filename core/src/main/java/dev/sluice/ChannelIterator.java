package dev.sluice;

import java.time.Duration;
import java.util.Iterator;

/**
 * A blocking iterator over the items of a channel: one consumer among possibly many competing ones.
 *
 * <p>{@link #hasNext()} blocks until an item is available (and then reserves it for this iterator) or the channel
 * ends. Iteration ends normally ({@code hasNext()} returns {@code false}) after {@link Channel#close()}; after
 * {@link Channel#fail(Throwable)} or {@link Channel#cancel()} it ends by throwing {@link ChannelClosedException}
 * whose cause tells why. {@link #close()} detaches this consumer: an item reserved by {@code hasNext()} but not yet
 * returned by {@link #next()} goes back to the head of the channel, and a {@code hasNext()} blocked in another thread
 * wakes and returns {@code false}. Closing the iterator does not close the channel.
 *
 * <p>How a blocking iteration ends, one signal per situation:
 * <table>
 * <caption>What {@code hasNext()} and {@code hasNext(Duration)} do</caption>
 * <tr><th>situation</th><th>{@code hasNext()}</th><th>{@code hasNext(Duration)}</th></tr>
 * <tr><td>the channel was closed and is drained</td><td>returns {@code false}</td><td>returns {@code false}</td></tr>
 * <tr><td>the channel failed</td><td colspan="2">throws {@link ChannelClosedException} whose cause is the
 * failure</td></tr>
 * <tr><td>the channel was cancelled</td><td colspan="2">throws {@link ChannelClosedException} whose cause is a
 * {@link java.util.concurrent.CancellationException}</td></tr>
 * <tr><td>this iterator was closed, or its iteration was ended by the channel's owner (the downstream of a
 * {@code throughBlocking} stage cancelled)</td><td>returns {@code false}</td><td>returns {@code false}</td></tr>
 * <tr><td>the thread is interrupted while it waits</td><td>throws {@link java.util.concurrent.CancellationException}
 * whose cause is the {@link InterruptedException} ({@code Iterator} cannot throw a checked exception)</td><td>throws
 * the {@link InterruptedException}</td></tr>
 * <tr><td>the timeout passes</td><td>(no timeout)</td><td>returns {@code false}</td></tr>
 * </table>
 * In every case no item is lost (an item already reserved by {@code hasNext()} is still returned by {@code next()})
 * and the interrupt status stays set after an interrupt, so the iterator may be used again. The end of the channel
 * wins over a pending interrupt: an iteration over an ended channel reports the end even if the thread was
 * interrupted. The end is sticky: a failure or cancellation is rethrown by every later {@code hasNext()}.
 *
 * <p>An iterator is meant for one consuming thread at a time; {@link #close()} may be called from any thread.
 *
 * @param <T> the item type
 */
public interface ChannelIterator<T> extends Iterator<T>, AutoCloseable {

    /**
     * Waits at most {@code timeout} for an item or the end of the channel.
     *
     * @param timeout the longest wait; zero or negative means do not wait (and is allowed on any thread, a Reactor
     *        non-blocking one included)
     * @return {@code true} if an item is reserved for the next {@link #next()}; {@code false} on timeout, at the end
     *         of a closed channel, or once this iterator is closed
     * @throws InterruptedException if interrupted while waiting (no item is lost)
     * @throws ChannelClosedException if the channel failed or was cancelled
     * @throws NullPointerException if {@code timeout} is {@code null}
     */
    boolean hasNext(Duration timeout) throws InterruptedException;

    /**
     * A snapshot of the counters of the channel this iterator reads, as {@link Channel#stats()}: lets code that was
     * handed only an iterator (a blocking stage, say) report the backpressure of its input.
     *
     * @return the channel's current statistics
     */
    ChannelStats stats();

    /**
     * Detaches this consumer from the channel; idempotent and callable from any thread.
     */
    @Override
    void close();
}
