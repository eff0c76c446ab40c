package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import dev.sluice.Channel;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.LLL_Result;

/**
 * Cancelling a pending {@code sendAsync} future vs a {@code tryReceive} that frees the slot it waits for. Either the
 * cancel wins (the item is withdrawn and never enqueued) or the admission wins (the future completes normally and the
 * item is buffered exactly once).
 *
 * <p>Result: what {@code cancel} returned, what {@code tryReceive} got, then the items drained by the arbiter (or
 * the violation).
 */
@JCStressTest
@Description("sendAsync(1).cancel() vs tryReceive() freeing its slot at capacity 1: withdrawn xor accepted once")
@Outcome(id = "true, 0, none", expect = ACCEPTABLE, desc = "cancel won: 1 withdrawn, never enqueued")
@Outcome(id = "false, 0, 1", expect = ACCEPTABLE, desc = "admission won: 1 accepted into the freed slot")
@Outcome(expect = FORBIDDEN, desc = "withdrawn item enqueued, accepted item lost, or future left pending")
@State
public class SendAsyncCancelVsTryReceive {

    final Channel<Integer> channel = Channel.bounded(1);
    final CompletableFuture<Void> pending;

    /** Fills the only slot with 0, then queues {@code sendAsync(1)} behind it. */
    public SendAsyncCancelVsTryReceive() {
        channel.trySend(0);
        pending = channel.sendAsync(1);
    }

    /**
     * Withdraws the pending item.
     *
     * @param r result
     */
    @Actor
    public void canceller(LLL_Result r) {
        r.r1 = pending.cancel(false);
    }

    /**
     * Takes item 0, freeing the slot the pending send waits for.
     *
     * @param r result
     */
    @Actor
    public void receiver(LLL_Result r) {
        r.r2 = channel.tryReceive();
    }

    /**
     * Drains and checks that the future's fate matches the item's.
     *
     * @param r result
     */
    @Arbiter
    public void arbiter(LLL_Result r) {
        List<Integer> drained = Conservation.drain(channel);
        boolean cancelled = (Boolean) r.r1;
        String violation;
        if (!pending.isDone()) {
            violation = "VIOLATION future still pending, drained " + drained;
        } else if (cancelled != pending.isCancelled()) {
            violation = "VIOLATION cancel returned " + cancelled + " but isCancelled=" + pending.isCancelled();
        } else if (!cancelled && pending.isCompletedExceptionally()) {
            violation = "VIOLATION future failed although not cancelled: " + pending;
        } else {
            violation = Conservation.first(
                    Conservation.sameInOrder(cancelled ? List.of() : List.of(1), drained),
                    Conservation.stats(channel, cancelled ? 1 : 2, (r.r2 != null ? 1 : 0) + drained.size(), 0));
        }
        r.r3 = violation != null ? violation : Conservation.show(drained);
    }
}
