package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

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
 * Subscribing (with unbounded demand) vs {@code trySend}: the shape of reactor-core's
 * {@code SinkManyUnicastStressTest}. Once both are done the item must have reached {@code onNext}: an item left in
 * the buffer while a subscriber has demand is a lost wake-up.
 *
 * <p>Result: the send result, what the subscriber got, then the verdict.
 */
@JCStressTest
@Description("asPublisher().subscribe(request MAX) vs trySend(1): the item always reaches onNext")
@Outcome(id = "OK, 1, ok", expect = ACCEPTABLE, desc = "delivered, whichever came first")
@Outcome(expect = FORBIDDEN, desc = "item stuck in the buffer despite demand, lost or duplicated")
@State
public class SubscribeVsSend {

    final Channel<Integer> channel = Channel.bounded(1);
    final RecordingSubscriber subscriber = new RecordingSubscriber(Long.MAX_VALUE);

    /**
     * Subscribes; the subscriber requests {@code Long.MAX_VALUE} in {@code onSubscribe}.
     *
     * @param r result
     */
    @Actor
    public void subscriber(LLL_Result r) {
        channel.asPublisher().subscribe(subscriber);
    }

    /**
     * Sends item 1.
     *
     * @param r result
     */
    @Actor
    public void sender(LLL_Result r) {
        r.r1 = channel.trySend(1);
    }

    /**
     * Checks that the item was delivered and nothing is left behind.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        List<Integer> got = subscriber.received();
        ChannelStats stats = channel.stats();
        String violation = Conservation.first(
                stats.size() != 0 ? "VIOLATION item stuck in buffer while subscriber has demand: " + stats : null,
                subscriber.subscriptions.get() != 1 ? "VIOLATION onSubscribe calls: " + subscriber.subscriptions : null,
                Conservation.sameInOrder(List.of(1), got),
                stats.received() != got.size() ? "VIOLATION stats.received=" + stats.received() : null);
        r.r2 = Conservation.show(got);
        r.r3 = violation != null ? violation : "ok";
    }
}
