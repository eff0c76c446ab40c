package dev.sluice.reliability.leak;

import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;

import dev.sluice.reactor.ReactorChannels;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import reactor.core.publisher.Mono;

/**
 * The receiving doors of the channel. Each consumer takes items until the channel ends or it is detached.
 */
enum ReceiveDoor {
    /** Blocking {@code receive()}; abort = interrupt the receiving thread. */
    RECEIVE(BlockingReceiver::new),
    /** The blocking iterator; abort = {@code iterator.close()} from the terminator thread. */
    ITERATOR(IteratorReceiver::new),
    /**
     * An {@code asPublisher()} subscriber requesting one item at a time from its own thread; abort =
     * {@code subscription.cancel()}.
     */
    PUBLISHER(round -> new PublisherReceiver(round, round.channel.asPublisher(), "publisher")),
    /**
     * A subscriber of {@code ReactorChannels.flux(channel)}, requesting one item at a time from its own thread;
     * abort = {@code subscription.cancel()}.
     */
    FLUX(round -> new PublisherReceiver(round, ReactorChannels.flux(round.channel)
            .doOnDiscard(Tracked.class, t -> round.droppedByReactor(t, "flux discard hook")), "flux")),
    /**
     * One {@code ReactorChannels.receive(channel)} Mono after another, each subscribed from the consuming thread;
     * abort = cancel the current Mono's subscription. For FLUX and MONO an item that Reactor discards because the
     * subscriber cancelled at the instant of delivery counts as delivered (contract 1), through the discard hook.
     */
    MONO(MonoReceiver::new);

    private final Function<Round, Receiver> factory;

    ReceiveDoor(Function<Round, Receiver> factory) {
        this.factory = factory;
    }

    Receiver create(Round round) {
        return factory.apply(round);
    }

    /* ---- receive ---- */

    static final class BlockingReceiver implements Receiver {
        private final Round round;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile Thread thread;
        private volatile String outcome = "not started";

        BlockingReceiver(Round round) {
            this.round = round;
        }

