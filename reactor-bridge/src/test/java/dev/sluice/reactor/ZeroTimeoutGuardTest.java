package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Issue 17 item 3: a zero (or negative) timeout means "do not wait", so {@code send(x, ZERO)}, {@code receive(ZERO)}
 * and {@code hasNext(ZERO)} are allowed on Reactor's non-blocking threads, while the same calls with a real timeout
 * are refused with a message that names the timed operation.
 */
@Timeout(30)
class ZeroTimeoutGuardTest {

    /** Runs {@code call} on a {@code Schedulers.parallel()} worker; returns its result or "refused: " + message. */
    private static Object onParallel(Callable<Object> call) throws Exception {
        return Mono.fromCallable(() -> {
            assertTrue(Schedulers.isInNonBlockingThread(), "a non-blocking thread");
            try {
                return call.call();
            } catch (IllegalStateException e) {
                return "refused: " + e.getMessage();
            }
        }).subscribeOn(Schedulers.parallel()).toFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void zeroTimeouts_onParallel_areAllowedAndDoNotWait() throws Exception {
        for (Duration zero : List.of(Duration.ZERO, Duration.ofMillis(-5))) {
            Channel<String> channel = Channel.bounded(1);
            List<Object> outcomes = new ArrayList<>();
            outcomes.add(onParallel(() -> channel.receive(zero)));            // empty: null at once
            outcomes.add(onParallel(() -> channel.send("a", zero)));          // room: accepted
            outcomes.add(onParallel(() -> channel.send("b", zero)));          // full: false at once
            outcomes.add(onParallel(() -> {
                try (ChannelIterator<String> it = channel.iterator()) {
                    return it.hasNext(zero) + " " + it.next();                 // an item: reserved and returned
                }
            }));
            outcomes.add(onParallel(() -> {
                try (ChannelIterator<String> it = channel.iterator()) {
                    return it.hasNext(zero);                                    // empty again: false at once
                }
            }));
            outcomes.add(onParallel(() -> channel.send("c", zero)));
            outcomes.add(onParallel(() -> channel.receive(zero)));

            assertEquals(java.util.Arrays.asList(null, true, false, "true a", false, true, "c"), outcomes,
                    "timeout " + zero);
            assertEquals(0, channel.stats().size());
        }
    }

    @Test
    void realTimeouts_onParallel_areRefusedNamingTheTimedOperation() throws Exception {
        Duration timeout = Duration.ofMillis(1);
        // a fresh channel per call: a channel remembers the first thread of a side that its guard allowed
        String send = (String) onParallel(() -> Channel.<String>bounded(1).send("x", timeout));
        String receive = (String) onParallel(() -> Channel.<String>bounded(1).receive(timeout));
        String hasNext = (String) onParallel(() -> Channel.<String>bounded(1).iterator().hasNext(timeout));
        String untimed = (String) onParallel(() -> {
            Channel.<String>bounded(1).send("x");
            return "allowed";
        });

        assertTrue(send.startsWith("refused: Channel.send(Duration) would block thread parallel-"), send);
        assertTrue(receive.startsWith("refused: Channel.receive(Duration) would block thread parallel-"), receive);
        assertTrue(hasNext.startsWith("refused: ChannelIterator.hasNext(Duration) would block thread parallel-"),
                hasNext);
        assertTrue(untimed.startsWith("refused: Channel.send() would block thread parallel-"), untimed);
    }

    @Test
    void refusedTimedSend_sendsNothing() throws Exception {
        Channel<String> channel = Channel.bounded(2);
        Object outcome = onParallel(() -> channel.send("x", Duration.ofSeconds(1)));

        assertTrue(String.valueOf(outcome).startsWith("refused: Channel.send(Duration)"), String.valueOf(outcome));
        assertEquals(0, channel.stats().sent());
        assertEquals(null, channel.tryReceive());
    }
}
