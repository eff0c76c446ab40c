package dev.sluice.reliability.leak;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

import dev.sluice.ChannelClosedException;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The sending doors of the channel. Each sender sends every item in order, stops at the first refusal, and closes
 * the channel when it is done (like a producer in try-with-resources), so consumers always reach an end.
 */
enum SendDoor {
    /** Blocking {@code send}; abort = interrupt the sending thread. */
    SEND(BlockingSender::new),
    /** {@code sendAsync} for every item at once; abort = cancel every future. */
    SEND_ASYNC(AsyncSender::new),
    /** An upstream Publisher emitting into {@code asSubscriber()} against its demand; no abort. */
    AS_SUBSCRIBER(UpstreamSender::new);

    private final Function<Round, Sender> factory;

    SendDoor(Function<Round, Sender> factory) {
        this.factory = factory;
    }

    Sender create(Round round) {
        return factory.apply(round);
    }

    /** Whether {@link Terminal#SENDER_ABORT} means something for this door. */
    boolean abortable() {
        return this != AS_SUBSCRIBER;
    }

    /* ---- send ---- */

    static final class BlockingSender implements Sender {
        private final Round round;
        private final boolean[] accepted;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile Thread thread;
        private volatile String outcome = "not started";

        BlockingSender(Round round) {
            this.round = round;
            this.accepted = new boolean[round.items.length];
        }

        @Override
        public void run() {
            Thread.interrupted(); // a stray interrupt aimed at an earlier round
            thread = Thread.currentThread();
            try {
                round.afterAccept(0);
                for (int i = 0; i < accepted.length; i++) {
                    round.channel.send(round.items[i]);
                    accepted[i] = true;
                    round.accepted();
                }
                outcome = "sent all";
            } catch (ChannelClosedException e) {
                outcome = "refused: " + e;
            } catch (InterruptedException e) {
                outcome = "interrupted";
            } catch (Throwable t) {
                round.unexpected.add(t);
                outcome = "threw " + t;
            } finally {
                thread = null;
                round.channel.close();
                round.senderFinished();
                done.countDown();
            }
        }

        @Override
        public void abort() {
            Thread t = thread;
            if (t != null) {
                t.interrupt();
            }
        }

        @Override
        public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        @Override
        public boolean accepted(int i) {
            return accepted[i];
        }

        @Override
        public String outcome() {
            return "send: " + outcome;
        }
    }

    /* ---- sendAsync ---- */

    static final class AsyncSender implements Sender {
        private final Round round;
        private final AtomicReferenceArray<CompletableFuture<Void>> futures;
        private final CountDownLatch done = new CountDownLatch(1);

        AsyncSender(Round round) {
            this.round = round;
            this.futures = new AtomicReferenceArray<>(round.items.length);
        }

        @Override
        public void run() {
            try {
                round.afterAccept(0);
                CompletableFuture<?>[] all = new CompletableFuture<?>[futures.length()];
                for (int i = 0; i < all.length; i++) {
                    CompletableFuture<Void> f = round.channel.sendAsync(round.items[i]);
                    f.whenComplete((v, e) -> {
                        if (e == null) {
                            round.accepted();
                        }
                    });
                    futures.set(i, f);
                    all[i] = f;
                }
                CompletableFuture.allOf(all).whenComplete((v, e) -> {
                    round.channel.close();
                    round.senderFinished();
                    done.countDown();
                });
            } catch (Throwable t) {
                round.unexpected.add(t);
                round.channel.close();
                done.countDown();
            }
        }

        @Override
        public void abort() {
            for (int i = 0; i < futures.length(); i++) {
                CompletableFuture<Void> f = futures.get(i);
                if (f != null) {
                    f.cancel(false);
                }
            }
        }

        @Override
        public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        @Override
        public boolean accepted(int i) {
            CompletableFuture<Void> f = futures.get(i);
            if (f != null && !f.isDone()) {
                round.unexpected.add(new AssertionError("sendAsync future of item" + i + " still pending: " + f));
            }
            return f != null && f.isDone() && !f.isCompletedExceptionally();
        }

        @Override
        public String outcome() {
            StringBuilder sb = new StringBuilder("sendAsync futures:");
            for (int i = 0; i < futures.length(); i++) {
                CompletableFuture<Void> f = futures.get(i);
                sb.append(' ').append(f == null ? "-" : f.isCancelled() ? "cancelled"
                        : f.isCompletedExceptionally() ? "failed" : f.isDone() ? "ok" : "pending");
            }
            return sb.toString();
        }
    }

    /* ---- asSubscriber ---- */

    /**
     * A well-behaved upstream Publisher: emits on its own thread, only against demand, stops when cancelled or when
     * the channel no longer accepts items, completes after the last item.
     */
    static final class UpstreamSender implements Sender, Subscription {
        private final Round round;
        private final boolean[] emitted;
        private final Subscriber<Tracked> subscriber;
        private final AtomicLong demand = new AtomicLong();
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile boolean cancelled;
        private volatile Thread emitter;
        private volatile String outcome = "not started";

        UpstreamSender(Round round) {
            this.round = round;
            this.emitted = new boolean[round.items.length];
            this.subscriber = round.channel.asSubscriber();
        }

        @Override
        public void run() {
            emitter = Thread.currentThread();
            try {
                subscriber.onSubscribe(this);
                round.afterAccept(0);
                int i = 0;
                while (i < emitted.length && !cancelled) {
                    if (demand.get() > 0) {
                        demand.decrementAndGet();
                        emitted[i] = true;
                        subscriber.onNext(round.items[i]);
                        i++;
                        round.accepted();
                    } else if (round.channel.isClosedForSend()) {
                        break;
                    } else {
                        LockSupport.parkNanos(this, 200_000L);
                    }
                }
                if (i == emitted.length && !cancelled) {
                    subscriber.onComplete();
                    round.senderFinished();
                    outcome = "emitted all, completed";
                } else {
                    outcome = "stopped after " + i + (cancelled ? " (cancelled)" : " (channel closed)");
                }
            } catch (Throwable t) {
                round.unexpected.add(t);
                outcome = "threw " + t;
            } finally {
                done.countDown();
            }
        }

        @Override
        public void request(long n) {
            if (n <= 0) {
                round.unexpected.add(new AssertionError("asSubscriber requested " + n));
                return;
            }
            demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
            LockSupport.unpark(emitter);
        }

        @Override
        public void cancel() {
            cancelled = true;
            LockSupport.unpark(emitter);
        }

        @Override
        public void abort() {
            // not applicable: the matrix skips SENDER_ABORT for this door
        }

        @Override
        public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        @Override
        public boolean accepted(int i) {
            return emitted[i];
        }

        @Override
        public String outcome() {
            return "upstream: " + outcome;
        }
    }
}
