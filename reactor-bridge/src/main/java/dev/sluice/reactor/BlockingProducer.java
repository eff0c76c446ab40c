package dev.sluice.reactor;

import dev.sluice.ChannelSender;

/**
 * A blocking source of items: sends them to {@code out}, blocking while the subscriber has not asked for more.
 *
 * <p>Used with {@link ReactorChannels#fromBlocking(int, BlockingProducer)}, which runs {@link #run} once per
 * subscription on a thread of its own. When {@code run} returns, {@code out} is closed for you and the subscriber
 * completes after the last item; when it throws, the subscriber receives the exception after the items already sent.
 * After the subscriber cancels, {@code out.send} throws {@link dev.sluice.ChannelClosedException} and the thread is
 * interrupted.
 *
 * <pre>{@code
 * BlockingProducer<String> lines = out -> {
 *     try (BufferedReader reader = Files.newBufferedReader(path)) {
 *         for (String line; (line = reader.readLine()) != null; ) {
 *             out.send(line);
 *         }
 *     }
 * };
 * }</pre>
 *
 * @param <T> the item type
 */
@FunctionalInterface
public interface BlockingProducer<T> {

    /**
     * Sends items to {@code out}, on a thread that may block.
     *
     * @param out where to send items; closed when this method returns normally
     * @throws Exception to fail the subscriber with it
     */
    void run(ChannelSender<T> out) throws Exception;
}
