package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.sluice.Channel;
import dev.sluice.ChannelState;
import dev.sluice.SendResult;
import dev.sluice.UndeliveredReason;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLLL_Result;

/**
 * {@code cancel()} vs {@code trySend} followed by {@code tryReceive}: the double-discard shape found in reactor-core's
 * {@code SinkManyUnicast} (an item discarded by both the cancelling thread and the emitting thread). Every accepted
 * item must be delivered or passed to the undelivered handler exactly once.
 *
 * <p>Result: the send result, what {@code tryReceive} got, the undelivered items (sorted), then the verdict.
 */
@JCStressTest
@Description("trySend(2); tryReceive() vs cancel() with [1] buffered: each accepted item delivered xor undelivered,"
        + " exactly once")
@Outcome(id = "CLOSED, null, 1, ok", expect = ACCEPTABLE, desc = "cancel first: 1 undelivered, 2 refused")
@Outcome(id = "OK, null, 1 2, ok", expect = ACCEPTABLE, desc = "cancel between: both undelivered")
@Outcome(id = "OK, 1, 2, ok", expect = ACCEPTABLE, desc = "cancel last (or during the receive): 1 delivered")
@Outcome(expect = FORBIDDEN, desc = "discarded twice, lost, delivered after cancel, or refused-but-discarded")
@State
public class CancelVsTrySend {

    final ConcurrentLinkedQueue<Integer> undelivered = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<UndeliveredReason> reasons = new ConcurrentLinkedQueue<>();
    final Channel<Integer> channel = Channel.<Integer>builder()
            .capacity(2)
            .onUndelivered((item, reason) -> {
                undelivered.add(item);
                reasons.add(reason);
            })
            .build();

    /** Buffers item 1. */
    public CancelVsTrySend() {
        channel.trySend(1);
    }

    /**
     * Sends 2, then takes an item.
     *
     * @param r result
     */
    @Actor
    public void traffic(LLLL_Result r) {
        r.r1 = channel.trySend(2);
        r.r2 = channel.tryReceive();
    }

    /**
     * Cancels the channel.
     *
     * @param r result
     */
    @Actor
    public void canceller(LLLL_Result r) {
        channel.cancel();
    }

    /**
     * Checks that every accepted item met exactly one fate.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLLL_Result r) {
        List<Integer> accepted = new ArrayList<>(List.of(1));
        if (r.r1 == SendResult.OK) {
            accepted.add(2);
        }
        List<Integer> fates = new ArrayList<>(undelivered);
        if (r.r2 != null) {
            fates.add((Integer) r.r2);
        }
        List<Integer> discarded = new ArrayList<>(undelivered);
        discarded.sort(null);
        List<Integer> drained = Conservation.drain(channel);
        String violation = Conservation.first(
                drained.isEmpty() ? null : "VIOLATION received after cancel: " + drained,
                Conservation.sameItems(accepted, fates, "delivered+undelivered"),
                channel.state() == ChannelState.CANCELLED ? null : "VIOLATION state " + channel.state(),
                reasons.stream().allMatch(UndeliveredReason.CANCELLED::equals) ? null : "VIOLATION reasons " + reasons,
                Conservation.stats(channel, accepted.size(), r.r2 != null ? 1 : 0, undelivered.size()));
        r.r3 = Conservation.show(discarded);
        r.r4 = violation != null ? violation : "ok";
    }
}
