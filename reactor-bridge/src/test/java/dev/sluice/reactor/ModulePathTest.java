package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Publisher;

import dev.sluice.Channel;
import dev.sluice.reactor.probe.ModulePathProbe;
import io.micrometer.context.ContextRegistry;
import reactor.core.publisher.Flux;

/**
 * Starts a JVM with sluice-core, sluice-reactor, reactor-core and reactive-streams only (BlockHound and
 * context-propagation, optional dependencies, absent) once on the module path and once on the class path, and checks
 * that the module resolves, the {@code provides} of a BlockHound service whose module is missing does no harm, the
 * guard is found both ways, and a blocking stage runs (without the Context's ThreadLocals); then with
 * context-propagation on the module path, where the stage gets them.
 */
@Timeout(120)
class ModulePathTest {

    private static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static String run(List<String> options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx64m");
        command.addAll(options);
        command.add(ModulePathProbe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe JVM ends");
        assertEquals(0, process.exitValue(), command + "\n" + output);
        return output;
    }

    private static String modules() {
        return String.join(File.pathSeparator, location(Channel.class), location(ReactorChannels.class),
                location(Flux.class), location(Publisher.class));
    }

    @Test
    void modulePath_withoutBlockHound_resolvesAndInstallsTheGuard() throws Exception {
        String out = run(List.of("--module-path", modules(), "--add-modules", "dev.sluice.reactor",
                "-cp", location(ModulePathProbe.class)));
        assertTrue(out.contains("module=dev.sluice.reactor"), out);
        assertTrue(out.contains("blockhound=false"), out);
        assertTrue(out.contains("parallel receive refused: Channel.receive() would block thread parallel-"), out);
        assertTrue(out.contains("flux=a"), out);
        assertTrue(out.contains("context-propagation=false"), out);
        assertTrue(out.contains("stage saw null"), out);
    }

    @Test
    void modulePath_withContextPropagation_stageGetsTheContextAsThreadLocals() throws Exception {
        String out = run(List.of("--module-path", modules() + File.pathSeparator + location(ContextRegistry.class),
                "--add-modules", "dev.sluice.reactor", "-cp", location(ModulePathProbe.class)));
        assertTrue(out.contains("module=dev.sluice.reactor"), out);
        assertTrue(out.contains("context-propagation=true"), out);
        assertTrue(out.contains("stage saw carried"), out);
    }

    @Test
    void classPath_withoutBlockHound_installsTheGuard() throws Exception {
        String out = run(List.of("-cp", modules() + File.pathSeparator + location(ModulePathProbe.class)));
        assertTrue(out.contains("module=null"), out);
        assertTrue(out.contains("blockhound=false"), out);
        assertTrue(out.contains("parallel receive refused: Channel.receive() would block thread parallel-"), out);
        assertTrue(out.contains("flux=a"), out);
        assertTrue(out.contains("stage saw null"), out);
    }
}
