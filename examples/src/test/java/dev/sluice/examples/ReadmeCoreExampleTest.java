package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelState;
import dev.sluice.ChannelStats;
import dev.sluice.UndeliveredReason;
import reactor.core.publisher.Flux;

/**
 * Runs {@link ReadmeCoreExample}, checks that its code is the README's first example, unchanged, and checks what the
 * README says next to it about a consumer that dies.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReadmeCoreExampleTest {

    @Test
    void readmeExample_run_deliversEveryLineAndSumsEveryNumber() throws Exception {
        ReadmeCoreExample.Result result = ReadmeCoreExample.run();

        assertEquals(ChannelState.COMPLETED, result.linesState());
        assertEquals(1_000, result.linesStats().sent());
        assertEquals(1_000, result.linesStats().received());
        assertEquals(0, result.linesStats().undelivered());
        assertTrue(result.linesStats().peakSize() <= 64, "peak " + result.linesStats().peakSize());
        assertEquals(ChannelState.COMPLETED, result.numbersState());
        assertEquals(500_500, result.sum());
    }

    @Test
    void readmeExample_main_printsBothResults() throws Exception {
        String out = Stdout.capture(() -> ReadmeCoreExample.main(new String[0]));

        assertTrue(out.contains("the Flux received 1000 lines; channel COMPLETED"), out);
        assertTrue(out.contains("the blocking iterator summed 1..1000 = 500500; channel COMPLETED"), out);
    }

    @Test
    void readmeExample_code_isTheReadmesFirstJavaBlock() throws IOException {
        Path readme = Path.of("..", "README.md");
        assertTrue(Files.exists(readme), "no README.md at " + readme.toAbsolutePath());
        List<String> readmeLines = Files.readAllLines(readme);
        int open = readmeLines.indexOf("```java");
        assertTrue(open >= 0, "README.md has no java block");
        int close = readmeLines.subList(open + 1, readmeLines.size()).indexOf("```") + open + 1;
        String fromReadme = String.join("\n", readmeLines.subList(open + 1, close)).strip();

        List<String> source = Files.readAllLines(
                Path.of("src", "main", "java", "dev", "sluice", "examples", "ReadmeCoreExample.java"));
        int begin = source.indexOf("        // --- README: begin ---");
        int end = source.indexOf("        // --- README: end ---");
        String fromExample = source.subList(begin + 1, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .collect(Collectors.joining("\n")).strip();

        assertEquals(fromReadme, fromExample, "README.md and ReadmeCoreExample.java differ");
    }

    /* ---- the README's note "When a consumer dies" ---- */

    @Test
    void readmeNote_iteratorLoopDies_leavesChannelOpenAndUpstreamSubscribed_untilCancel() throws Exception {
        ConcurrentLinkedQueue<Integer> undelivered = new ConcurrentLinkedQueue<>();
        Channel<Integer> numbers = Channel.<Integer>builder()
                .capacity(16)
                .onUndelivered((item, reason) -> {
                    assertEquals(UndeliveredReason.CANCELLED, reason);
                    undelivered.add(item);
                })
                .build();
        CountDownLatch upstreamCancelled = new CountDownLatch(1);
        Flux.range(1, 1_000).doOnCancel(upstreamCancelled::countDown).subscribe(numbers.asSubscriber());

        IllegalStateException death = assertThrows(IllegalStateException.class, () -> {
            try (ChannelIterator<Integer> it = numbers.iterator()) {
                while (it.hasNext()) {
                    if (it.next() == 3) {
                        throw new IllegalStateException("the consumer dies at item 3");
                    }
                }
            }
        });
        assertEquals("the consumer dies at item 3", death.getMessage());

        // the iterator is closed, and nothing else happened: Flux.range is synchronous, so a cancel would have run
        assertEquals(ChannelState.OPEN, numbers.state());
        assertEquals(1, upstreamCancelled.getCount(), "the upstream was cancelled by the iterator's close");
        int size = numbers.stats().size();
        // refilled, in runs of a quarter of the capacity: 3 items were taken, fewer than a run (4) was asked again
        assertTrue(size >= 16 - 3 && size <= 16, "the buffer holds " + size + " of 16");

        numbers.cancel();

        assertTrue(upstreamCancelled.await(10, TimeUnit.SECONDS), "cancel() did not cancel the upstream");
        assertEquals(ChannelState.CANCELLED, numbers.state());
        // what the buffer held: the items after 3, in order
        assertEquals(IntStream.rangeClosed(4, 3 + size).boxed().collect(Collectors.toList()), List.copyOf(undelivered));
        assertEquals(size, numbers.stats().undelivered());
    }

    @Test
    void readmeNote_fluxConsumerFails_producerStaysBlockedInSend_untilCancel() throws Exception {
        Channel<String> lines = Channel.bounded(64);
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Throwable> producerEnd = new CompletableFuture<>();
        Thread producer = new Thread(() -> {
            started.countDown();
            try (lines) {
                for (int i = 0; i < 1_000; i++) {
                    lines.send("line " + i);
                }
                producerEnd.complete(null);
            } catch (Throwable t) {
                producerEnd.complete(t);
            }
        });
        producer.start();
        assertTrue(started.await(10, TimeUnit.SECONDS));

        RuntimeException failure = assertThrows(RuntimeException.class, () -> Flux.from(lines.asPublisher())
                .map(line -> {
                    if (line.equals("line 2")) {
                        throw new IllegalArgumentException("the consumer dies at line 2");
                    }
                    return line.length();
                })
                .blockLast());
        assertEquals("the consumer dies at line 2", failure.getMessage());

        // the Flux cancelled its subscription; the producer fills the buffer and then waits in send() for good
        awaitFullWithWaitingSender(lines);
        assertEquals(ChannelState.OPEN, lines.state());
        assertEquals(64, lines.stats().size());
        assertFalse(producerEnd.isDone());

        lines.cancel();

        Throwable end = producerEnd.get(10, TimeUnit.SECONDS);
        assertInstanceOf(ChannelClosedException.class, end, "the blocked send() should throw");
        producer.join(10_000);
        assertEquals(ChannelState.CANCELLED, lines.state());
    }

    @Test
    void readmeNote_cancelAfterTheChannelCompleted_changesNothing() throws Exception {
        Channel<Integer> numbers = Channel.bounded(16);
        Flux.range(1, 1_000).subscribe(numbers.asSubscriber());
        long sum = 0;
        try (ChannelIterator<Integer> it = numbers.iterator()) {
            while (it.hasNext()) {
                sum += it.next();
            }
        } finally {
            numbers.cancel();
        }

        assertEquals(500_500, sum);
        assertEquals(ChannelState.COMPLETED, numbers.state());
        assertEquals(ChannelState.COMPLETED, numbers.termination().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(0, numbers.stats().undelivered());
    }

    /** Waits, polling the channel's state as core's ContractTestSupport.awaitCondition does, for n waiting senders. */
    /* A blocked sender may wait for a run of free slots before it is admitted (bounded): wait for the full state. */
    private static void awaitFullWithWaitingSender(Channel<?> channel) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (;;) {
            ChannelStats stats = channel.stats();
            if (stats.waitingSenders() >= 1 && stats.size() == stats.capacity()) {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "not full with a waiting sender: " + stats);
            LockSupport.parkNanos(100_000L);
        }
    }
}
