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
import org.openjdk.jcstress.infra.results.LLLL_Result;

/**
 * {@code trySend} vs {@code tryReceive} at capacity 1.
 *
 * <p>Result: first {@code trySend}, second {@code trySend}, what {@code tryReceive} got, what the arbiter drained
 * afterwards (or the violation).
 */
@JCStressTest
@Description("trySend(1), trySend(2) vs tryReceive() at capacity 1: never two items held, each accepted item"
        + " delivered once, in order")
@Outcome(id = "OK, FULL, null, 1", expect = ACCEPTABLE, desc = "receive first: nothing yet; 1 buffered, 2 refused")
@Outcome(id = "OK, OK, 1, 2", expect = ACCEPTABLE, desc = "receive between the sends: 2 takes the freed slot")
@Outcome(id = "OK, FULL, 1, none", expect = ACCEPTABLE, desc = "receive after both sends: 2 refused")
@Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered or over capacity")
@State
public class TrySendVsTryReceiveCapacityOne {

    final Channel<Integer> channel = Channel.bounded(1);

    /**
     * Sends 1, then 2.
     *
     * @param r result
     */
    @Actor
    public void sender(LLLL_Result r) {
        r.r1 = channel.trySend(1);
        r.r2 = channel.trySend(2);
    }

    /**
     * Takes one item if any.
     *
     * @param r result
     */
    @Actor
    public void receiver(LLLL_Result r) {
        r.r3 = channel.tryReceive();
    }

    /**
     * Drains and checks conservation.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLLL_Result r) {
        List<Integer> accepted = new ArrayList<>();
        if (r.r1 == SendResult.OK) {
            accepted.add(1);
        }
        if (r.r2 == SendResult.OK) {
            accepted.add(2);
        }
        List<Integer> drained = Conservation.drain(channel);
        List<Integer> delivered = new ArrayList<>();
        if (r.r3 != null) {
            delivered.add((Integer) r.r3);
        }
        delivered.addAll(drained);
        String violation = Conservation.first(
                drained.size() > 1 ? "VIOLATION over capacity: drained " + drained : null,
                Conservation.sameInOrder(accepted, delivered),
                Conservation.stats(channel, accepted.size(), delivered.size(), 0));
        r.r4 = violation != null ? violation : Conservation.show(drained);
    }
}
