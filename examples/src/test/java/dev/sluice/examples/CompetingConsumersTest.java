package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link CompetingConsumers}: its {@code main}, and its {@code run} methods with checks. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CompetingConsumersTest {

    @Test
    void competingConsumers_run_everyItemToExactlyOneConsumer() throws Exception {
        CompetingConsumers.Result result = CompetingConsumers.run(20_000, 32);

        assertEquals(0, result.duplicates());
        assertEquals(20_000, result.distinct());
        assertEquals(20_000, result.perConsumer().values().stream().mapToInt(Integer::intValue).sum(),
                result.perConsumer().toString());
    }

    @Test
    void competingConsumers_capacityOne_stillExactlyOnce() throws Exception {
        CompetingConsumers.Result result = CompetingConsumers.run(5_000, 1);

        assertEquals(0, result.duplicates());
        assertEquals(5_000, result.distinct());
    }

    @Test
    void competingConsumers_main_printsShares() throws Exception {
        String out = Stdout.capture(() -> CompetingConsumers.main(new String[0]));

        assertTrue(out.contains("consumed 20000 distinct items, 0 duplicates"), out);
    }
}
