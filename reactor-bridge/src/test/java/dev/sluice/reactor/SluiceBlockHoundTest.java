package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import dev.sluice.SendResult;
import dev.sluice.reactor.internal.SluiceBlockHoundIntegration;
import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Runs in its own surefire execution ({@code blockhound-test}, class path, with
 * {@code -XX:+AllowRedefinitionToAddDeleteMethods}), because BlockHound instruments the whole JVM.
 *
 * <p>BlockHound is installed once with every integration found by {@link ServiceLoader} (Reactor's and ours, as a
 * user gets them) and a recording callback: a report is recorded, not thrown, so that assertions see exactly what was
 * reported (a thrown error would surface inside the lock code as some other exception, notes/testing.md §4). Threads
 * named {@code bh-nonblocking-*} are non-blocking for BlockHound but not for Reactor (so Sluice's own guard lets a
 * blocking call through and BlockHound can show that it sees it).
 */
@Timeout(60)
class SluiceBlockHoundTest {

    static final List<String> REPORTS = new CopyOnWriteArrayList<>();

    static {
        BlockHound.builder()
                .loadIntegrations()
                .nonBlockingThreadPredicate(p -> p.or(t -> t.getName().startsWith("bh-nonblocking-")))
                .blockingMethodCallback(m -> REPORTS.add(m + " on " + Thread.currentThread().getName()))
                .install();
    }

    @BeforeEach
    void clearReports() {
        REPORTS.clear();
    }

    @Test
    void integration_isFoundByServiceLoader() {
        Set<String> integrations = ServiceLoader.load(BlockHoundIntegration.class).stream()
                .map(p -> p.type().getName())
                .collect(Collectors.toSet());
        assertTrue(integrations.contains(SluiceBlockHoundIntegration.class.getName()), integrations.toString());
        assertFalse(ReactorChannels.class.getModule().isNamed(), "this execution checks the class path");
    }

    @Test
    void blockHound_isActive_reportsParkingOnParallel() throws Exception {
        Mono.fromRunnable(() -> LockSupport.parkNanos(1_000))
                .subscribeOn(Schedulers.parallel())
                .block(Duration.ofSeconds(5));
        assertFalse(REPORTS.isEmpty(), "BlockHound must be installed and watching parallel threads");
    }

    /* ---- no false positives ---- */

    @Test
    void fluxAndMonoViews_underLoadOnParallel_reportNoBlockingCall() throws Exception {
        for (int round = 0; round < 3; round++) {
            Channel<Integer> channel = Channel.bounded(8);
            int perProducer = 5_000;
            Mono<Long> pumpA = ReactorChannels.sendAll(channel.sender(), Flux.range(0, perProducer))
                    .subscribeOn(Schedulers.parallel());
            Mono<Long> pumpB = ReactorChannels.sendAll(channel.sender(), Flux.range(perProducer, perProducer))
                    .subscribeOn(Schedulers.parallel());
            Mono<Void> sends = Flux.range(2 * perProducer, perProducer)
                    .concatMap(i -> ReactorChannels.send(channel.sender(), i))
                    .subscribeOn(Schedulers.parallel())
                    .then();
            CompletableFuture<List<Integer>> consumerA = ReactorChannels.flux(channel.receiver())
                    .publishOn(Schedulers.parallel(), 4)
                    .collectList().toFuture();
            CompletableFuture<List<Integer>> consumerB = ReactorChannels.flux(channel.receiver())
                    .limitRate(2)
                    .subscribeOn(Schedulers.parallel())
                    .collectList().toFuture();
            CompletableFuture<List<Integer>> consumerC = Flux.range(0, 2_000)
                    .concatMap(i -> ReactorChannels.receive(channel.receiver()))
                    .subscribeOn(Schedulers.parallel())
                    .collectList().toFuture();
            Mono.when(pumpA, pumpB, sends)
                    .then(Mono.fromRunnable(channel::close).subscribeOn(Schedulers.parallel()))
                    .block(Duration.ofSeconds(30));
            List<Integer> all = new ArrayList<>(consumerA.get(30, TimeUnit.SECONDS));
            all.addAll(consumerB.get(30, TimeUnit.SECONDS));
            all.addAll(consumerC.get(30, TimeUnit.SECONDS));
            assertEquals(3 * perProducer, all.size());
            assertEquals(3 * perProducer, new HashSet<>(all).size(), "each item once");
        }
        assertEquals(List.of(), REPORTS, "Sluice's async paths must not be reported");
    }

