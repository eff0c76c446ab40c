package dev.sluice;

/**
 * Receives items that the channel accepted but could not deliver, exactly once per item.
 *
 * <p>Typical use is releasing resources held by the item (pooled buffers, file handles). The handler is called on the
 * thread that removed the item from the buffer (for example the thread calling {@link Channel#cancel()}); it must be
 * fast and must not block. An exception thrown by the handler is logged and counted and does not affect the channel.
 *
 * @param <T> the item type
 */
@FunctionalInterface
public interface UndeliveredHandler<T> {
    /**
     * Called once for an item that will never reach a consumer.
     *
     * @param item the item, never {@code null}
     * @param reason why it was not delivered, never {@code null}
     */
    void onUndelivered(T item, UndeliveredReason reason);
}
