package dev.sluice;

/**
 * The outcome of a non-blocking send such as {@link ChannelSender#trySend(Object)}.
 *
 * <p>{@link #OK} and {@link #DROPPED_OLDEST} mean the item was accepted. With {@link #FULL} and {@link #CLOSED} the
 * item still belongs to the caller. With {@link #DROPPED_NEWEST} the channel took the item and handed it straight to
 * its {@linkplain Channel.Builder#onUndelivered undelivered handler} (reason {@link UndeliveredReason#DROPPED}): the
 * caller is done with it either way. The last two happen only under an {@link Overflow} drop policy, which never
 * answers {@code FULL}.
 */
public enum SendResult {
    /** The item was accepted into the channel. */
    OK,
    /** The buffer had no free slot (or earlier senders are waiting for one); the item was not accepted. */
    FULL,
    /** The channel is closed for sending; the item was not accepted. */
    CLOSED,
    /**
     * The item was accepted; the channel was full, so its oldest item was evicted and handed to the undelivered
     * handler with {@link UndeliveredReason#DROPPED} ({@link Overflow#DROP_OLDEST}, {@link Channel#conflated()}).
     */
    DROPPED_OLDEST,
    /**
     * The channel was full, so this item was dropped: handed to the undelivered handler with
     * {@link UndeliveredReason#DROPPED} instead of being buffered ({@link Overflow#DROP_NEWEST}).
     */
    DROPPED_NEWEST
}
