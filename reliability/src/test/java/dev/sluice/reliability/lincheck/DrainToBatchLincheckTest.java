package dev.sluice.reliability.lincheck;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.Channel;
import dev.sluice.SendResult;

import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Linearizability of {@code drainTo} batches of 1 to 3 items, in the setting where a non-atomic {@code drainTo}
 * ("takes items one at a time, as repeated {@code tryReceive} calls would", its Javadoc) still has a sequential
 * specification: it is the only consumer ({@code drainTo} and {@code tryReceive} are in one non-parallel group), and
 * the buffer never fills (capacity 16, more than every {@code trySend} a scenario can make). Then a batch linearizes
 * at its last poll: the items it took earlier were at the head and nobody else removed anything meanwhile, so an
 * atomic batch at that instant takes the same items, and a concurrent {@code trySend} or {@code close} gives the
 * same results either way.
 *
 * <p>Left out on purpose, each with the history that a one-at-a-time batch produces and no sequential order explains:
 * <ul>
 *   <li>a full buffer: capacity 1, {@code trySend(3); trySend(6) || drainTo(2): [3, 6]} (the removed
 *       {@code DrainToLincheckTest} found it; see reliability/README.md);</li>
 *   <li>a competing consumer: buffer [a, b, c], {@code drainTo(2): [a, c] || tryReceive(): b};</li>
 *   <li>{@code stats().size()}: it can see a batch half taken;</li>
 *   <li>{@code cancel()}: {@code drainTo(2): [a]} from [a, b] when the cancel discards b between the two polls.</li>
 * </ul>
 * Those are covered as far as they are specified by the leak matrix and the races in core. If Core v2 makes a batch
 * one claim on the ring (issue 12, {@code drain(k)}), the full-buffer case becomes specifiable too.
 */
@Param(name = "item", gen = IntGen.class, conf = "1:9")
@Param(name = "max", gen = IntGen.class, conf = "1:3")
public class DrainToBatchLincheckTest {

    /** More than the trySends of any scenario below (threads x actors + before + after), so it never fills. */
    private static final int CAPACITY = 16;

    private final Channel<Integer> channel = Channel.bounded(CAPACITY);

    /* ---- runs ---- */

    @Test
    @Timeout(120)
    void modelChecking_drainToBatchesAsTheOnlyConsumer_areLinearizable() {
        LincheckSizes sizes = LincheckSizes.modelChecking(4, 250);
        new ModelCheckingOptions()
                .loopBound(Integer.getInteger("lincheck.loopBound", 1_000))
                .addCustomScenario(batchAgainstSends())
                .addCustomScenario(batchesAgainstClose())
                .iterations(sizes.iterations)
                .invocationsPerIteration(sizes.invocationsPerIteration)
                .threads(3)
                .actorsPerThread(2)
                .actorsBefore(2)
                .actorsAfter(2)
                .check(getClass());
    }

    @Test
    @Timeout(120)
    void stress_drainToBatchesAsTheOnlyConsumer_areLinearizable() {
        LincheckSizes sizes = LincheckSizes.stress(10, 700);
        new StressOptions()
                .iterations(sizes.iterations)
                .invocationsPerIteration(sizes.invocationsPerIteration)
                .threads(3)
                .actorsPerThread(2)
                .actorsBefore(2)
                .actorsAfter(2)
                .check(getClass());
    }

    /*
     * A batch racing sends that land while it runs (at capacity 1 this is the history that makes a one-at-a-time
     * batch non-linearizable, so the custom scenario shows the check has teeth), then a poll after it.
     */
    private static ExecutionScenario batchAgainstSends() {
        return Scenarios.of(DrainToBatchLincheckTest.class,
                init -> init.op("trySend", 1),
                t1 -> t1.op("trySend", 2).op("trySend", 3),
                t2 -> t2.op("drainTo", 3).op("tryReceive"));
    }

    /* Two batches racing a close and a send refused by it. */
    private static ExecutionScenario batchesAgainstClose() {
        return Scenarios.of(DrainToBatchLincheckTest.class,
                init -> init.op("trySend", 1).op("trySend", 2),
                t1 -> t1.op("close").op("trySend", 3),
                t2 -> t2.op("drainTo", 2).op("drainTo", 2));
    }

    /* ---- operations ---- */

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
     * Moves up to {@code max} items into a list.
     *
     * @param max the most items to move
     * @return the items moved, in channel order
     */
    @Operation(nonParallelGroup = "consumer")
    public List<Integer> drainTo(@Param(name = "max") int max) {
        List<Integer> sink = new ArrayList<>();
        int moved = channel.drainTo(sink, max);
        if (moved != sink.size()) {
            throw new AssertionError("drainTo returned " + moved + " but added " + sink);
        }
        return sink;
    }

    /**
     * Takes an item if available.
     *
     * @return the item or {@code null}
     */
    @Operation(nonParallelGroup = "consumer")
    public Integer tryReceive() {
        return channel.tryReceive();
    }

    /** Closes the channel gracefully. */
    @Operation
    public void close() {
        channel.close();
    }
}
