package dev.sluice.examples;

import java.util.List;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import reactor.core.publisher.Flux;

/**
 * The README example: a blocking producer read as a {@code Publisher}, and a {@code Publisher} read with a blocking
 * iterator. The body of {@link #run()} is the text of the README, compiled and run by {@code ReadmeCoreExampleTest}.
 */
public final class ReadmeCoreExample {

    private ReadmeCoreExample() {
    }

    /**
     * What the example computed.
     *
     * @param lines the lines the Publisher side received, in order
     * @param sum the sum of the numbers the blocking iterator read
     */
    public record Result(List<String> lines, long sum) {
    }

    /**
     * Runs the example and prints what it got.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while waiting
     */
    public static void main(String[] args) throws InterruptedException {
        Result result = run();
        System.out.println("Publisher side received " + result.lines().size() + " lines, first "
                + result.lines().get(0) + ", last " + result.lines().get(result.lines().size() - 1));
        System.out.println("blocking iterator summed 1..100 = " + result.sum());
    }

    /**
     * Runs the example.
     *
     * @return what both halves received
     * @throws InterruptedException if interrupted while waiting
     */
    public static Result run() throws InterruptedException {
        // --- README: begin ---
        // 1. blocking code -> Publisher: send() blocks while 64 lines wait for the subscriber
        Channel<String> lines = Channel.bounded(64);
        Thread producer = new Thread(() -> {
            try (lines) {                                   // close() at the end: the subscriber completes
                for (int i = 1; i <= 1000; i++) {
                    lines.send("line " + i);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        producer.start();
        List<String> received = Flux.from(lines.asPublisher()).collectList().block();

        // 2. Publisher -> blocking code: the channel requests only what its 16 free slots allow
        Channel<Integer> numbers = Channel.bounded(16);
        Flux.range(1, 100).subscribe(numbers.asSubscriber()); // upstream completion closes the channel
        long sum = 0;
        try (ChannelIterator<Integer> it = numbers.iterator()) {
            while (it.hasNext()) {
                sum += it.next();
            }
        }
        // --- README: end ---
        producer.join();
        return new Result(received, sum);
    }
}
