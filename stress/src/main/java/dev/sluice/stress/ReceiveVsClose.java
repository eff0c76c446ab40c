package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.Channel;
import dev.sluice.ChannelState;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * Blocking {@code receive} of the last buffered item vs {@code close()}: whoever comes second must move the channel
 * from {@code DRAINING} to {@code COMPLETED}. The classic bug is a channel stuck in {@code DRAINING} with an empty
 * buffer (close saw one item, the receiver saw an open channel), where later receivers wait forever.
 *
 * <p>Result: the item received, the state {@code close()} left, then the final state (or the violation).
 */
@JCStressTest
@Description("receive() of the last item vs close(): the channel always ends COMPLETED")
@Outcome(id = "1, DRAINING, COMPLETED", expect = ACCEPTABLE, desc = "close first; the receive completes the channel")
@Outcome(id = "1, COMPLETED, COMPLETED", expect = ACCEPTABLE, desc = "receive first (or at once); close completes")
@Outcome(expect = FORBIDDEN, desc = "stuck DRAINING, item lost or delivered twice, or no end signal")
@State
public class ReceiveVsClose {

    final Channel<Integer> channel = Channel.bounded(2);

    /** Buffers item 1. */
    public ReceiveVsClose() {
        channel.trySend(1);
    }

    /**
     * Receives the buffered item (it is there, so this never waits).
     *
     * @param r result
     */
    @Actor
    public void receiver(LLL_Result r) {
        try {
            r.r1 = channel.receive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.r1 = "interrupted";
        } catch (RuntimeException e) {
            r.r1 = e.getClass().getSimpleName();
        }
    }

    /**
     * Closes and records the state just after.
     *
     * @param r result
     */
    @Actor
    public void closer(LLL_Result r) {
        channel.close();
        r.r2 = channel.state();
    }

    /**
     * Checks the end of the channel.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        ChannelState state = channel.state();
        String violation = Conservation.first(
                state == ChannelState.COMPLETED ? null : "VIOLATION final state " + state,
                Conservation.ended(channel),
                Conservation.stats(channel, 1, 1, 0));
        r.r3 = violation != null ? violation : state.toString();
    }
}
