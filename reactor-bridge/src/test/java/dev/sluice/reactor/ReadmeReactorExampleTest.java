package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import reactor.core.publisher.Flux;

/** The README's "Reactor" example, verbatim between the markers, so that it keeps compiling and working. */
@Timeout(60)
class ReadmeReactorExampleTest {

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
}
