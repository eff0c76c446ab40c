package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * Blocking {@code send} vs {@code close()}: an item is either accepted (and then drained by receivers after the
 * close) or refused with {@link ChannelClosedException}; a refused item never shows up. There is always a free slot,
 * so {@code send} never has to wait.
 *
 * <p>Result: how many of the two sends were accepted, what {@code trySend} saw right after {@code close()}, then the
 * items drained by the arbiter (or the violation).
 */
@JCStressTest
@Description("send(1); send(2) vs close() at capacity 2: accepted items drain after close, refused ones never appear")
@Outcome(id = "2, CLOSED, 1 2", expect = ACCEPTABLE, desc = "both sends before close")
@Outcome(id = "1, CLOSED, 1", expect = ACCEPTABLE, desc = "close between the sends")
@Outcome(id = "0, CLOSED, none", expect = ACCEPTABLE, desc = "close first")
@Outcome(expect = FORBIDDEN, desc = "lost, duplicated, refused-but-delivered, or no end after draining")
@State
public class SendVsClose {

    final Channel<Integer> channel = Channel.bounded(2);

    /**
     * Sends 1 then 2, stopping at the first refusal.
     *
     * @param r result
     */
    @Actor
    public void sender(LLL_Result r) {
        int sent = 0;
        try {
            channel.send(1);
            sent++;
            channel.send(2);
            sent++;
        } catch (ChannelClosedException refused) {
            // expected when close() came first
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sent = -1;
        }
        r.r1 = sent;
    }

    /**
     * Closes, then checks that sends are refused at once.
     *
     * @param r result
     */
    @Actor
    public void closer(LLL_Result r) {
        channel.close();
        r.r2 = channel.trySend(3);
    }

    /**
     * Drains and checks conservation and the end of the channel.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        List<Integer> accepted = new ArrayList<>();
        int sent = (Integer) r.r1;
        for (int i = 1; i <= sent; i++) {
            accepted.add(i);
        }
        List<Integer> drained = Conservation.drain(channel);
        String violation = Conservation.first(
                Conservation.sameInOrder(accepted, drained),
                Conservation.ended(channel),
                Conservation.stats(channel, accepted.size(), drained.size(), 0));
        r.r3 = violation != null ? violation : Conservation.show(drained);
    }
}
