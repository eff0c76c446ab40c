package dev.sluice;

/**
 * What a bounded channel does with a send that finds it full ({@link Channel.Builder#overflow(Overflow)}).
 *
 * <p>Under a drop policy a send never blocks and never answers {@link SendResult#FULL}: the evicted or refused item
 * goes, exactly once, to the channel's {@linkplain Channel.Builder#onUndelivered undelivered handler} with
 * {@link UndeliveredReason#DROPPED}, and is counted in {@link ChannelStats#dropped()}. An upstream Publisher feeding
 * such a channel ({@link ChannelSender#asSubscriber()}) is asked for everything at once, as Reactor's
 * {@code onBackpressureDrop}/{@code onBackpressureLatest} do.
 */
public enum Overflow {
    /** Wait for room (the default): backpressure. */
    BLOCK,
    /** Make room by evicting the oldest buffered item; the new item is accepted ({@link SendResult#DROPPED_OLDEST}). */
    DROP_OLDEST,
    /** Keep what is buffered and drop the new item ({@link SendResult#DROPPED_NEWEST}). */
    DROP_NEWEST
}
