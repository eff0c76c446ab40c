package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link FluxThroughLegacyStage}: its {@code main}, and its {@code run} methods with checks. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FluxThroughLegacyStageTest {

    @Test
    void throughLegacyStage_run_formatsInOrderWithUpstreamBoundedByCapacity() {
        FluxThroughLegacyStage.Result result = FluxThroughLegacyStage.run(1_000, 8);

        assertEquals(1_000, result.lines().size());
        assertEquals("00001|RECORD-1", result.lines().get(0));
        assertEquals("01000|RECORD-1000", result.lines().get(999));
        assertTrue(result.maxAhead() <= 8 + 1, "upstream ran " + result.maxAhead() + " items ahead of the stage");
    }

    @Test
    void throughLegacyStage_stageThrows_fluxFailsAndUpstreamIsCancelled() {
        AtomicBoolean upstreamCancelled = new AtomicBoolean();

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FluxThroughLegacyStage.runWithPoison(100, 8, 42, upstreamCancelled));

        assertEquals("cannot format poison-42", e.getMessage());
        assertTrue(upstreamCancelled.get(), "upstream not cancelled");
    }

    @Test
    void throughLegacyStage_main_printsBothOutcomes() throws Exception {
        String out = Stdout.capture(() -> FluxThroughLegacyStage.main(new String[0]));

        assertTrue(out.contains("formatted 1000 records, last 01000|RECORD-1000"), out);
        assertTrue(out.contains("the Flux failed with: cannot format poison-42"), out);
    }
}
