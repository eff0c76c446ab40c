package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.Channel;
import dev.sluice.ChannelStats;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * {@code request(1)} vs {@code cancel()} on an {@code asPublisher()} subscription with two items buffered. An item
 * either reaches {@code onNext} (delivered) or stays in the channel, at the head: the view must never drop an item it
 * removed because the subscription was cancelled in the meantime, nor deliver more than requested.
 *
 * <p>Result: the items the subscriber got, the items the arbiter drained, then the verdict.
 */
@JCStressTest
@Description("request(1) vs cancel() on asPublisher() with [1, 2] buffered: 1 is delivered or stays at the head")
@Outcome(id = "1, 2, ok", expect = ACCEPTABLE, desc = "request first: 1 delivered")
@Outcome(id = "none, 1 2, ok", expect = ACCEPTABLE, desc = "cancel first: nothing delivered, nothing lost")
@Outcome(expect = FORBIDDEN, desc = "lost, duplicated, reordered, over-delivered, or subscription leaked")
@State
public class RequestVsCancel {

    final Channel<Integer> channel = Channel.bounded(2);
    final RecordingSubscriber subscriber = new RecordingSubscriber(0);

    /** Buffers 1 and 2, subscribes without requesting. */
    public RequestVsCancel() {
        channel.trySend(1);
        channel.trySend(2);
        channel.asPublisher().subscribe(subscriber);
    }

    /**
     * Requests one item.
     *
     * @param r result
     */
    @Actor
    public void requester(LLL_Result r) {
        subscriber.subscription.request(1);
    }

    /**
     * Cancels the subscription.
     *
     * @param r result
     */
    @Actor
    public void canceller(LLL_Result r) {
        subscriber.subscription.cancel();
    }

    /**
     * Drains and checks conservation and that the cancelled subscription is gone.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        List<Integer> got = subscriber.received();
        List<Integer> drained = Conservation.drain(channel);
        List<Integer> all = new ArrayList<>(got);
        all.addAll(drained);
        ChannelStats stats = channel.stats();
        String violation = Conservation.first(
                Conservation.sameInOrder(List.of(1, 2), all),
                got.size() > 1 ? "VIOLATION delivered more than requested: " + got : null,
                subscriber.completions.get() + subscriber.errors.get() != 0 ? "VIOLATION terminal signal" : null,
                stats.subscribers() != 0 || stats.outstandingDemand() != 0
                        ? "VIOLATION cancelled subscription still counted: " + stats : null,
                Conservation.stats(channel, 2, all.size(), 0));
        r.r1 = Conservation.show(got);
        r.r2 = Conservation.show(drained);
        r.r3 = violation != null ? violation : "ok";
    }
}
