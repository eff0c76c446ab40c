package dev.sluice.reliability.lincheck;

import dev.sluice.Channel;
import dev.sluice.SendResult;

import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A narrow Lincheck model check of {@code cancel()} against the fast paths: with only three operations the scenario
 * generator keeps producing the shape that matters (items buffered, then {@code tryReceive} racing {@code cancel}).
 * Linearizability here means: once {@code cancel} has taken effect nothing is received any more, and a receive that
 * overlaps it returns the head item or nothing.
 */
@Param(name = "item", gen = IntGen.class, conf = "1:9")
public class CancelLincheckTest {

    private final Channel<Integer> channel = Channel.bounded(2);

    @Test
    @Timeout(120)
    void modelChecking_cancelAgainstTrySendAndTryReceive_isLinearizable() {
        LincheckSizes sizes = LincheckSizes.modelChecking(10, 300);
        new ModelCheckingOptions()
                .loopBound(Integer.getInteger("lincheck.loopBound", 1_000))
                .addCustomScenario(receiveDuringCancel())
                .iterations(sizes.iterations)
                .invocationsPerIteration(sizes.invocationsPerIteration)
                .threads(2)
                .actorsPerThread(2)
                .actorsBefore(2)
                .actorsAfter(1)
                .check(getClass());
    }

    /**
     * The shape jcstress's {@code CancelVsTrySend} found, explored exhaustively first: one item buffered, then
     * {@code trySend(6); tryReceive()} in one thread against {@code cancel()} in the other.
     */
    private static ExecutionScenario receiveDuringCancel() {
        return Scenarios.of(CancelLincheckTest.class,
                init -> init.op("trySend", 5),
                t1 -> t1.op("trySend", 6).op("tryReceive"),
                t2 -> t2.op("cancel"));
    }

    /**
     * Offers an item.
     *
     * @param item the item
     * @return the send result
     */
    @Operation
    public SendResult trySend(@Param(name = "item") int item) {
        return channel.trySend(item);
    }

    /**
     * Takes an item if available.
     *
     * @return the item or {@code null}
     */
    @Operation
    public Integer tryReceive() {
        return channel.tryReceive();
    }

    /** Cancels the channel. */
    @Operation
    public void cancel() {
        channel.cancel();
    }
}
