package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link ReadmeCoreExample}: its {@code main}, and its {@code run} methods with checks. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReadmeCoreExampleTest {

    @Test
    void readmeExample_run_receivesAllLinesInOrderAndSumsTheNumbers() throws Exception {
        ReadmeCoreExample.Result result = ReadmeCoreExample.run();

        assertEquals(IntStream.rangeClosed(1, 1000).mapToObj(i -> "line " + i).collect(Collectors.toList()),
                result.lines());
        assertEquals(5050, result.sum());
    }

    @Test
    void readmeExample_main_printsBothResults() throws Exception {
        String out = Stdout.capture(() -> ReadmeCoreExample.main(new String[0]));

        assertTrue(out.contains("received 1000 lines, first line 1, last line 1000"), out);
        assertTrue(out.contains("summed 1..100 = 5050"), out);
    }
}
