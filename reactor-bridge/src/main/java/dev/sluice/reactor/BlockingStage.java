package dev.sluice.reactor;

import dev.sluice.ChannelIterator;
import dev.sluice.ChannelSender;

/**
 * A blocking processing stage: reads items from {@code in} and writes results to {@code out}, blocking as it likes.
 *
 * <p>Used with {@link ReactorChannels#throughBlocking(int, BlockingStage)}, which runs {@link #run} once per
 * subscription on a thread of its own. {@code in} blocks until upstream delivers an item and ends when upstream
 * completes ({@code hasNext()} returns {@code false}) or fails ({@code hasNext()}/{@code next()} throw a
 * {@link dev.sluice.ChannelClosedException} whose cause is the upstream error). {@code out.send} blocks while the
 * downstream subscriber has not asked for more. When {@code run} returns, {@code out} is closed for you; when it
 * throws, the downstream subscriber receives the exception. After the downstream subscriber cancels, {@code in} ends
 * ({@code hasNext()} returns {@code false}; an item it already reserved is still returned by {@code next()}),
 * {@code out.send} throws {@link dev.sluice.ChannelClosedException} (even if the thread is interrupted: a closed
 * channel wins over the interrupt), and the thread is then interrupted, for whatever else it blocks in; what the
 * stage throws after that is dropped. One signal per situation, whatever the timing.
 *
 * <pre>{@code
 * BlockingStage<Path, Checksum> stage = (in, out) -> {
 *     while (in.hasNext()) {
 *         out.send(legacyChecksum(in.next()));   // legacy blocking code
 *     }
 * };
 * }</pre>
 *
 * @param <T> the input item type
 * @param <R> the output item type
 */
@FunctionalInterface
public interface BlockingStage<T, R> {

    /**
     * Processes items from {@code in} into {@code out}, on a thread that may block.
     *
     * @param in the upstream items, one blocking iterator
     * @param out where to send results; closed when this method returns normally
     * @throws Exception to fail the downstream subscriber with it (the upstream is cancelled)
     */
    void run(ChannelIterator<T> in, ChannelSender<R> out) throws Exception;
}
