package dev.sluice;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The guard and the scenarios of {@link BlockingGuardTest}. This class uses no JUnit type: the test loads it, with
 * the core, into an isolated class loader where {@code META-INF/services/dev.sluice.BlockingGuard} is read from the
 * class path. Each scenario returns a list of problems; an empty list means it passed.
 */
public final class BlockingGuardTestFixture {

    /** Threads whose name starts with this may not block. */
    static final String PREFIX = "no-block-";

    private static final Duration WAIT = Duration.ofSeconds(5);

    private BlockingGuardTestFixture() {
    }

    /** The guard under test: refuses threads named {@code no-block-*}, and counts its refusals. */
    public static final class NoBlockPrefixGuard implements BlockingGuard {
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

    /** A call that may throw anything. */
    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    /** Runs {@code body} on a new thread named {@code name} and returns the problems it found. */
    private static List<String> onThread(String name, Callable<List<String>> body) throws InterruptedException {
        AtomicReference<List<String>> result = new AtomicReference<>(List.of("did not finish within " + WAIT));
        Thread thread = new Thread(() -> {
            try {
                result.set(body.call());
            } catch (Throwable t) {
                result.set(List.of("threw " + t));
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        thread.join(WAIT.toMillis());
        return result.get();
    }

    /** Expects {@code action} to be refused by the guard; adds a problem to {@code problems} otherwise. */
    private static void expectRefused(String what, Action action, List<String> problems) {
        int before = NoBlockPrefixGuard.REFUSALS.get();
        try {
            action.run();
            problems.add(what + ": not refused");
        } catch (ChannelClosedException e) {
            problems.add(what + ": threw " + e + " instead of the guard's refusal");
        } catch (IllegalStateException e) {
            String expected = "test guard: no blocking ";
            String message = String.valueOf(e.getMessage());
            if (!message.startsWith(expected) || !message.endsWith(" on " + Thread.currentThread().getName())) {
                problems.add(what + ": message is not the guard's: " + message);
            }
            if (NoBlockPrefixGuard.REFUSALS.get() <= before) {
                problems.add(what + ": the guard was not asked to explain");
            }
        } catch (Exception e) {
            problems.add(what + ": threw " + e);
        }
    }

    private static void expect(boolean condition, String problem, List<String> problems) {
        if (!condition) {
            problems.add(problem);
        }
    }

    /** Every blocking call on a {@code no-block-} thread is refused and changes nothing. */
    public static final class RefusedScenario implements Callable<List<String>> {
        @Override
        public List<String> call() throws Exception {
            Channel<String> channel = Channel.bounded(4);
            channel.trySend("a");
            ChannelStats before = channel.stats();
            List<String> problems = new ArrayList<>(onThread(PREFIX + "1", () -> {
                List<String> p = new ArrayList<>();
                expectRefused("send(item)", () -> channel.send("b"), p);
                expectRefused("send(item, timeout)", () -> channel.send("b", WAIT), p);
                expectRefused("sendAll(items)", () -> channel.sendAll(List.of("b", "c")), p);
                expectRefused("receive()", channel::receive, p);
                expectRefused("receive(timeout)", () -> channel.receive(WAIT), p);
                try (ChannelIterator<String> iterator = channel.iterator()) {
                    expectRefused("iterator().hasNext()", iterator::hasNext, p);
                    expectRefused("iterator().hasNext(timeout)", () -> iterator.hasNext(WAIT), p);
                    expectRefused("iterator().next()", iterator::next, p);
                }
                expectRefused("sender().send(item)", () -> channel.sender().send("b"), p);
                expectRefused("receiver().receive()", () -> channel.receiver().receive(), p);
                return p;
            }));
            expect(before.equals(channel.stats()), "stats changed: " + before + " -> " + channel.stats(), problems);
            expect(channel.state() == ChannelState.OPEN, "state " + channel.state(), problems);
            expect("a".equals(channel.tryReceive()), "the buffered item is gone", problems);
            return problems;
        }
    }

    /** Non-blocking calls on a {@code no-block-} thread still work. */
    public static final class NonBlockingScenario implements Callable<List<String>> {
        @Override
        public List<String> call() throws Exception {
            Channel<String> channel = Channel.bounded(4);
            return onThread(PREFIX + "2", () -> {
                List<String> p = new ArrayList<>();
                expect(channel.trySend("a") == SendResult.OK, "trySend refused", p);
                CompletableFuture<Void> future = channel.sendAsync("b");
                expect(future.isDone() && !future.isCompletedExceptionally(), "sendAsync " + future, p);
                expect(channel.trySendAll(List.of("c")) == 1, "trySendAll refused", p);
                List<String> items = new ArrayList<>();
                items.add(channel.tryReceive());
                channel.drainTo(items, 10);
                List<String> delivered = new ArrayList<>();
                channel.asPublisher().subscribe(new Subscriber<String>() {
                    @Override
                    public void onSubscribe(Subscription s) {
                        s.request(1);
                    }

                    @Override
                    public void onNext(String item) {
                        delivered.add(item);
                    }

                    @Override
                    public void onError(Throwable t) {
                        p.add("onError " + t);
                    }

                    @Override
                    public void onComplete() {
                    }
                });
                channel.trySend("d");
                items.addAll(delivered);
                expect(items.equals(List.of("a", "b", "c", "d")), "received " + items, p);
                return p;
            });
        }
    }

    /** Blocking calls on other threads are allowed. */
    public static final class AllowedScenario implements Callable<List<String>> {
        @Override
        public List<String> call() throws Exception {
            Channel<String> channel = Channel.bounded(4);
            return onThread("may-block-1", () -> {
                List<String> p = new ArrayList<>();
                channel.send("a");
                expect(channel.send("b", WAIT), "send(item, timeout) timed out", p);
                channel.sendAll(List.of("c"));
                List<String> items = new ArrayList<>();
                items.add(channel.receive());
                items.add(channel.receive(WAIT));
                try (ChannelIterator<String> iterator = channel.iterator()) {
                    expect(iterator.hasNext(WAIT), "hasNext(timeout) false", p);
                    items.add(iterator.next());
                }
                expect(items.equals(List.of("a", "b", "c")), "received " + items, p);
                return p;
            });
        }
    }
}