        @Override
        public void run() {
            Thread.interrupted();
            thread = Thread.currentThread();
            try {
                round.afterDeliver(0);
                for (;;) {
                    round.delivered(round.channel.receive(), "receive");
                    round.consumed();
                }
            } catch (ChannelClosedException e) {
                outcome = "end: " + e.getCause();
            } catch (InterruptedException e) {
                outcome = "interrupted";
            } catch (Throwable t) {
                round.unexpected.add(t);
                outcome = "threw " + t;
            } finally {
                thread = null;
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
        public String outcome() {
            return "receive: " + outcome;
        }
    }

    /* ---- iterator ---- */

    static final class IteratorReceiver implements Receiver {
        private final Round round;
        private final ChannelIterator<Tracked> iterator;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile String outcome = "not started";

        IteratorReceiver(Round round) {
            this.round = round;
            this.iterator = round.channel.iterator();
        }

        @Override
        public void run() {
            Thread.interrupted();
            try (ChannelIterator<Tracked> it = iterator) {
                round.afterDeliver(0);
                while (it.hasNext()) {
                    round.delivered(it.next(), "iterator");
                    round.consumed();
                }
                outcome = "hasNext false";
            } catch (ChannelClosedException e) {
                outcome = "end: " + e.getCause();
            } catch (NoSuchElementException e) {
                outcome = "closed between hasNext and next";
            } catch (CancellationException e) {
                outcome = "interrupted";
            } catch (Throwable t) {
                round.unexpected.add(t);
                outcome = "threw " + t;
            } finally {
                done.countDown();
            }
        }

        @Override
        public void abort() {
            iterator.close();
        }

        @Override
        public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        @Override
        public String outcome() {
            return "iterator: " + outcome;
        }
    }

    /* ---- asPublisher ---- */

    /**
     * A subscriber that hands each item to its own worker thread, which does the work and then requests the next one
     * (like {@code publishOn}): so requests come from the consuming thread while items may be pushed from the sending
     * thread.
     */
    static final class PublisherReceiver implements Receiver, Subscriber<Tracked> {
        private final Round round;
        private final Publisher<Tracked> source;
        private final String kind;
        private final CountDownLatch done = new CountDownLatch(1);
        private final AtomicInteger handedOver = new AtomicInteger();
        private volatile Subscription subscription;
        private volatile Thread worker;
        private volatile boolean aborted;
        private volatile boolean terminated;
        private volatile String outcome = "not started";

        PublisherReceiver(Round round, Publisher<Tracked> source, String kind) {
            this.round = round;
            this.source = source;
            this.kind = kind;
        }

        @Override
        public void run() {
            worker = Thread.currentThread();
            try {
                round.afterDeliver(0);
                source.subscribe(this);
                int processed = 0;
                for (;;) {
                    if (handedOver.get() > processed) {
                        processed++;
                        round.consumed();
                        if (!aborted) {
                            subscription.request(1);
                        }
                    } else if (terminated || aborted) {
                        break;
                    } else {
                        LockSupport.park(this);
                    }
                }
            } catch (Throwable t) {
                round.unexpected.add(t);
                outcome = "threw " + t;
            } finally {
                done.countDown();
            }
        }

        @Override
        public void onSubscribe(Subscription s) {
            subscription = s;
            outcome = "subscribed";
            if (aborted) {
                s.cancel();
            } else {
                s.request(1);
            }
        }

        @Override
        public void onNext(Tracked item) {
            round.delivered(item, kind);
            handedOver.incrementAndGet();
            LockSupport.unpark(worker);
        }

        @Override
        public void onError(Throwable t) {
            outcome = "onError " + t;
            terminated = true;
            LockSupport.unpark(worker);
        }

        @Override
        public void onComplete() {
            outcome = "onComplete";
            terminated = true;
            LockSupport.unpark(worker);
        }

        @Override
        public void abort() {
            aborted = true;
            Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
            outcome = "cancelled";
            LockSupport.unpark(worker);
        }

        @Override
        public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        @Override
        public String outcome() {
            return kind + ": " + outcome;
        }
    }

    /* ---- Mono ---- */

    /** Receives with one {@code ReactorChannels.receive} Mono after another until the channel ends. */
    static final class MonoReceiver implements Receiver {
        private final Round round;
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile Subscription current;
        private volatile Thread worker;
        private volatile boolean aborted;
        private volatile String outcome = "not started";

        MonoReceiver(Round round) {
            this.round = round;
        }

        @Override
        public void run() {
            worker = Thread.currentThread();
            try {
                round.afterDeliver(0);
                Mono<Tracked> next = ReactorChannels.receive(round.channel)
                        .doOnDiscard(Tracked.class, t -> round.droppedByReactor(t, "mono discard hook"));
                while (!aborted) {
                    OneShot shot = new OneShot();
                    next.subscribe(shot);
                    while (!shot.finished && !aborted) {
                        LockSupport.park(this);
                    }
                    if (shot.item != null) {
                        round.consumed();
                    }
                    if (shot.error != null) {
                        outcome = "onError " + shot.error;
                        return;
                    }
                    if (shot.finished && shot.item == null) {
                        outcome = "empty: the channel completed";
                        return;
                    }
                }
                outcome = "cancelled";
            } catch (Throwable t) {
                round.unexpected.add(t);
                outcome = "threw " + t;
            } finally {
                done.countDown();
            }
        }

        @Override
        public void abort() {
            aborted = true;
            Subscription s = current;
            if (s != null) {
                s.cancel();
            }
            LockSupport.unpark(worker);
        }

        @Override
        public boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException {
            return done.await(timeout, unit);
        }

        @Override
        public String outcome() {
            return "mono: " + outcome;
        }

        /** The subscriber of one receive Mono. */
        final class OneShot implements Subscriber<Tracked> {
            volatile Tracked item;
            volatile Throwable error;
            volatile boolean finished;

            @Override
            public void onSubscribe(Subscription s) {
                current = s;
                if (aborted) {
                    s.cancel();
                } else {
                    s.request(1);
                }
            }

            @Override
            public void onNext(Tracked t) {
                round.delivered(t, "mono");
                item = t;
            }

            @Override
            public void onError(Throwable t) {
                error = t;
                finished = true;
                LockSupport.unpark(worker);
            }

            @Override
            public void onComplete() {
                finished = true;
                LockSupport.unpark(worker);
            }
        }
    }
}
