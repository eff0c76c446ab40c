package dev.sluice.reliability.lincheck;

import java.util.ArrayList;
import java.util.List;

import dev.sluice.Channel;
import dev.sluice.SendResult;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Linearizability of the channel's non-blocking operations: {@code trySend}, {@code tryReceive}, {@code drainTo} of one item,
 * {@code stats().size()}, {@code close} and {@code cancel}, checked by Lincheck against the channel itself run
 * sequentially. Blocking operations cannot serve as a sequential specification (Lincheck reports them as hung); they
 * are covered by the jcstress module and the leak matrix.
 *
 * <p>One subclass per capacity, as JCTools' {@code QueueSanityTest} does. Model checking explores interleavings under
 * sequential consistency and prints the failing one; stress mode runs real threads, so it also sees memory-model
 * effects.
 */
@Param(name = "item", gen = IntGen.class, conf = "1:9")
public abstract class AbstractChannelLincheckTest {

    private final Channel<Integer> channel;

    /**
     * Creates the channel under test.
     *
     * @param capacity its capacity
     */
    protected AbstractChannelLincheckTest(int capacity) {
        this.channel = Channel.bounded(capacity);
    }

    /* ---- runs ---- */

    @Test
    @Timeout(120)
    void modelChecking_nonBlockingOperations_areLinearizable() {
        LincheckSizes sizes = LincheckSizes.modelChecking(10, 300);
        new ModelCheckingOptions()
                .loopBound(Integer.getInteger("lincheck.loopBound", 1_000))
                .iterations(sizes.iterations)
                .invocationsPerIteration(sizes.invocationsPerIteration)
                .threads(2)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(2)
                .check(getClass());
    }

    @Test
    @Timeout(120)
    void stress_nonBlockingOperations_areLinearizable() {
        LincheckSizes sizes = LincheckSizes.stress(10, 700);
        new StressOptions()
                .iterations(sizes.iterations)
                .invocationsPerIteration(sizes.invocationsPerIteration)
                .threads(2)
                .actorsPerThread(3)
                .actorsBefore(2)
                .actorsAfter(2)
                .check(getClass());
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
     * Takes an item if available.
     *
     * @return the item or {@code null}
     */
    @Operation
    public Integer tryReceive() {
        return channel.tryReceive();
    }

    /**
     * Moves one item into a list. ({@code drainTo} takes items one at a time, as repeated {@code tryReceive} calls
     * would, and is documented as not atomic, so only a one-item batch has a sequential specification.)
     *
     * @return the items moved
     */
    @Operation
    public List<Integer> drainToOne() {
        List<Integer> sink = new ArrayList<>();
        channel.drainTo(sink, 1);
        return sink;
    }

    /**
     * The buffered item count.
     *
     * @return {@code stats().size()}
     */
    @Operation
    public int size() {
        return channel.stats().size();
    }

    /** Closes the channel gracefully. */
    @Operation
    public void close() {
        channel.close();
    }

    /** Cancels the channel. */
    @Operation
    public void cancel() {
        channel.cancel();
    }
}
