package dev.sluice;

/**
 * Why an item went to the {@link UndeliveredHandler} instead of a consumer.
 */
public enum UndeliveredReason {
    /**
     * The item was accepted, but the channel was {@linkplain Channel#cancel() cancelled} before any consumer
     * received it.
     */
    CANCELLED,
    /**
     * The item arrived from an upstream {@code Publisher} through {@link ChannelSender#asSubscriber()} but could not
     * be accepted because the channel had closed (or the upstream broke the demand protocol); the upstream cannot take
     * it back, so it is handed over here instead of being dropped silently.
     */
    REJECTED,
    /**
     * A consumer took the item and then gave it back undelivered (a subscription cancelled between taking and
     * delivering it, an iterator closed while holding the item reserved by {@code hasNext()}), but the channel had
     * ended meanwhile: every other receiver has already seen the end, so nobody is left to receive it.
     */
    RETURNED_AFTER_END,
    /**
     * An {@link Overflow} drop policy dropped the item: evicted from a full channel to make room for a newer one
     * ({@link Overflow#DROP_OLDEST}, {@link Channel#conflated()}), or refused because the channel was full
     * ({@link Overflow#DROP_NEWEST}).
     */
    DROPPED
}
