package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.MDC;

import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import reactor.core.publisher.Flux;
import reactor.util.context.Context;

/**
 * A blocking stage runs with the subscriber's Reactor {@code Context} restored as ThreadLocals, through
 * io.micrometer's context-propagation: here SLF4J's MDC, with context-propagation's own
 * {@link Slf4jThreadLocalAccessor} registered in the global {@link ContextRegistry}, as an application that logs
 * request ids would do. (The test classpath has slf4j-jdk14, so MDC has a real adapter.)
 *
 * <p>SLF4J's basic MDC is an {@code InheritableThreadLocal}, so a stage thread started by the subscribing thread would
 * inherit that thread's MDC anyway: the tests run their stages on a pool whose threads were started before any MDC
 * was set, or give the Context a value that differs from the subscribing thread's.
 */
@Timeout(60)
class ContextPropagationTest {

    private static final String KEY = "requestId";

    /** Stage threads started before any MDC was set: they inherit none. */
    private static ThreadPoolExecutor pool;

    @BeforeAll
    static void registerMdc() {
        MDC.clear();
        pool = new ThreadPoolExecutor(2, 2, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>());
        pool.prestartAllCoreThreads();
        ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
    }

    @AfterAll
    static void unregisterMdc() {
        ContextRegistry.getInstance().removeThreadLocalAccessor(Slf4jThreadLocalAccessor.KEY);
        pool.shutdownNow();
    }

    @AfterEach
    void clearMdc() {
        MDC.clear();
    }

    /** A stage that sends, for each item, the item and the MDC value it sees. */
    private static BlockingStage<Integer, String> mdcReader() {
        return (in, out) -> {
            while (in.hasNext()) {
                out.send(in.next() + ":" + MDC.get(KEY));
            }
        };
    }

    @Test
    void throughBlocking_contextCapture_stageSeesTheSubscribersMdc() {
        MDC.put(KEY, "r-42");
        List<String> got = Flux.range(1, 3)
                .transform(ReactorChannels.throughBlocking(2, mdcReader(), pool))
                .contextCapture() // the subscribing thread's ThreadLocals (the MDC) into the Context
                .collectList()
                .block(Duration.ofSeconds(10));

        assertEquals(List.of("1:r-42", "2:r-42", "3:r-42"), got);
    }

    /** The README's example, as it is there ({@code pool} plays {@code legacyPool}). */
    @Test
    void readmeExample() {
        ExecutorService legacyPool = pool;
        ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor()); // once, at startup

        MDC.put("requestId", "r-42");
        List<String> got = Flux.range(1, 3)
                .transform(ReactorChannels.<Integer, String>throughBlocking(2, (in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next() + ":" + MDC.get("requestId"));   // legacy code logging with the MDC
                    }
                }, legacyPool))              // long-lived threads, started before this request
                .contextCapture()            // the subscribing thread's ThreadLocals (the MDC) into the Context
                .collectList()
                .block(Duration.ofSeconds(10));  // [1:r-42, 2:r-42, 3:r-42]

        assertEquals(List.of("1:r-42", "2:r-42", "3:r-42"), got);
    }

    @Test
    void throughBlocking_contextWrite_stageSeesTheContextsMdc() {
        MDC.put(KEY, "the subscriber's thread"); // inherited by the default stage thread, then overridden
        List<String> got = Flux.range(1, 2)
                .transform(ReactorChannels.throughBlocking(2, mdcReader()))
                .contextWrite(Context.of(Slf4jThreadLocalAccessor.KEY, Map.of(KEY, "from-context")))
                .collectList()
                .block(Duration.ofSeconds(10));

        assertEquals(List.of("1:from-context", "2:from-context"), got);
        assertEquals("the subscriber's thread", MDC.get(KEY), "the subscribing thread's MDC is untouched");
    }

    @Test
    void fromBlocking_producerSeesTheSubscribersMdc() {
        MDC.put(KEY, "r-7");
        List<String> got = ReactorChannels.<String>fromBlocking(2, out -> {
            for (int i = 0; i < 3; i++) {
                out.send(i + ":" + MDC.get(KEY));
            }
        }, pool).contextCapture().collectList().block(Duration.ofSeconds(10));

        assertEquals(List.of("0:r-7", "1:r-7", "2:r-7"), got);
    }

    @Test
    void stageThread_signalsDownstreamWithTheMdcSet() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        MDC.put(KEY, "r-9");
        Flux.range(1, 3)
                .transform(ReactorChannels.<Integer, Integer>throughBlocking(1, (in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next());
                    }
                }, pool))
                .contextCapture()
                .subscribe(i -> seen.add(i + ":" + MDC.get(KEY) + (Thread.currentThread() == testThread()
                        ? " on the test thread" : "")), e -> done.countDown(), done::countDown);
        // requested unbounded in subscribe(), before the stage ran: the stage thread's sends deliver each item
        MDC.clear();
        assertTrue(done.await(10, TimeUnit.SECONDS));

        assertEquals(List.of("1:r-9", "2:r-9", "3:r-9"), seen);
    }

    private static Thread testThread;

    private static Thread testThread() {
        return testThread;
    }

    @BeforeEach
    void rememberTestThread() {
        testThread = Thread.currentThread();
    }

    @Test
    void pooledStageThread_isLeftWithoutTheMdcAfterwards() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        pool.submit(() -> null).get(10, TimeUnit.SECONDS); // its thread starts without MDC
        try {
            List<String> first = Flux.range(1, 2)
                    .transform(ReactorChannels.throughBlocking(2, mdcReader(), pool))
                    .contextWrite(Context.of(Slf4jThreadLocalAccessor.KEY, Map.of(KEY, "first")))
                    .collectList()
                    .block(Duration.ofSeconds(10));
            String after = pool.submit(() -> MDC.get(KEY)).get(10, TimeUnit.SECONDS);
            List<String> second = Flux.range(1, 2)
                    .transform(ReactorChannels.throughBlocking(2, mdcReader(), pool))
                    .collectList()
                    .block(Duration.ofSeconds(10));

            assertEquals(List.of("1:first", "2:first"), first);
            assertNull(after, "the pooled thread's MDC was restored when the stage ended");
            assertEquals(List.of("1:null", "2:null"), second, "a subscriber without that Context sees no MDC");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void withoutTheKeyInTheContext_stageRunsWithoutMdc() {
        List<String> got = Flux.range(1, 2)
                .transform(ReactorChannels.throughBlocking(2, mdcReader(), pool))
                .contextWrite(Context.of("unrelated", "value"))
                .collectList()
                .block(Duration.ofSeconds(10));

        assertEquals(List.of("1:null", "2:null"), got);
        assertTrue(StageContext.available());
    }
}
