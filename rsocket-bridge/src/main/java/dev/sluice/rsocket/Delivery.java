package dev.sluice.rsocket;

import java.util.Objects;

/**
 * One item received from a remote channel, with what a consumer needs to de-duplicate it.
 *
 * <p>Delivery is at least once: after a connection breaks, items the server had sent but that were not yet
 * acknowledged go back to the head of the server's channel and are sent again, to this or another remote consumer
 * with {@code redelivered() == true} (a local consumer of the server's channel may take them too). An item with
 * {@code redelivered() == false} has never been handed to any remote consumer before. Consumers that must not process
 * an item twice de-duplicate the redelivered ones by an id inside the item.
 *
 * @param item the decoded item
 * @param sequence the position of this delivery in its stream (1, 2, 3, ... per {@link SluiceClient#receiver} call
 *        and connection); not an item id, a redelivered item gets a new one
 * @param redelivered whether this item was sent before to some remote consumer whose connection broke before it
 *        acknowledged it, so it may already have been processed
 * @param <T> the item type
 */
public record Delivery<T>(T item, long sequence, boolean redelivered) {

    /**
     * Checks the item.
     *
     * @param item the decoded item
     * @param sequence the position in the stream
     * @param redelivered whether it may be a duplicate
     * @throws NullPointerException if {@code item} is {@code null}
     */
    public Delivery {
        Objects.requireNonNull(item, "item");
    }
}
