package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The README's "Reactor" examples, verbatim between the markers (checked against README.md below), so that they keep
 * compiling and working.
 */
@Timeout(60)
class ReadmeReactorExampleTest {

    private static final Path SOURCE =
            Path.of("src", "test", "java", "dev", "sluice", "reactor", "ReadmeReactorExampleTest.java");

    /** Stands in for legacy blocking code (a checksum library, a JDBC call, a file read). */
    static String legacyChecksum(int block) {
        CRC32 crc = new CRC32();
        crc.update(("block-" + block).getBytes(StandardCharsets.UTF_8));
        return Long.toHexString(crc.getValue());
    }

    @Test
    void readmeExample_runsLegacyCodeInsideAFlux() {
        // README example: begin
        List<String> checksums = Flux.range(0, 1_000)
                .transform(ReactorChannels.<Integer, String>throughBlocking(16, (in, out) -> {
                    // runs on its own (virtual) thread: blocking is fine here
                    while (in.hasNext()) {                     // waits for upstream items
                        int block = in.next();
                        out.send(legacyChecksum(block));       // waits while downstream is slow
                    }
                }))                                            // upstream demand <= 16 + what the stage took
                .collectList()
                .block(Duration.ofSeconds(30));
        // README example: end

        assertEquals(IntStream.range(0, 1_000).mapToObj(ReadmeReactorExampleTest::legacyChecksum)
                .collect(Collectors.toList()), checksums);
    }

    @Test
    void readmeSendExample_feedsAChannelFromAFlux_withoutBlockingAThread() throws Exception {
        Channel<Integer> jobs = Channel.bounded(64);
        Flux<Integer> numbers = Flux.range(0, 1_000);
        CompletableFuture<List<Integer>> received = ReactorChannels.flux(jobs).collectList().toFuture();

        // README example (send): begin
        Mono<Long> accepted = ReactorChannels.sendAll(jobs, numbers);          // backpressure; leaves jobs open
        Flux<Integer> passedOn = numbers
                .concatMap(n -> ReactorChannels.send(jobs, n).thenReturn(n)); // each item waits for a free slot
        // README example (send): end

        assertEquals(1_000L, accepted.block(Duration.ofSeconds(30)));
        assertEquals(IntStream.range(0, 1_000).boxed().collect(Collectors.toList()),
                passedOn.collectList().block(Duration.ofSeconds(30)));
        jobs.close();
        List<Integer> expected = new ArrayList<>();
        expected.addAll(IntStream.range(0, 1_000).boxed().collect(Collectors.toList()));
        expected.addAll(IntStream.range(0, 1_000).boxed().collect(Collectors.toList()));
        assertEquals(expected, received.get(30, TimeUnit.SECONDS));
        assertEquals(2_000, jobs.stats().received());
    }

    @Test
    void readmeExamples_code_isInTheReadme() throws IOException {
        String readme = String.join("\n", Files.readAllLines(Path.of("..", "README.md")));
        for (String marker : List.of("README example", "README example (send)")) {
            String fromTest = markedBlock(marker);
            assertTrue(readme.contains("```java\n" + fromTest + "\n```"),
                    "README.md has no java block equal to the test's \"" + marker + "\" block:\n" + fromTest);
        }
    }

    /** The lines between "// {marker}: begin" and "// {marker}: end" in this file, without the markers' indent. */
    private static String markedBlock(String marker) throws IOException {
        List<String> source = Files.readAllLines(SOURCE);
        int begin = -1;
        int end = -1;
        for (int i = 0; i < source.size(); i++) {
            if (source.get(i).strip().equals("// " + marker + ": begin")) {
                begin = i;
            } else if (source.get(i).strip().equals("// " + marker + ": end")) {
                end = i;
            }
        }
        assertTrue(begin >= 0 && end > begin, "no \"" + marker + "\" markers in " + SOURCE);
        int indent = source.get(begin).indexOf("//");
        return source.subList(begin + 1, end).stream()
                .map(line -> line.length() >= indent ? line.substring(indent) : line.strip())
                .collect(Collectors.joining("\n"));
    }
}