    @Test
    void throughBlocking_withParallelUpAndDownstream_reportsNoBlockingCall() {
        List<Integer> got = Flux.range(0, 10_000)
                .subscribeOn(Schedulers.parallel())
                .transform(ReactorChannels.<Integer, Integer>throughBlocking(8, (in, out) -> {
                    while (in.hasNext()) {
                        out.send(in.next() + 1);
                    }
                }))
                .publishOn(Schedulers.parallel(), 4)
                .collectList()
                .block(Duration.ofSeconds(30));
        assertEquals(10_000, got.size());
        assertEquals(List.of(), REPORTS, "the stage blocks on its own thread only");
    }

    /* ---- real blocking is still seen ---- */

    @Test
    void blockingReceive_onANonBlockingThread_isReported() throws Exception {
        Channel<String> channel = Channel.bounded(4);
        CompletableFuture<String> got = new CompletableFuture<>();
        Thread receiver = new Thread(() -> {
            try {
                got.complete(channel.receive());
            } catch (Throwable t) {
                got.completeExceptionally(t);
            }
        }, "bh-nonblocking-receiver");
        receiver.start();
        ThroughBlockingTest.await(() -> receiver.getState() == Thread.State.WAITING, "the receive parks");
        assertEquals(SendResult.OK, channel.trySend("x"));
        assertEquals("x", got.get(10, TimeUnit.SECONDS));
        receiver.join(10_000);
        assertTrue(REPORTS.stream().anyMatch(r -> r.contains("park") && r.endsWith("bh-nonblocking-receiver")),
                REPORTS.toString());
    }

    @Test
    void blockingReceive_onParallel_isRefusedByTheGuardBeforeItBlocks() {
        Channel<String> channel = Channel.bounded(4);
        Throwable error = Mono.fromCallable(channel::receive)
                .subscribeOn(Schedulers.parallel())
                .map(s -> (Throwable) null)
                .onErrorResume(e -> Mono.just(e))
                .block(Duration.ofSeconds(5));
        assertTrue(error instanceof IllegalStateException && error.getMessage().contains("Channel.receive()"),
                String.valueOf(error));
        assertEquals(List.of(), REPORTS, "refused before any wait");
    }

    @Test
    void blockingInOnNext_calledFromTheChannelsSignal_isReported() {
        Channel<Integer> channel = Channel.bounded(4);
        List<Integer> got = new CopyOnWriteArrayList<>();
        ReactorChannels.flux(channel.receiver()).subscribe(i -> {
            LockSupport.parkNanos(1_000); // user code blocking inside onNext
            got.add(i);
        });
        // the item is handed over inside ChannelCore.pump (allowed) -> signal (disallowed again) -> onNext
        Mono.fromCallable(() -> channel.trySend(1)).subscribeOn(Schedulers.parallel()).block(Duration.ofSeconds(5));
        assertEquals(List.of(1), got);
        assertTrue(REPORTS.stream().anyMatch(r -> r.contains("park") && r.contains("parallel-")),
                REPORTS.toString());
    }

    @Test
    void blockingUndeliveredHandler_calledFromCancel_isReported() {
        Channel<Integer> channel = Channel.<Integer>builder()
                .capacity(4)
                .onUndelivered((item, reason) -> LockSupport.parkNanos(1_000))
                .build();
        channel.trySend(1);
        Mono.fromRunnable(channel::cancel).subscribeOn(Schedulers.parallel()).block(Duration.ofSeconds(5));
        assertEquals(1, channel.stats().undelivered());
        assertTrue(REPORTS.stream().anyMatch(r -> r.contains("park") && r.contains("parallel-")),
                REPORTS.toString());
    }

    @Test
    void queuedSendersLongWait_recordedAsAJfrEventOnParallel_reportsNoBlockingCall() throws Exception {
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("dev.sluice.SenderBlocked");
            recording.start();
            Channel<Integer> channel = Channel.<Integer>builder().name("bh-jfr").capacity(1)
                    .jfrThreshold(Duration.ZERO).build();
            channel.trySend(1);
            CompletableFuture<Void> pending = channel.sendAsync(2);
            // the receive on a parallel thread admits the pending send and records its wait, under the core's lock
            Integer got = Mono.fromCallable(channel::tryReceive).subscribeOn(Schedulers.parallel())
                    .block(Duration.ofSeconds(5));
            pending.get(5, TimeUnit.SECONDS);
            assertEquals(1, got);
            assertEquals(2, channel.tryReceive());
        }
        assertEquals(List.of(), REPORTS);
    }
}
