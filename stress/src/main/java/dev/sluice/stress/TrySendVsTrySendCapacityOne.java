package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.Channel;
import dev.sluice.SendResult;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * Two {@code trySend} calls race for the only slot: exactly one wins (the check-then-act capacity overrun).
 *
 * <p>Result: the two send results, then what the arbiter drained (or the violation).
 */
@JCStressTest
@Description("trySend(1) vs trySend(2) at capacity 1: exactly one is accepted")
@Outcome(id = "OK, FULL, 1", expect = ACCEPTABLE, desc = "1 took the slot")
@Outcome(id = "FULL, OK, 2", expect = ACCEPTABLE, desc = "2 took the slot")
@Outcome(expect = FORBIDDEN, desc = "both accepted (over capacity), none accepted, or lost/duplicated")
@State
public class TrySendVsTrySendCapacityOne {

    final Channel<Integer> channel = Channel.bounded(1);

    /**
     * Offers 1.
     *
     * @param r result
     */
    @Actor
    public void first(LLL_Result r) {
        r.r1 = channel.trySend(1);
    }

    /**
     * Offers 2.
     *
     * @param r result
     */
    @Actor
    public void second(LLL_Result r) {
        r.r2 = channel.trySend(2);
    }

    /**
     * Drains and checks conservation.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        List<Integer> accepted = new ArrayList<>();
        if (r.r1 == SendResult.OK) {
            accepted.add(1);
        }
        if (r.r2 == SendResult.OK) {
            accepted.add(2);
        }
        List<Integer> drained = Conservation.drain(channel);
        String violation = Conservation.first(
                Conservation.sameItems(accepted, drained, "drained"),
                Conservation.stats(channel, accepted.size(), drained.size(), 0));
        r.r3 = violation != null ? violation : Conservation.show(drained);
    }
}
