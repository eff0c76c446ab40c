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
    REJECTED
}
