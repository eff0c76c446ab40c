package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ChannelState;

/** Runs {@link ReadmeCoreExample} and checks that its code is the README's first example, unchanged. */
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
}
