package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.BlockingGuard;
import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import dev.sluice.SendResult;
import dev.sluice.reactor.internal.ReactorBlockingGuard;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

@Timeout(60)
class BlockingGuardTest {

    /* ---- discovery ---- */

    @Test
    void guard_isRegisteredForServiceLoaderOnModulePathAndClassPath() {
        Module module = ReactorChannels.class.getModule();
        if (module.isNamed()) { // surefire's default execution: the module path
            List<String> provided = module.getDescriptor().provides().stream()
                    .map(p -> p.service() + " with " + p.providers())
                    .sorted()
                    .collect(Collectors.toList());
            // no `provides` for BlockHoundIntegration: it would break resolution without BlockHound (ModulePathTest)
            assertEquals(List.of("dev.sluice.BlockingGuard with [" + ReactorBlockingGuard.class.getName() + "]"),
                    provided);
            assertEquals(java.util.Set.of("dev.sluice.reactor"), module.getDescriptor().exports().stream()
                    .map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()));
        } else { // class path: META-INF/services
            List<String> guards = ServiceLoader.load(BlockingGuard.class).stream()
                    .map(p -> p.type().getName())
                    .collect(Collectors.toList());
            assertEquals(List.of(ReactorBlockingGuard.class.getName()), guards);
        }
        System.out.println("sluice-reactor loaded as " + module);
    }

    /* ---- refusal on non-blocking threads ---- */

    @Test
    void receive_onParallel_failsFastWithTheGuardMessageAndTakesNothing() {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("a");
        StepVerifier.create(Mono.fromCallable(channel::receive).subscribeOn(Schedulers.parallel()))
                .expectErrorSatisfies(e -> {
                    assertInstanceOf(IllegalStateException.class, e);
                    String m = e.getMessage();
                    assertTrue(m.startsWith("Channel.receive() would block thread parallel-"), m);
                    assertTrue(m.contains("Schedulers.isInNonBlockingThread()"), m);
                    assertTrue(m.contains("publishOn(Schedulers.boundedElastic())"), m);
                    assertTrue(m.contains("ReactorChannels.flux(receiver)"), m);
                })
                .verify(Duration.ofSeconds(5));
        assertEquals(1, channel.stats().size(), "the refused call changed nothing");
        assertEquals(0, channel.stats().waitingReceivers());
    }

    @Test
    void receive_onBoundedElastic_works() {
        Channel<String> channel = Channel.bounded(4);
        channel.trySend("a");
        StepVerifier.create(Mono.fromCallable(channel::receive).subscribeOn(Schedulers.boundedElastic()))
                .expectNext("a")
                .verifyComplete();
    }

    @Test
    void receive_onBoundedElasticWhileEmpty_waitsForASend() {
        Channel<String> channel = Channel.bounded(4);
        CompletableFuture<String> got = Mono.fromCallable(channel::receive)
                .subscribeOn(Schedulers.boundedElastic()).toFuture();
        ThroughBlockingTest.await(() -> channel.stats().waitingReceivers() == 1, "the receive waits");
        channel.trySend("late");
        assertEquals("late", got.join());
    }

    @Test
    void blockingSendAndIterator_onSingle_areRefusedButNonBlockingCallsWork() throws Exception {
        Channel<String> channel = Channel.bounded(4);
        CompletableFuture<List<String>> results = Mono.fromCallable(() -> {
            String send = refusal(() -> {
                channel.send("x");
                return null;
            });
            String timedSend = refusal(() -> channel.send("x", Duration.ofMillis(1)));
            String iterator;
            try (ChannelIterator<String> it = channel.iterator()) {
                iterator = refusal(it::hasNext);
            }
            SendResult trySend = channel.trySend("y");
            String tryReceive = channel.tryReceive();
            return List.of(send, timedSend, iterator, trySend + "", tryReceive);
        }).subscribeOn(Schedulers.single()).toFuture();
        List<String> r = results.get(10, TimeUnit.SECONDS);
        assertTrue(r.get(0).startsWith("Channel.send() would block thread single-"), r.get(0));
        assertTrue(r.get(1).contains("would block thread single-"), r.get(1));
        assertTrue(r.get(2).startsWith("ChannelIterator.hasNext() would block"), r.get(2));
        assertEquals("OK", r.get(3), "trySend never blocks: allowed");
        assertEquals("y", r.get(4), "tryReceive never blocks: allowed");
        assertEquals(0, channel.stats().size(), "the refused calls sent nothing");
    }

    private interface Call {
        Object call() throws Exception;
    }

    private static String refusal(Call call) throws Exception {
        try {
            call.call();
            return "allowed";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /* ---- the guard itself ---- */

    @Test
    void guard_mayBlock_followsReactorsNonBlockingPredicate() throws Exception {
        ReactorBlockingGuard guard = new ReactorBlockingGuard();
        assertTrue(guard.mayBlock(Thread.currentThread()));
        Thread parallel = Mono.fromCallable(Thread::currentThread).subscribeOn(Schedulers.parallel())
                .toFuture().get(5, TimeUnit.SECONDS);
        assertFalse(guard.mayBlock(parallel));
        Thread elastic = Mono.fromCallable(Thread::currentThread).subscribeOn(Schedulers.boundedElastic())
                .toFuture().get(5, TimeUnit.SECONDS);
        assertTrue(guard.mayBlock(elastic));
        String m = guard.explain("Channel.receive()", parallel);
        assertTrue(m.contains(parallel.getName()), m);
    }
}
