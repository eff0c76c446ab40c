package dev.sluice;

/**
 * Thrown when an operation needs an open channel (to send) or an item (to receive) and the channel has ended.
 *
 * <p>For a receiver, the cause is the failure passed to {@link Channel#fail(Throwable)}, or a
 * {@link java.util.concurrent.CancellationException} when the channel was cancelled, or {@code null} after a normal
 * {@link Channel#close()}.
 */
public class ChannelClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message and no cause.
     *
     * @param message the detail message
     */
    public ChannelClosedException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and a cause.
     *
     * @param message the detail message
     * @param cause the failure that ended the channel, may be {@code null}
     */
    public ChannelClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
