package dev.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.ChannelState;

/** Runs {@link GracefulShutdown}: its {@code main}, and its {@code run} methods with checks. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GracefulShutdownTest {

    @Test
    void gracefulShutdown_close_drainsEverythingThenCompletes() throws Exception {
        GracefulShutdown.Scenario s = GracefulShutdown.closeScenario();

        assertEquals(ChannelState.COMPLETED, s.state());
        assertEquals(List.of("buffer-1", "buffer-2", "buffer-3", "buffer-4", "buffer-5"), s.received());
        assertEquals(List.of(), s.undelivered());
        assertEquals(List.of("buffer-6"), s.refusedAfterEnd());
    }

    @Test
    void gracefulShutdown_fail_drainsEverythingThenSignalsTheCause() throws Exception {
        GracefulShutdown.Scenario s = GracefulShutdown.failScenario();

        assertEquals(ChannelState.FAILED, s.state());
        assertEquals(List.of("buffer-1", "buffer-2", "buffer-3", "buffer-4", "buffer-5"), s.received());
        assertEquals(List.of(), s.undelivered());
        assertEquals("Flux failed with IOException: disk full", s.end());
    }

    @Test
    void gracefulShutdown_cancel_bufferedGoToHandlerWaitingSenderKeepsItsItem() throws Exception {
        GracefulShutdown.Scenario s = GracefulShutdown.cancelScenario();

        assertEquals(ChannelState.CANCELLED, s.state());
        assertEquals(List.of("buffer-1", "buffer-2"), s.received());
        assertEquals(List.of("buffer-3", "buffer-4", "buffer-5", "buffer-6", "buffer-7"), s.undelivered());
        assertEquals(List.of("buffer-8"), s.refusedAfterEnd());
        assertTrue(s.end().startsWith("receive() threw ChannelClosedException caused by Cancellation"), s.end());
        // conservation: 7 accepted = 2 received + 5 undelivered; the 8th was never accepted
        assertEquals(7, s.received().size() + s.undelivered().size());
        assertFalse(s.undelivered().contains("buffer-8"));
    }

    @Test
    void gracefulShutdown_main_printsThreeScenarios() throws Exception {
        String out = Stdout.capture(() -> GracefulShutdown.main(new String[0]));

        assertTrue(out.contains("close:  Scenario[state=COMPLETED"), out);
        assertTrue(out.contains("fail:   Scenario[state=FAILED"), out);
        assertTrue(out.contains("cancel: Scenario[state=CANCELLED"), out);
    }
}
