package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.List;

import dev.sluice.Channel;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * Two competing {@code tryReceive} calls for one buffered item: exactly one gets it.
 *
 * <p>Result: what each receiver got, then the arbiter's verdict.
 */
@JCStressTest
@Description("tryReceive() vs tryReceive() with one item buffered: the item goes to exactly one receiver")
@Outcome(id = "1, null, ok", expect = ACCEPTABLE, desc = "first receiver won")
@Outcome(id = "null, 1, ok", expect = ACCEPTABLE, desc = "second receiver won")
@Outcome(expect = FORBIDDEN, desc = "item delivered twice or lost")
@State
public class TryReceiveVsTryReceive {

    final Channel<Integer> channel = Channel.bounded(2);

    /** Buffers item 1. */
    public TryReceiveVsTryReceive() {
        channel.trySend(1);
    }

    /**
     * Takes an item.
     *
     * @param r result
     */
    @Actor
    public void first(LLL_Result r) {
        r.r1 = channel.tryReceive();
    }

    /**
     * Takes an item.
     *
     * @param r result
     */
    @Actor
    public void second(LLL_Result r) {
        r.r2 = channel.tryReceive();
    }

    /**
     * Checks that nothing is left and the counters agree.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        List<Integer> drained = Conservation.drain(channel);
        int got = (r.r1 != null ? 1 : 0) + (r.r2 != null ? 1 : 0);
        String violation = Conservation.first(
                drained.isEmpty() ? null : "VIOLATION left in buffer " + drained,
                Conservation.stats(channel, 1, got, 0));
        r.r3 = violation != null ? violation : "ok";
    }
}
