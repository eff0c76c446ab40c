package dev.sluice.examples;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelState;
import dev.sluice.ChannelStats;
import reactor.core.publisher.Flux;

/**
 * The README example: a blocking producer read as a {@code Publisher}, and a {@code Publisher} read with a blocking
 * iterator. The block between the README markers in {@link #run()} is the README's code, character for character
 * (checked by {@code ReadmeCoreExampleTest}, which also runs it).
 */
public final class ReadmeCoreExample {

    private ReadmeCoreExample() {
    }

    /**
     * What the example did.
     *
     * @param linesState the first channel's final state
     * @param linesStats the first channel's counters
     * @param numbersState the second channel's final state
     * @param sum the sum of the numbers the blocking iterator read
     */
    public record Result(ChannelState linesState, ChannelStats linesStats, ChannelState numbersState, long sum) {
    }

    /**
     * Runs the example and prints what it got.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while waiting
     */
    public static void main(String[] args) throws InterruptedException {
        Result result = run();
        System.out.println("the Flux received " + result.linesStats().received() + " lines; channel "
                + result.linesState() + ", peak occupancy " + result.linesStats().peakSize() + " of 64");
        System.out.println("the blocking iterator summed 1..1000 = " + result.sum() + "; channel "
                + result.numbersState());
    }

    /**
     * Runs the example.
     *
     * @return what both halves received
     * @throws InterruptedException if interrupted while waiting
     */
    public static Result run() throws InterruptedException {
        // --- README: begin ---
        // blocking producer -> Publisher consumer
        Channel<String> lines = Channel.bounded(64);
        Thread producer = new Thread(() -> {
            try (lines) {                                   // close(): consumers drain, then complete
                for (int i = 0; i < 1_000; i++) {
                    lines.send("line " + i);                // blocks while 64 lines wait: backpressure
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        producer.start();
        Flux.from(lines.asPublisher())                      // items leave the buffer only against request(n)
                .map(String::length)
                .blockLast();

        // upstream Publisher -> blocking consumer
        Channel<Integer> numbers = Channel.bounded(16);
        Flux.range(1, 1_000).subscribe(numbers.asSubscriber()); // requests only what free slots allow
        long sum = 0;
        try (ChannelIterator<Integer> it = numbers.iterator()) {
            while (it.hasNext()) {
                sum += it.next();                           // blocks for the next item; ends when upstream completes
            }
        }
        // --- README: end ---
        producer.join();
        return new Result(lines.state(), lines.stats(), numbers.state(), sum);
    }
}
