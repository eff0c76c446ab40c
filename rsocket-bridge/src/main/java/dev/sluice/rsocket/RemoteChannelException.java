package dev.sluice.rsocket;

/**
 * A remote channel operation failed: the server rejected the connection (wrong token), named an unknown channel,
 * could not decode an item, or the connection broke.
 *
 * <p>It reaches local code as the cause of a {@link dev.sluice.ChannelClosedException} thrown by the local view, or
 * directly from {@link SluiceClient#connect}.
 */
public final class RemoteChannelException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what failed, naming the channel or the address
     * @param cause the underlying failure, or {@code null}
     */
    public RemoteChannelException(String message, Throwable cause) {
        super(message, cause);
    }
}
