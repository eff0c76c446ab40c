package dev.sluice.reactor.blockhound;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

import reactor.blockhound.BlockHound;

/**
 * Installs BlockHound (with every integration on the class path: Reactor's and Sluice's) before any test runs, when
 * the JVM runs with {@code -Dsluice.blockhound.everywhere=true}: the surefire execution {@code blockhound-all} uses it
 * to run the whole bridge test suite under BlockHound (issue 7). A blocking call on a non-blocking thread fails the
 * test under way and is also recorded in {@code target/blockhound-everywhere.txt}, which {@code .ci/run} checks, so a
 * report is seen even where the code under test swallowed the error BlockHound threw.
 */
public final class BlockHoundEverywhereListener implements TestExecutionListener {

    /** Blocking calls BlockHound reported, as "method on thread". */
    static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    /** Creates the listener; called by the JUnit Platform's ServiceLoader. */
    public BlockHoundEverywhereListener() {
    }

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        if (Boolean.getBoolean("sluice.blockhound.everywhere")) {
            BlockHound.install(builder -> builder.blockingMethodCallback(method -> {
                REPORTS.add(method + " on " + Thread.currentThread().getName());
                throw new Error("Blocking call! " + method);
            }));
        }
    }

    /** Writes target/blockhound-everywhere.txt: the number of reports, then each one (CI fails unless it is 0). */
    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        if (!Boolean.getBoolean("sluice.blockhound.everywhere")) {
            return;
        }
        StringBuilder text = new StringBuilder().append(REPORTS.size()).append('\n');
        REPORTS.forEach(r -> text.append(r).append('\n'));
        try {
            Files.writeString(Path.of("target", "blockhound-everywhere.txt"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
