package dev.sluice.reactor;

import java.util.concurrent.CancellationException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.UndeliveredHandler;
import dev.sluice.internal.ChannelAccess;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/*
 * Overview of implementation
 *
 * Each subscription builds two channels of `capacity` and one thread:
 *
 *   upstream --UpstreamSubscriber--> in.asSubscriber() --[in]--> stage thread --[out]--> ChannelFlux --> downstream
 *
 * Backpressure is the channels' own: the upstream is asked only for free slots of `in`; the stage blocks in
 * in.hasNext() when `in` is empty and in out.send() when `out` is full; `out` releases items only against the
 * downstream's request(n). So a slow downstream stops the stage, which stops reading `in`, which stops requesting.
 * fromBlocking is the same without `in` and the upstream.
 *
 * Termination (who does what):
 *  - upstream error: in.fail(e) through the channel subscriber; the stage sees it from hasNext()/next() as a
 *    ChannelClosedException caused by e; when the stage throws it (or anything caused by e), the downstream gets e.
 *  - the stage returns: out.close() (the downstream completes after the last item), the upstream is cancelled and
 *    unread input is discarded (in.cancel()).
 *  - the stage throws t: out.fail(t) (the downstream gets t after the items already sent), upstream cancelled, input
 *    discarded.
 *  - downstream cancel: upstream cancelled, the stage's iterator closed first (so in.hasNext() returns false: `in`
 *    ends, one signal, never an exception), then in.cancel() (unread input to the discard hook), out.cancel()
 *    (out.send throws ChannelClosedException: a closed channel wins over the interrupt that follows), then the stage
 *    thread is interrupted if it is still running, for whatever else it blocks in; what it throws after that is
 *    expected and dropped (anything unexpected goes to Operators.onErrorDropped).
 * Both channels hand what they hold at the end to Reactor's discard hook with the subscriber's Context, so nothing
 * leaks silently.
 *
 * Context propagation: the stage thread runs the stage (and completes the downstream) with the subscriber's Context
 * restored as ThreadLocals (StageContext, through io.micrometer:context-propagation when present), so MDC entries and
 * tracing spans reach the legacy code, and the downstream signals and upstream requests the stage thread makes see
 * them too.
 *
 * Interrupting safely: with a user Executor the stage thread is a pooled thread that may run other work once the
 * stage returns, so cancel() may interrupt only while the stage runs. As in FutureTask, `state` goes
 * RUNNING -> INTERRUPTING -> INTERRUPTED around the interrupt, and the runner, on finding it can no longer move
 * RUNNING -> FINISHED, waits out INTERRUPTING and clears its interrupt status before it returns to the pool.
 */
final class BlockingStageFlux<T, R> extends Flux<R> implements Scannable {

    final Flux<T> source;
    final int capacity;
    final BlockingStage<T, R> stage;
    final BlockingProducer<R> producer;
    final Executor executor;

    BlockingStageFlux(Flux<T> source, int capacity, BlockingStage<T, R> stage, Executor executor) {
        this.source = source;
        this.capacity = capacity;
        this.stage = stage;
        this.producer = null;
        this.executor = executor;
    }

    BlockingStageFlux(int capacity, BlockingProducer<R> producer, Executor executor) {
        this.source = null;
        this.capacity = capacity;
        this.stage = null;
        this.producer = producer;
        this.executor = executor;
    }

