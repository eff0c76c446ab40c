package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Runs {@link SyncToFlux}: its {@code main}, and its {@code run} methods with checks. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SyncToFluxTest {

    @Test
    void syncToFlux_slowSubscriber_producerNeverMoreThanCapacityAheadAndBlocks() {
        SyncToFlux.Result result = SyncToFlux.run(2_000, 16);

        assertEquals(IntStream.range(0, 2_000).boxed().collect(Collectors.toList()), result.received());
        // capacity items in the buffer, plus at most the one being handed to onNext when the producer looked
        assertTrue(result.maxLead() <= 16 + 1, "producer ran " + result.maxLead() + " items ahead");
        assertTrue(result.stats().peakSize() <= 16, "peak " + result.stats().peakSize());
        assertTrue(result.stats().senderBlockedNanos() > 0, "the producer never blocked: " + result.stats());
        assertEquals(2_000, result.stats().sent());
    }

    @Test
    void syncToFlux_main_reportsBackpressure() throws Exception {
        String out = Stdout.capture(() -> SyncToFlux.main(new String[0]));

        assertTrue(out.contains("received 2000 items in order"), out);
    }
}
