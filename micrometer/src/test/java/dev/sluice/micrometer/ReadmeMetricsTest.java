package dev.sluice.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.sluice.Channel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The README's Micrometer example, as it is there. */
class ReadmeMetricsTest {

    @Test
    void readmeExample() {
        MeterRegistry registry = new SimpleMeterRegistry();                 // or your application's registry
        Channel<String> hashes = ChannelMetrics.monitor(registry,
                Channel.<String>builder().name("hash").capacity(64).build(), "pipeline", "sync");

        hashes.trySend("a");
        assertEquals(64, registry.get("sluice.channel.capacity").tags("channel", "hash", "pipeline", "sync").gauge()
                .value());
        assertEquals(1, registry.get("sluice.channel.sent").tags("channel", "hash").functionCounter().count());
    }
}
