package dev.sluice;

/**
 * The outcome of a non-blocking send such as {@link ChannelSender#trySend(Object)}.
 *
 * <p>Only {@link #OK} means the item was accepted; with {@link #FULL} and {@link #CLOSED} the item still belongs to the
 * caller.
 */
public enum SendResult {
    /** The item was accepted into the channel. */
    OK,
    /** The buffer had no free slot (or earlier senders are waiting for one); the item was not accepted. */
    FULL,
    /** The channel is closed for sending; the item was not accepted. */
    CLOSED
}
