package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import dev.sluice.ContractTestSupport.Call;
import dev.sluice.ContractTestSupport.RecordingSubscriber;

/**
 * The {@link BlockingGuard} SPI: a guard registered through {@code META-INF/services/dev.sluice.BlockingGuard} in the
 * test resources refuses threads named {@code no-block-*}. Blocking calls on such a thread throw
 * {@link IllegalStateException} with the guard's message and change nothing; non-blocking calls still work.
 */
@Timeout(10)
public class BlockingGuardTest {

    /** The guard under test, found by {@link java.util.ServiceLoader}; other threads are never refused. */
    public static final class NoBlockPrefixGuard implements BlockingGuard {
        static final String PREFIX = "no-block-";
        static final AtomicInteger REFUSALS = new AtomicInteger();

        /** Creates the guard (called by the ServiceLoader). */
        public NoBlockPrefixGuard() {
        }

        @Override
        public boolean mayBlock(Thread thread) {
            return !thread.getName().startsWith(PREFIX);
        }

        @Override
        public String explain(String operation, Thread thread) {
            REFUSALS.incrementAndGet();
            return "test guard: no blocking " + operation + " on " + thread.getName();
        }
    }

    private final Channel<String> channel = Channel.bounded(4);

    /* ---- refused ---- */

    @Test
    @Timeout(10)
    void blockingCalls_onRefusedThread_throwIllegalStateExceptionAndChangeNothing() throws Throwable {
        channel.trySend("a");
        ChannelStats before = channel.stats();

        List<String> refusals = onThread("no-block-1", () -> {
            List<String> messages = new ArrayList<>();
            messages.add(refused(() -> channel.send("b")));
            messages.add(refused(() -> channel.send("b", PATIENCE)));
            messages.add(refused(() -> channel.sendAll(List.of("b", "c"))));
            messages.add(refused(channel::receive));
            messages.add(refused(() -> channel.receive(PATIENCE)));
            try (ChannelIterator<String> iterator = channel.iterator()) {
                messages.add(refused(iterator::hasNext));
                messages.add(refused(() -> iterator.hasNext(PATIENCE)));
                messages.add(refused(iterator::next));
            }
            messages.add(refused(() -> channel.sender().send("b")));
            messages.add(refused(() -> channel.receiver().receive()));
            return messages;
        });

        for (String message : refusals) {
            assertTrue(message.startsWith("test guard: no blocking "), "not the guard's message: " + message);
            assertTrue(message.endsWith(" on no-block-1"), message);
        }
        assertEquals(before, channel.stats());
        assertEquals(ChannelState.OPEN, channel.state());
        assertEquals("a", channel.tryReceive());
    }

    @Test
    @Timeout(10)
    void nonBlockingCalls_onRefusedThread_work() throws Throwable {
        List<String> received = onThread("no-block-2", () -> {
            List<String> items = new ArrayList<>();
            assertEquals(SendResult.OK, channel.trySend("a"));
            CompletableFuture<Void> future = channel.sendAsync("b");
            assertTrue(future.isDone());
            assertEquals(1, channel.trySendAll(List.of("c")));
            items.add(channel.tryReceive());
            channel.drainTo(items, 10);
            RecordingSubscriber<String> subscriber = new RecordingSubscriber<>(1);
            channel.asPublisher().subscribe(subscriber);
            channel.trySend("d");
            items.addAll(subscriber.items());
            return items;
        });

        assertEquals(List.of("a", "b", "c", "d"), received);
    }

    /* ---- allowed ---- */

    @Test
    @Timeout(10)
    void blockingCalls_onOtherThreads_work() throws Throwable {
        List<String> received = onThread("may-block-1", () -> {
            channel.send("a");
            assertTrue(channel.send("b", PATIENCE));
            List<String> items = new ArrayList<>();
            items.add(channel.receive());
            items.add(channel.receive(PATIENCE));
            return items;
        });

        assertEquals(List.of("a", "b"), received);
        assertFalse(Thread.currentThread().getName().startsWith(NoBlockPrefixGuard.PREFIX));
        channel.send("c");
        assertEquals("c", channel.receive());
    }

    /* ---- helpers ---- */

    private static <T> T onThread(String name, Call<T> call) throws Throwable {
        return fork(name, call).join();
    }

    /** Runs a blocking call that the guard must refuse; returns the message of the refusal. */
    private static String refused(Executable call) {
        int refusals = NoBlockPrefixGuard.REFUSALS.get();
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertFalse(e instanceof ChannelClosedException, "expected the guard's refusal, got " + e);
        assertTrue(NoBlockPrefixGuard.REFUSALS.get() > refusals, "the guard was not asked to explain");
        return e.getMessage();
    }
}
