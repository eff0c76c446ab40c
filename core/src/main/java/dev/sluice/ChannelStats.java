package dev.sluice;

import java.util.Map;

/**
 * A snapshot of a channel's counters, from {@link Channel#stats()}.
 *
 * <p>Each field is read without stopping the channel, so the record is exact only at a quiescent moment (no call in
 * progress); while traffic flows, each field is a recent value. Reading it is cheap: a few volatile reads and a walk
 * over the current subscribers.
 *
 * @param capacity the maximum number of buffered items: 0 for a rendezvous channel, {@link Integer#MAX_VALUE} for
 *        an unbounded one
 * @param size items in the buffer now
 * @param waitingSenders entries in the send queue: blocked {@code send} calls, pending {@code sendAsync} futures and
 *        upstream items or demand waiting for a slot
 * @param waitingReceivers entries in the receive queue: blocked {@code receive}/iterator calls and subscriptions with
 *        demand waiting for an item
 * @param subscribers Publisher-view subscriptions currently active
 * @param outstandingDemand the sum of their not yet satisfied {@code request(n)} (capped at {@code Long.MAX_VALUE})
 * @param sent items accepted since creation
 * @param received items delivered to consumers since creation
 * @param undelivered items passed to the undelivered handler since creation (by reason:
 *        {@code undeliveredByReason})
 * @param peakSize the highest occupancy observed (equals {@code capacity} once a sender found the buffer full;
 *        otherwise sampled by each {@code stats()} call: the fast paths do not track it)
 * @param senderBlockedNanos the time senders spent waiting for a slot, <em>summed over all senders</em> (blocked
 *        {@code send} calls from their first attempt that met a full buffer, pending {@code sendAsync} futures,
 *        upstream items and upstream demand), in nanoseconds: ten senders blocked for one second add ten seconds.
 *        A wait is added when it ends. For elapsed time use {@code senderBlockedWallNanos}
 * @param callbackFailures exceptions thrown by user callbacks ({@code onNext}, the undelivered handler) that were
 *        logged and absorbed
 * @param senderBlockedWallNanos the wall-clock time during which at least one sender was waiting for a slot, in
 *        nanoseconds (never more than the channel's age): how long the channel's backpressure held its producers up
 * @param receiverStarvedNanos the time blocking receivers ({@code receive} calls, iterators' {@code hasNext}) spent
 *        waiting for an item, summed over all of them, in nanoseconds (subscriptions of the Publisher views are not
 *        counted: their outstanding demand is {@code outstandingDemand}); a wait is added when it ends
 * @param receiverStarvedWallNanos the wall-clock time during which at least one blocking receiver was waiting for an
 *        item, in nanoseconds: how long the channel kept its consumers idle
 * @param undeliveredByReason {@code undelivered} per {@link UndeliveredReason}: an unmodifiable map with an entry for
 *        every reason (zero if none); its values add up to {@code undelivered}
 */
public record ChannelStats(
        int capacity,
        int size,
        int waitingSenders,
        int waitingReceivers,
        int subscribers,
        long outstandingDemand,
        long sent,
        long received,
        long undelivered,
        int peakSize,
        long senderBlockedNanos,
        long callbackFailures,
        long senderBlockedWallNanos,
        long receiverStarvedNanos,
        long receiverStarvedWallNanos,
        Map<UndeliveredReason, Long> undeliveredByReason) {

    /**
     * The undelivered items of one reason: {@code undeliveredByReason().get(reason)}.
     *
     * @param reason the reason
     * @return how many items went to the undelivered handler for {@code reason} since creation
     * @throws NullPointerException if {@code reason} is {@code null}
     */
    public long undelivered(UndeliveredReason reason) {
        Long n = undeliveredByReason.get(java.util.Objects.requireNonNull(reason, "reason"));
        return n == null ? 0L : n;
    }

    /**
     * The items an {@link Overflow} drop policy dropped ({@link Overflow#DROP_OLDEST} evicted,
     * {@link Overflow#DROP_NEWEST} refused): {@code undelivered(UndeliveredReason.DROPPED)}.
     *
     * @return how many items were dropped since creation
     */
    public long dropped() {
        return undelivered(UndeliveredReason.DROPPED);
    }
}