    @Override
    public void subscribe(CoreSubscriber<? super R> actual) {
        Context context = actual.currentContext();
        UndeliveredHandler<Object> discard = (item, reason) -> Operators.onDiscard(item, context);
        Channel<R> out = Channel.<R>builder().capacity(capacity).onUndelivered(discard).build();
        Channel<T> in = source == null ? null
                : Channel.<T>builder().capacity(capacity).onUndelivered(discard).build();
        StageRun<T, R> run = new StageRun<>(this, in, out, context);
        new ChannelFlux<>(out).subscribe(actual, run::cancel);
        if (run.downstreamCancelled) {
            return;
        }
        if (source != null) {
            source.subscribe(run.upstream);
        }
        run.start(executor);
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable's signature
    public Object scanUnsafe(Attr key) {
        if (key == Attr.PARENT) {
            return source;
        }
        if (key == Attr.PREFETCH || key == Attr.CAPACITY) {
            return capacity;
        }
        if (key == Attr.RUN_STYLE) {
            return Attr.RunStyle.ASYNC;
        }
        return null;
    }

    @Override
    public String stepName() {
        return source == null ? "sluiceFromBlocking" : "sluiceThroughBlocking";
    }

    /** One subscription: the two channels, the upstream link and the stage thread's lifecycle. */
    @SuppressWarnings("rawtypes")
    static final class StageRun<T, R> implements Runnable {
        final BlockingStageFlux<T, R> parent;
        final Channel<T> in;
        final Channel<R> out;
        final Context context;
        final UpstreamSubscriber<T> upstream;

        volatile boolean downstreamCancelled;

        /** The thread running the stage; written before state moves NEW -> RUNNING. */
        volatile Thread runner;

        /** The stage's iterator over `in`; written before state moves NEW -> RUNNING, closed first by cancel(). */
        volatile ChannelIterator<T> iterator;

        volatile int state;
        static final AtomicIntegerFieldUpdater<StageRun> STATE =
                AtomicIntegerFieldUpdater.newUpdater(StageRun.class, "state");
        /** Not yet started. */
        static final int NEW = 0;
        /** The stage runs. */
        static final int RUNNING = 1;
        /** The stage returned or threw, or could not be started; no interrupt may happen any more. */
        static final int FINISHED = 2;
        /** cancel() is interrupting the runner right now. */
        static final int INTERRUPTING = 3;
        /** cancel() interrupted the runner. */
        static final int INTERRUPTED = 4;
        /** The downstream cancelled before the stage started: it never runs. */
        static final int CANCELLED_EARLY = 5;

        StageRun(BlockingStageFlux<T, R> parent, Channel<T> in, Channel<R> out, Context context) {
            this.parent = parent;
            this.in = in;
            this.out = out;
            this.context = context;
            this.upstream = in == null ? null : new UpstreamSubscriber<>(in.asSubscriber(), context);
        }

        void start(Executor executor) {
            try {
                executor.execute(this);
            } catch (Throwable e) { // RejectedExecutionException and friends: fail like a throwing stage
                if (STATE.compareAndSet(this, NEW, FINISHED)) {
                    finish(e);
                }
            }
        }

        @Override
        @SuppressWarnings("try") // the Context's scope is only closed
        public void run() {
            runner = Thread.currentThread();
            ChannelIterator<T> it = in == null ? null : in.iterator();
            iterator = it;
            if (!STATE.compareAndSet(this, NEW, RUNNING)) {
                runner = null; // cancelled before we started; cancel() already released everything
                if (it != null) {
                    it.close();
                }
                return;
            }
            // the subscriber's Context as ThreadLocals (MDC, tracing) while the stage runs and completes downstream
            try (StageContext.Scope scope = StageContext.restore(context)) {
                Throwable failure = null;
                try {
                    if (it != null) {
                        try (it) {
                            parent.stage.run(it, out.sender());
                        }
                    } else {
                        parent.producer.run(out.sender());
                    }
                } catch (Throwable t) {
                    failure = t;
                }
                if (!STATE.compareAndSet(this, RUNNING, FINISHED)) {
                    while (state == INTERRUPTING) {
                        Thread.onSpinWait();
                    }
                    Thread.interrupted(); // our interrupt must not outlive the stage (pooled executor threads)
                }
                runner = null;
                finish(failure);
            }
        }

        private void finish(Throwable failure) {
            if (downstreamCancelled) {
                if (failure != null && !causedByCancel(failure)) {
                    Operators.onErrorDropped(failure, context);
                }
                return; // cancel() has released upstream and both channels
            }
            if (upstream != null) {
                upstream.cancel(); // no-op once the upstream completed
            }
            if (in != null) {
                in.cancel(); // unread input goes to the discard hook; no-op once `in` completed
            }
            if (failure == null) {
                out.close();
            } else {
                out.fail(downstreamError(failure));
            }
        }

        /** The error for the downstream: the upstream's own error if the stage failed because of it. */
        private Throwable downstreamError(Throwable failure) {
            Throwable upstreamError = upstream == null ? null : upstream.error;
            if (upstreamError != null) {
                int depth = 0;
                for (Throwable t = failure; t != null && depth < 32; t = t.getCause(), depth++) {
                    if (t == upstreamError) {
                        return upstreamError;
                    }
                }
            }
            return failure;
        }

        private static boolean causedByCancel(Throwable failure) {
            int depth = 0;
            for (Throwable t = failure; t != null && depth < 32; t = t.getCause(), depth++) {
                if (t instanceof ChannelClosedException || t instanceof InterruptedException
                        || t instanceof CancellationException) {
                    return true;
                }
            }
            return false;
        }

        /** The downstream cancelled (called once, from ChannelFlux). */
        void cancel() {
            downstreamCancelled = true;
            if (upstream != null) {
                upstream.cancel();
            }
            boolean early = STATE.compareAndSet(this, NEW, CANCELLED_EARLY);
            boolean interrupt = !early && STATE.compareAndSet(this, RUNNING, INTERRUPTING);
            // the runner publishes `iterator` before NEW -> RUNNING, so it is visible here unless the stage never runs
            ChannelIterator<T> it = iterator;
            if (it != null) {
                ChannelAccess.endIteration(it); // first: the stage's hasNext() returns false ("in ends"), never throws
            }
            if (in != null) {
                in.cancel();
            }
            out.cancel();
            if (interrupt) {
                try {
                    Thread t = runner;
                    if (t != null) {
                        t.interrupt();
                    }
                } finally {
                    state = INTERRUPTED;
                }
            }
        }
    }

    /*
     * Links the upstream to `in.asSubscriber()`, keeping the upstream Subscription so that it can be cancelled
     * directly, recording the upstream error, and giving the upstream the downstream's Context.
     */
    @SuppressWarnings("rawtypes")
    static final class UpstreamSubscriber<T> implements CoreSubscriber<T> {
        final Subscriber<T> channel;
        final Context context;

        volatile Subscription s;
        static final AtomicReferenceFieldUpdater<UpstreamSubscriber, Subscription> S =
                AtomicReferenceFieldUpdater.newUpdater(UpstreamSubscriber.class, Subscription.class, "s");

        volatile Throwable error;

        UpstreamSubscriber(Subscriber<T> channel, Context context) {
            this.channel = channel;
            this.context = context;
        }

        @Override
        public Context currentContext() {
            return context;
        }

        @Override
        public void onSubscribe(Subscription s) {
            if (Operators.setOnce(S, this, s)) {
                channel.onSubscribe(s);
            }
        }

        @Override
        public void onNext(T t) {
            channel.onNext(t);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
            channel.onError(t);
        }

        @Override
        public void onComplete() {
            channel.onComplete();
        }

        void cancel() {
            Operators.terminate(S, this);
        }
    }
}
