package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Publisher;

/**
 * The {@link BlockingGuard} SPI, registered the way users on the class path register one: a
 * {@code META-INF/services/dev.sluice.BlockingGuard} file (in the test resources) naming
 * {@link BlockingGuardTestFixture.NoBlockPrefixGuard}, which refuses threads named {@code no-block-*}.
 *
 * <p>Surefire runs this module's tests on the module path, patched into the named module {@code dev.sluice}, where
 * {@link java.util.ServiceLoader} ignores {@code META-INF/services} (a named module registers providers with
 * {@code provides}). So the scenarios run in an isolated class loader holding the core classes, the test classes and
 * reactive-streams as an unnamed module, exactly like an application on the class path; the guard is loaded there
 * when the first channel class initializes, and nowhere else.
 */
@Timeout(value = 10, threadMode = SEPARATE_THREAD)
class BlockingGuardTest {

    private static URLClassLoader isolated;

    @BeforeAll
    static void isolate() {
        isolated = new ChildFirstLoader(new URL[] {
            location(Channel.class), location(BlockingGuardTest.class), location(Publisher.class)});
    }

    @AfterAll
    static void close() throws Exception {
        isolated.close();
    }

    /* ---- refused ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void blockingCalls_onRefusedThread_throwIllegalStateExceptionWithTheGuardsMessageAndChangeNothing()
            throws Exception {
        assertEquals(List.of(), run("RefusedScenario"));
    }

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void nonBlockingCalls_onRefusedThread_work() throws Exception {
        assertEquals(List.of(), run("NonBlockingScenario"));
    }

    /* ---- allowed ---- */

    @Test
    @Timeout(value = 10, threadMode = SEPARATE_THREAD)
    void blockingCalls_onOtherThreads_work() throws Exception {
        assertEquals(List.of(), run("AllowedScenario"));
    }

    /* ---- helpers ---- */

    /**
     * Loads {@code dev.sluice} and {@code org.reactivestreams} classes from its own URLs first: the JDK's built-in
     * loaders share one package-to-module map, so plain parent-first delegation would find the module on the
     * module path again.
     */
    private static final class ChildFirstLoader extends URLClassLoader {
        static {
            registerAsParallelCapable();
        }

        ChildFirstLoader(URL[] urls) {
            super("sluice-classpath", urls, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("dev.sluice.") && !name.startsWith("org.reactivestreams.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> type = findLoadedClass(name);
                if (type == null) {
                    type = findClass(name);
                }
                if (resolve) {
                    resolveClass(type);
                }
                return type;
            }
        }
    }

    private static URL location(Class<?> type) {
        URL url = type.getProtectionDomain().getCodeSource().getLocation();
        assertNotNull(url, "no code source for " + type);
        return url;
    }

    /** Runs a scenario of {@link BlockingGuardTestFixture} inside the isolated class loader. */
    @SuppressWarnings("unchecked")
    private static List<String> run(String scenario) throws Exception {
        Class<?> type = Class.forName(BlockingGuardTestFixture.class.getName() + "$" + scenario, true, isolated);
        assertNotSame(Channel.class, Class.forName(Channel.class.getName(), false, isolated), "not isolated");
        return ((Callable<List<String>>) type.getConstructor().newInstance()).call();
    }
}
