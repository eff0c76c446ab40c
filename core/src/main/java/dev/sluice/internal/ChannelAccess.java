package dev.sluice.internal;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelState;
import dev.sluice.UndeliveredReason;

/**
 * Not part of Sluice's API: operations on a channel's buffer that Sluice's own modules need and users must not call.
 *
 * <p>The package is exported only to {@code dev.sluice.rsocket} and {@code dev.sluice.reactor} (a qualified export in
 * {@code module-info}), so a
 * bridge that takes an item out of a channel and cannot deliver it (a remote consumer that vanished before it
 * acknowledged the item) puts it back at the head of that same channel instead of keeping a second buffer of its
 * own: the item counts against the capacity and in {@link Channel#stats()}, and local consumers see it too.
 *
 * <p>The channel class installs the implementation once, when it is initialized; any later install is refused.
 */
public final class ChannelAccess {

    /** The operations, implemented inside package {@code dev.sluice}. */
    public interface Operations {
        /**
         * Puts an item taken out of {@code channel} back at its head (to the oldest waiting receiver, or ahead of
         * the buffer); after the channel was cancelled or ended it goes to the undelivered handler instead.
         *
         * @param channel the channel the item was received from
         * @param item the item, never {@code null}
         */
        void pushBack(Channel<?> channel, Object item);

        /**
         * Hands an item taken out of {@code channel} to its undelivered handler, exactly once, and counts it in
         * {@code stats().undelivered()}.
         *
         * @param channel the channel the item was received from
         * @param item the item, never {@code null}
         * @param reason why it will never be delivered
         */
        void undeliver(Channel<?> channel, Object item, UndeliveredReason reason);

        /**
         * The state of the channel behind a receiver view.
         *
         * @param receiver a channel or one of its views
         * @return its channel's state, or {@code null} if it is not a view of a local channel
         */
        ChannelState state(ChannelReceiver<?> receiver);

        /**
         * Ends an iteration from another thread: see {@link ChannelAccess#endIteration}.
         *
         * @param iterator the iterator
         */
        void endIteration(ChannelIterator<?> iterator);
    }

    private static final AtomicReference<Operations> OPERATIONS = new AtomicReference<>();

    private ChannelAccess() {
    }

    /**
     * Called once by {@link Channel}'s static initializer.
     *
     * @param implementation the operations
     * @throws IllegalStateException if they were installed already
     */
    public static void install(Operations implementation) {
        Objects.requireNonNull(implementation, "implementation");
        if (!OPERATIONS.compareAndSet(null, implementation)) {
            throw new IllegalStateException("ChannelAccess is installed by dev.sluice.Channel only");
        }
    }

    /**
     * Puts an item received from {@code channel} back at its head; see {@link Operations#pushBack}.
     *
     * @param channel the channel the item was received from
     * @param item the item
     * @param <T> the item type
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T> void pushBack(Channel<T> channel, T item) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(item, "item");
        operations().pushBack(channel, item);
    }

    /**
     * Hands an item received from {@code channel} to its undelivered handler; see {@link Operations#undeliver}.
     *
     * @param channel the channel the item was received from
     * @param item the item
     * @param reason why it will never be delivered
     * @param <T> the item type
     * @throws NullPointerException if an argument is {@code null}
     */
    public static <T> void undeliver(Channel<T> channel, T item, UndeliveredReason reason) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(item, "item");
        Objects.requireNonNull(reason, "reason");
        operations().undeliver(channel, item, reason);
    }

    /**
     * The state of the channel behind a receiver, for views that were handed only a {@link ChannelReceiver}.
     *
     * @param receiver a channel, its {@code receiver()} view, or another implementation
     * @return the channel's state, or {@code null} if {@code receiver} is not a view of a local channel
     * @throws NullPointerException if {@code receiver} is {@code null}
     */
    public static ChannelState state(ChannelReceiver<?> receiver) {
        Objects.requireNonNull(receiver, "receiver");
        return operations().state(receiver);
    }

    /**
     * Ends a blocking iteration from another thread, so that the iterating thread sees the end once, normally: a
     * blocked {@code hasNext()} returns {@code false}, an item that {@code hasNext()} already reserved is still returned
     * by {@code next()}, and {@code hasNext()} is {@code false} after that. (Unlike {@code close()}, which gives a
     * reserved item back to the channel, so that a {@code next()} after a {@code true hasNext()} would fail.) The
     * Reactor bridge's blocking stage uses it when the downstream cancels. Iterators of other implementations are
     * closed.
     *
     * @param iterator an iterator of a channel
     * @throws NullPointerException if {@code iterator} is {@code null}
     */
    public static void endIteration(ChannelIterator<?> iterator) {
        Objects.requireNonNull(iterator, "iterator");
        operations().endIteration(iterator);
    }

    private static Operations operations() {
        Operations ops = OPERATIONS.get();
        if (ops == null) {
            throw new IllegalStateException("dev.sluice.Channel is not initialized");
        }
        return ops;
    }
}
