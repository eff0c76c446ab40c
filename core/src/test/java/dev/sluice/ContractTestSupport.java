package dev.sluice;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Helpers shared by the deterministic contract suites: forked threads, waiting on a state (never on time), a
 * recording subscriber, a hand-driven publisher and a recording undelivered handler.
 *
 * <p>Nothing here sleeps. "Arrival order" of waiters is established by waiting until {@link Channel#stats()} shows
 * the expected number of waiters before the next one starts.
 */
final class ContractTestSupport {

    /** The longest any single wait in a test may take before the test reports what it was waiting for. */
    static final Duration PATIENCE = Duration.ofSeconds(5);

    /** A short timeout for operations that are expected to time out. */
    static final Duration SHORT = Duration.ofMillis(50);

    private ContractTestSupport() {
    }

    /* ---- waiting on a state ---- */

    /**
     * Polls {@code condition} (parking 0.1 ms between polls) until it holds, failing after {@link #PATIENCE}.
     */
    static void awaitCondition(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + PATIENCE + " waiting for: " + what);
            }
            LockSupport.parkNanos(100_000L);
        }
    }

    /** Waits until {@code thread} is parked (WAITING or TIMED_WAITING), that is, blocked rather than spinning. */
    static void awaitParked(Thread thread) {
        awaitCondition(thread.getName() + " to park (state now " + thread.getState() + ")", () -> {
            Thread.State state = thread.getState();
            return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
        });
    }

    static void awaitWaitingSenders(Channel<?> channel, int expected) {
        awaitCondition("stats().waitingSenders() == " + expected + " (" + channel.stats() + ")",
                () -> channel.stats().waitingSenders() == expected);
    }

    static void awaitWaitingReceivers(Channel<?> channel, int expected) {
        awaitCondition("stats().waitingReceivers() == " + expected + " (" + channel.stats() + ")",
                () -> channel.stats().waitingReceivers() == expected);
    }

    /** Waits until the forked call is parked in the channel and the channel counts {@code senders} waiting senders. */
    static void awaitBlockedSender(Channel<?> channel, Forked<?> sender, int senders) {
        awaitWaitingSenders(channel, senders);
        awaitParked(sender.thread());
    }

    /** Waits until the forked call is parked in the channel and the channel counts that many waiting receivers. */
    static void awaitBlockedReceiver(Channel<?> channel, Forked<?> receiver, int receivers) {
        awaitWaitingReceivers(channel, receivers);
        awaitParked(receiver.thread());
    }

    static <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("future not completed within " + PATIENCE, e);
        }
    }

    /** The cause of the failure of {@code future}, which must fail within {@link #PATIENCE}. */
    static Throwable awaitFailure(CompletableFuture<?> future) throws Exception {
        try {
            future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("future not completed within " + PATIENCE, e);
        }
        throw new AssertionError("future completed normally, expected a failure");
    }

    /* ---- items ---- */

    static List<String> items(String prefix, int count) {
        List<String> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            items.add(prefix + i);
        }
        return items;
    }

    static void fill(Channel<String> channel, List<String> items) {
        for (String item : items) {
            if (channel.trySend(item) != SendResult.OK) {
                fail("could not fill " + channel + " with " + item);
            }
        }
    }

    /** Everything {@code tryReceive} returns until it returns {@code null}. */
    static <T> List<T> drainNow(ChannelReceiver<T> receiver) {
        List<T> drained = new ArrayList<>();
        for (T item = receiver.tryReceive(); item != null; item = receiver.tryReceive()) {
            drained.add(item);
        }
        return drained;
    }

    /* ---- forked calls ---- */

    /** A call that may throw anything. */
    @FunctionalInterface
    interface Call<T> {
        T call() throws Exception;
    }

    /**
     * A blocking call running on its own daemon platform thread. (Not a CompletableFuture: its get() may wrap a
     * CancellationException thrown by the call, and some tests expect exactly that exception.)
     */
    static final class Forked<T> {
        private final Thread thread;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile T value;
        private volatile Throwable failure;
        private volatile boolean interruptedAtEnd;

        private Forked(String name, Call<T> call) {
            this.thread = forkedThreads.newThread(name, () -> {
                try {
                    value = call.call();
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    interruptedAtEnd = Thread.currentThread().isInterrupted();
                    done.countDown();
                }
            });
        }

        Thread thread() {
            return thread;
        }

        boolean isDone() {
            return done.getCount() == 0;
        }

        /** The call's result; rethrows what the call threw. */
        T join() throws Throwable {
            if (!done.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(thread.getName() + " did not finish within " + PATIENCE
                        + "; state " + thread.getState());
            }
            Throwable t = failure;
            if (t != null) {
                throw t;
            }
            return value;
        }

        /** The interrupt status of the thread when the call ended (after {@link #join()}). */
        boolean interruptStatusAtEnd() {
            return interruptedAtEnd;
        }
    }

    /** Makes the (unstarted) thread of a forked call. */
    @FunctionalInterface
    interface ForkedThreads {
        Thread newThread(String name, Runnable body);
    }

    /** Daemon platform threads: the default. */
    static final ForkedThreads PLATFORM_THREADS = (name, body) -> {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        return t;
    };

    /*
     * The kind of thread fork() starts. A configuration that runs the contract on virtual threads (test-jdk21)
     * switches it in @BeforeAll and back in @AfterAll; test classes run one after another (no parallel execution is
     * configured), so the switch never leaks into another class.
     */
    private static volatile ForkedThreads forkedThreads = PLATFORM_THREADS;

    /** Sets the kind of thread that fork() starts; {@link #PLATFORM_THREADS} restores the default. */
    static void forkOn(ForkedThreads threads) {
        forkedThreads = java.util.Objects.requireNonNull(threads, "threads");
    }

    static <T> Forked<T> fork(String name, Call<T> call) {
        Forked<T> forked = new Forked<>(name, call);
        forked.thread.start();
        return forked;
    }

    /* ---- a recording subscriber (both Reactive Streams and Flow) ---- */

    /**
     * Records every signal; checks the basic rules on the way (one onSubscribe, no signal after a terminal one,
     * no concurrent onNext) and keeps any violation for {@link #assertNoViolations()}.
     */
    static final class RecordingSubscriber<T> implements Subscriber<T>, Flow.Subscriber<T> {
        private final List<T> items = new CopyOnWriteArrayList<>();
        private final List<String> violations = new CopyOnWriteArrayList<>();
        private final CountDownLatch terminated = new CountDownLatch(1);
        private final AtomicInteger onSubscribeCalls = new AtomicInteger();
        private final AtomicInteger completeCalls = new AtomicInteger();
        private final AtomicInteger errorCalls = new AtomicInteger();
        private final AtomicInteger inOnNext = new AtomicInteger();
        private final long initialRequest;
        private volatile Consumer<T> onNextAction = item -> { };
        private volatile LongConsumer requester;
        private volatile Runnable canceller;
        private volatile Throwable error;

        RecordingSubscriber() {
            this(0);
        }

        /** A subscriber that requests {@code initialRequest} in onSubscribe when it is positive. */
        RecordingSubscriber(long initialRequest) {
            this.initialRequest = initialRequest;
        }

        /** Runs {@code action} inside each onNext, after recording the item (it may throw). */
        RecordingSubscriber<T> onEachItem(Consumer<T> action) {
            this.onNextAction = action;
            return this;
        }

        @Override
        public void onSubscribe(Subscription subscription) {
            subscribed(subscription::request, subscription::cancel);
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscribed(subscription::request, subscription::cancel);
        }

        private void subscribed(LongConsumer request, Runnable cancel) {
            if (onSubscribeCalls.incrementAndGet() != 1) {
                violations.add("onSubscribe called more than once");
                return;
            }
            requester = request;
            canceller = cancel;
            if (initialRequest > 0) {
                request.accept(initialRequest);
            }
        }

        @Override
        public void onNext(T item) {
            if (item == null) {
                violations.add("onNext(null)");
            }
            if (isTerminated()) {
                violations.add("onNext(" + item + ") after a terminal signal");
            }
            if (inOnNext.getAndIncrement() != 0) {
                violations.add("concurrent onNext(" + item + ")");
            }
            try {
                items.add(item);
                onNextAction.accept(item);
            } finally {
                inOnNext.decrementAndGet();
            }
        }

        @Override
        public void onError(Throwable throwable) {
            if (isTerminated()) {
                violations.add("onError(" + throwable + ") after a terminal signal");
            }
            error = throwable;
            errorCalls.incrementAndGet();
            terminated.countDown();
        }

        @Override
        public void onComplete() {
            if (isTerminated()) {
                violations.add("onComplete after a terminal signal");
            }
            completeCalls.incrementAndGet();
            terminated.countDown();
        }

        void request(long n) {
            LongConsumer request = requester;
            if (request == null) {
                fail("request(" + n + ") before onSubscribe");
            }
            request.accept(n);
        }

        void cancel() {
            Runnable cancel = canceller;
            if (cancel == null) {
                fail("cancel() before onSubscribe");
            }
            cancel.run();
        }

        boolean isSubscribed() {
            return onSubscribeCalls.get() > 0;
        }

        boolean isTerminated() {
            return terminated.getCount() == 0;
        }

        boolean isCompleted() {
            return completeCalls.get() > 0;
        }

        Throwable error() {
            return error;
        }

        List<T> items() {
            return Collections.unmodifiableList(new ArrayList<>(items));
        }

        int itemCount() {
            return items.size();
        }

        void awaitSubscribed() {
            awaitCondition("onSubscribe", this::isSubscribed);
        }

        void awaitItems(int count) {
            awaitCondition(count + " items (got " + items + ", error " + error + ")", () -> items.size() >= count);
        }

        void awaitTerminated() throws InterruptedException {
            if (!terminated.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("no terminal signal within " + PATIENCE + "; items " + items);
            }
        }

        /** Waits for onComplete and checks that it came exactly once and without onError. */
        void awaitCompleted() throws InterruptedException {
            awaitTerminated();
            if (completeCalls.get() != 1 || errorCalls.get() != 0) {
                fail("expected one onComplete, got " + completeCalls + " onComplete and " + errorCalls
                        + " onError (" + error + ")");
            }
        }

        /** Waits for onError and returns its throwable, checking that it came exactly once and without onComplete. */
        Throwable awaitError() throws InterruptedException {
            awaitTerminated();
            if (errorCalls.get() != 1 || completeCalls.get() != 0) {
                fail("expected one onError, got " + errorCalls + " onError and " + completeCalls + " onComplete");
            }
            return error;
        }

        void assertNoViolations() {
            if (!violations.isEmpty()) {
                fail("Reactive Streams violations seen by the subscriber: " + violations);
            }
        }
    }

    /* ---- a publisher driven by the test (both Reactive Streams and Flow) ---- */

    /**
     * A single-subscriber publisher that emits queued items only against {@code request(n)}, from a WIP drain loop
     * (no recursion, whichever thread requests), and terminates once its queue is empty if asked to. It counts
     * requested demand (capped at {@code Long.MAX_VALUE}) so that tests can check what the channel asks for.
     */
    static final class ManualPublisher<T> implements Publisher<T>, Flow.Publisher<T> {
        private final Queue<T> queue = new ConcurrentLinkedQueue<>();
        private final AtomicInteger wip = new AtomicInteger();
        private final AtomicLong requested = new AtomicLong();
        private final AtomicInteger requestCalls = new AtomicInteger();
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final List<Long> badRequests = new CopyOnWriteArrayList<>();
        private volatile Sink<T> sink;
        private volatile long emitted;
        private volatile boolean completeWhenDrained;
        private volatile Throwable errorWhenDrained;
        private volatile boolean terminated;

        /** A publisher of {@code items} that completes after the last one: a range publisher honoring demand. */
        static <T> ManualPublisher<T> of(List<T> items) {
            ManualPublisher<T> publisher = new ManualPublisher<>();
            publisher.queue.addAll(items);
            publisher.completeWhenDrained = true;
            return publisher;
        }

        private interface Sink<T> {
            void onNext(T item);

            void onError(Throwable throwable);

            void onComplete();
        }

        private final class ManualSubscription implements Subscription, Flow.Subscription {
            @Override
            public void request(long n) {
                requestCalls.incrementAndGet();
                if (n <= 0) {
                    badRequests.add(n);
                    return;
                }
                requested.getAndUpdate(r -> r + n < 0 ? Long.MAX_VALUE : r + n);
                drain();
            }

            @Override
            public void cancel() {
                cancelled.set(true);
            }
        }

        @Override
        public void subscribe(Subscriber<? super T> subscriber) {
            attach(new Sink<>() {
                @Override
                public void onNext(T item) {
                    subscriber.onNext(item);
                }

                @Override
                public void onError(Throwable throwable) {
                    subscriber.onError(throwable);
                }

                @Override
                public void onComplete() {
                    subscriber.onComplete();
                }
            });
            subscriber.onSubscribe(new ManualSubscription());
            drain();
        }

        @Override
        public void subscribe(Flow.Subscriber<? super T> subscriber) {
            attach(new Sink<>() {
                @Override
                public void onNext(T item) {
                    subscriber.onNext(item);
                }

                @Override
                public void onError(Throwable throwable) {
                    subscriber.onError(throwable);
                }

                @Override
                public void onComplete() {
                    subscriber.onComplete();
                }
            });
            subscriber.onSubscribe(new ManualSubscription());
            drain();
        }

        private void attach(Sink<T> newSink) {
            if (sink != null) {
                throw new IllegalStateException("ManualPublisher supports one subscriber");
            }
            sink = newSink;
        }

        /** Queues items; they are emitted as demand allows. */
        @SafeVarargs
        final void push(T... items) {
            Collections.addAll(queue, items);
            drain();
        }

        /** Completes once every queued item is emitted. */
        void complete() {
            completeWhenDrained = true;
            drain();
        }

        /** Fails once every queued item is emitted. */
        void error(Throwable throwable) {
            errorWhenDrained = throwable;
            drain();
        }

        /** Calls onNext right now, ignoring demand and cancellation: a misbehaving or in-flight upstream. */
        void emitNow(T item) {
            emitted++;
            sink.onNext(item);
        }

        private void drain() {
            if (sink == null || wip.getAndIncrement() != 0) {
                return;
            }
            int missed = 1;
            for (;;) {
                Sink<T> s = sink;
                while (!cancelled.get() && !terminated && emitted < requested.get()) {
                    T item = queue.poll();
                    if (item == null) {
                        break;
                    }
                    emitted++;
                    s.onNext(item);
                }
                if (!cancelled.get() && !terminated && queue.isEmpty()) {
                    Throwable error = errorWhenDrained;
                    if (error != null) {
                        terminated = true;
                        s.onError(error);
                    } else if (completeWhenDrained) {
                        terminated = true;
                        s.onComplete();
                    }
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        long requested() {
            return requested.get();
        }

        long emitted() {
            return emitted;
        }

        int requestCalls() {
            return requestCalls.get();
        }

        boolean isCancelled() {
            return cancelled.get();
        }

        boolean isSubscribed() {
            return sink != null;
        }

        int queued() {
            return queue.size();
        }

        List<Long> badRequests() {
            return badRequests;
        }

        void awaitRequested(long atLeast) {
            awaitCondition("upstream request total >= " + atLeast + " (now " + requested + ")",
                    () -> requested.get() >= atLeast);
        }
    }

    /* ---- a recording undelivered handler ---- */

    /** One call of the undelivered handler. */
    record Undelivered<T>(T item, UndeliveredReason reason) {
    }

    static final class RecordingHandler<T> implements UndeliveredHandler<T> {
        private final List<Undelivered<T>> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onUndelivered(T item, UndeliveredReason reason) {
            calls.add(new Undelivered<>(item, reason));
        }

        List<Undelivered<T>> calls() {
            return List.copyOf(calls);
        }

        List<T> items() {
            List<T> items = new ArrayList<>();
            for (Undelivered<T> call : calls) {
                items.add(call.item());
            }
            return items;
        }

        int count() {
            return calls.size();
        }
    }
}
