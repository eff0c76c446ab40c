package dev.sluice;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

import org.reactivestreams.Subscriber;

/**
 * The sending side of a {@link Channel}: hand it to code that must only send.
 *
 * <p>All methods are thread-safe. Accepting an item <em>happens-before</em> the item is returned by a receive or
 * passed to {@code onNext}. Blocked {@code send} calls, pending {@link #sendAsync(Object)} futures and items pushed by
 * an upstream Publisher wait in one FIFO queue and are admitted in arrival order; the non-blocking {@link #trySend}
 * never overtakes them.
 *
 * <pre>{@code
 * ChannelSender<String> out = channel.sender();
 * out.send("a");                                   // blocks while the buffer is full
 * if (out.trySend("b") == SendResult.FULL) { ... } // never blocks
 * out.sendAsync("c").thenRun(() -> log("accepted"));
 * out.close();                                     // receivers drain, then see the end
 * }</pre>
 *
 * @param <T> the item type
 */
public interface ChannelSender<T> extends AutoCloseable {

    /**
     * Offers an item without blocking.
     *
     * @param item the item
     * @return {@link SendResult#OK} if accepted; {@link SendResult#FULL} if no slot is free or earlier senders are
     *         waiting; {@link SendResult#CLOSED} if the channel no longer accepts items
     * @throws NullPointerException if {@code item} is {@code null}
     */
    SendResult trySend(T item);

    /**
     * Sends an item, waiting for a free slot.
     *
     * @param item the item
     * @throws InterruptedException if interrupted before the item was accepted (the item was not enqueued)
     * @throws ChannelClosedException if the channel closed before the item was accepted; a closed channel wins over a
     *         pending interrupt (which stays set)
     * @throws NullPointerException if {@code item} is {@code null}
     * @throws IllegalStateException if a {@link BlockingGuard} forbids blocking on this thread
     */
    void send(T item) throws InterruptedException;

    /**
     * Sends an item, waiting at most {@code timeout} for a free slot.
     *
     * @param item the item
     * @param timeout the longest wait; zero or negative means do not wait (and is allowed on any thread, a Reactor
     *        non-blocking one included)
     * @return {@code true} if accepted, {@code false} on timeout (the item was not enqueued)
     * @throws InterruptedException if interrupted before the item was accepted (the item was not enqueued)
     * @throws ChannelClosedException if the channel closed before the item was accepted
     * @throws NullPointerException if {@code item} or {@code timeout} is {@code null}
     * @throws IllegalStateException if a {@link BlockingGuard} forbids blocking on this thread
     */
    boolean send(T item, Duration timeout) throws InterruptedException;

    /**
     * Sends an item asynchronously.
     *
     * <p>The future completes when the item is accepted; until then it waits in the same FIFO queue as blocked
     * senders. Cancelling the future (or completing it exceptionally, as {@code orTimeout} does) before acceptance
     * withdraws the item: it is never enqueued and never reaches a consumer. The future fails with
     * {@link ChannelClosedException} if the channel closes first. Dependent actions of an immediately accepted item run
     * in the caller; otherwise they run on the thread that frees the slot, so keep them short.
     *
     * @param item the item
     * @return a future completed with {@code null} once the item is accepted
     * @throws NullPointerException if {@code item} is {@code null}
     */
    CompletableFuture<Void> sendAsync(T item);

    /**
     * Offers items in order without blocking, stopping at the first one that is not accepted.
     *
     * @param items the items; none may be {@code null}
     * @return how many leading items were accepted
     * @throws NullPointerException if {@code items} or any element is {@code null} (then nothing is sent)
     */
    int trySendAll(List<? extends T> items);

    /**
     * Sends items in order, blocking for slots as {@link #send(Object)} does.
     *
     * @param items the items; none may be {@code null}
     * @throws InterruptedException if interrupted; the items before the current one were accepted, the rest were not
     * @throws ChannelClosedException if the channel closed part way
     * @throws NullPointerException if {@code items} or an element is {@code null} (for a {@link java.util.Collection}
     *         the elements are checked before anything is sent)
     * @throws IllegalStateException if a {@link BlockingGuard} forbids blocking on this thread
     */
    void sendAll(Iterable<? extends T> items) throws InterruptedException;

    /**
     * Returns a Reactive Streams {@code Subscriber} that feeds this channel from an upstream Publisher.
     *
     * <p>It requests only what free capacity allows and coexists with direct senders; upstream items that meet a
     * full buffer wait in the send FIFO. Upstream {@code onComplete} closes the channel, {@code onError} fails it. A
     * second {@code onSubscribe} is cancelled (rule 2.5); an upstream that sends more than requested fails the channel
     * with an {@link IllegalStateException}. Each call returns a new subscriber.
     *
     * @return a subscriber to subscribe to one upstream Publisher
     */
    Subscriber<T> asSubscriber();

    /**
     * The {@link java.util.concurrent.Flow} twin of {@link #asSubscriber()}.
     *
     * @return a subscriber to subscribe to one upstream {@code Flow.Publisher}
     */
    Flow.Subscriber<T> asFlowSubscriber();

    /**
     * Opens a counted sender handle: when the last handle opened this way is closed, the channel closes.
     *
     * <p>Closing a handle is idempotent and affects only that handle. Handles share the channel; sending through a
     * closed handle behaves as sending on a closed channel only once the channel itself is closed.
     *
     * @return a new handle
     * @throws ChannelClosedException if the channel is already closed for sending
     */
    ChannelSender<T> openSender();

    /**
     * Closes the channel gracefully: no new items are accepted, waiting senders fail with
     * {@link ChannelClosedException}, and receivers drain the buffer and then see completion. Idempotent; does nothing
     * if the channel already ended.
     */
    @Override
    void close();

    /**
     * Fails the channel: like {@link #close()}, but receivers see {@code cause} after draining. Does nothing if the
     * channel is already closed, failed or cancelled.
     *
     * @param cause the failure
     * @throws NullPointerException if {@code cause} is {@code null}
     */
    void fail(Throwable cause);

    /**
     * Tells whether the channel no longer accepts items (closed, failed or cancelled).
     *
     * @return {@code true} once sends are refused
     */
    boolean isClosedForSend();

    /**
     * A snapshot of the channel's counters.
     *
     * @return the current statistics
     */
    ChannelStats stats();
}
