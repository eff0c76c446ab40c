package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Publisher;

import dev.sluice.probe.NoJfrProbe;

/**
 * Core works on a runtime without {@code jdk.jfr} ({@code requires static}; a jlinked image may lack it): a child
 * JVM with the observable modules limited to java.base and dev.sluice runs channels whose every wait would be a JFR
 * event ({@link NoJfrProbe}).
 */
@Timeout(120)
class NoJfrRuntimeTest {

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void withoutJdkJfr_channelsWaitAndEndNormally() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx64m",
                "--module-path", location(Channel.class) + File.pathSeparator + location(Publisher.class),
                "--limit-modules", "java.base,dev.sluice", "--add-modules", "dev.sluice",
                "-cp", location(NoJfrProbe.class), NoJfrProbe.class.getName()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe JVM ends");
        assertEquals(0, process.exitValue(), command + "\n" + out);

        assertTrue(out.contains("module=dev.sluice"), out);
        assertTrue(out.contains("jdk.jfr=false"), "the runtime has no jdk.jfr: " + out);
        assertTrue(out.contains("received=first second third fourth"), out);
        assertTrue(out.contains("blocked=true starved=true"), out);
    }
}
