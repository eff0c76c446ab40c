package dev.sluice.reliability.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import dev.sluice.reactor.ReactorChannels;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Subscription;

import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/**
 * A blocking stage of {@code ReactorChannels.throughBlocking} that throws an {@link Error} (or an exception) part way:
 * the downstream still receives every item the stage had sent, then the throwable; the upstream is cancelled; and
 * every upstream item is either read by the stage or passed to Reactor's discard hook, exactly once (nothing leaks in
 * the operator's input channel), as is every item the stage sent.
 */
@Timeout(30)
class StageFaultTest {

    private static final int READ_BEFORE_FAILING = 10;
    private static final int OUTPUT_OFFSET = 1_000_000;

    /* ---- throughBlocking ---- */

    @ParameterizedTest(name = "stage throws {0}")
    @ValueSource(strings = {"Error", "RuntimeException"})
    void throughBlocking_stageThrows_sentItemsThenTheThrowableUpstreamCancelledNothingLeaks(String kind)
            throws Exception {
        for (boolean slowDownstream : new boolean[] {false, true}) {
            runStageFailure(kind.equals("Error") ? () -> new AssertionError("injected stage Error")
                    : () -> new IllegalStateException("injected stage exception"), slowDownstream);
        }
    }

    private static void runStageFailure(Supplier<Throwable> failure, boolean slowDownstream) throws Exception {
        Set<Integer> emitted = ConcurrentHashMap.newKeySet();
        Queue<Integer> read = new ConcurrentLinkedQueue<>();
        Queue<Integer> discarded = new ConcurrentLinkedQueue<>();
        AtomicBoolean upstreamCancelled = new AtomicBoolean();
        Queue<Integer> got = new ConcurrentLinkedQueue<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        CountDownLatch terminated = new CountDownLatch(1);
        Throwable injected = failure.get();

        Flux<Integer> upstream = Flux.range(0, 10_000)
                .doOnNext(emitted::add)
                .doOnCancel(() -> upstreamCancelled.set(true));
        upstream.transform(ReactorChannels.<Integer, Integer>throughBlocking(4, (in, out) -> {
            for (int i = 0; i < READ_BEFORE_FAILING; i++) {
                Integer v = in.next();
                read.add(v);
                out.send(v + OUTPUT_OFFSET);
            }
            if (injected instanceof Error e) {
                throw e;
            }
            throw (RuntimeException) injected;
        }))
                .doOnDiscard(Integer.class, discarded::add)
                .subscribe(new BaseSubscriber<Integer>() {
                    @Override
                    protected void hookOnSubscribe(Subscription s) {
                        s.request(slowDownstream ? 1 : Long.MAX_VALUE);
                    }

                    @Override
                    protected void hookOnNext(Integer value) {
                        got.add(value);
                        if (slowDownstream) {
                            request(1);
                        }
                    }

                    @Override
                    protected void hookOnError(Throwable t) {
                        error.set(t);
                        terminated.countDown();
                    }

                    @Override
                    protected void hookOnComplete() {
                        terminated.countDown();
                    }
                });

        assertTrue(terminated.await(10, TimeUnit.SECONDS), "the downstream never terminated");
        String where = injected.getClass().getSimpleName() + (slowDownstream ? ", slow downstream" : "");
        assertInstanceOf(injected.getClass(), error.get(), where + ": the downstream must see the stage's throwable");
        assertEquals(injected.getMessage(), error.get().getMessage(), where);
        List<Integer> expectedOut = new ArrayList<>();
        for (int i = 0; i < READ_BEFORE_FAILING; i++) {
            expectedOut.add(i + OUTPUT_OFFSET);
        }
        assertEquals(expectedOut, new ArrayList<>(got), where + ": every item sent before the failure arrives first");
        awaitUpstreamAccounted(emitted, read, discarded, upstreamCancelled, where);

        List<Integer> fates = new ArrayList<>(read);
        for (Integer d : discarded) {
            if (d < OUTPUT_OFFSET) {
                fates.add(d);
            } else {
                fail(where + ": output " + d + " was discarded although it was delivered: " + discarded);
            }
        }
        Collections.sort(fates);
        List<Integer> expected = new ArrayList<>(emitted);
        Collections.sort(expected);
        assertEquals(expected, fates, where + ": each upstream item read by the stage or discarded, exactly once");
        System.out.println("stage fault (" + where + "): upstream emitted " + emitted.size() + ", stage read "
                + read.size() + ", discarded " + discarded.size() + ", downstream got " + got.size() + " then "
                + error.get());
    }

    /** Waits (bounded) until every emitted upstream item has a fate and the upstream saw the cancel. */
    private static void awaitUpstreamAccounted(Set<Integer> emitted, Queue<Integer> read, Queue<Integer> discarded,
            AtomicBoolean upstreamCancelled, String where) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!upstreamCancelled.get() || emitted.size() > read.size() + discarded.size()) {
            if (System.nanoTime() - deadline > 0) {
                fail(where + ": upstream cancelled=" + upstreamCancelled.get() + ", emitted " + emitted.size()
                        + " but read " + read.size() + " + discarded " + discarded.size() + ": leaked in the operator");
            }
            Thread.yield();
        }
    }
}
