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

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

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
    PUBLISHER(PublisherReceiver::new);

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
        private final CountDownLatch done = new CountDownLatch(1);
        private final AtomicInteger handedOver = new AtomicInteger();
        private volatile Subscription subscription;
        private volatile Thread worker;
        private volatile boolean aborted;
        private volatile boolean terminated;
        private volatile String outcome = "not started";

        PublisherReceiver(Round round) {
            this.round = round;
        }

        @Override
        public void run() {
            worker = Thread.currentThread();
            try {
                round.afterDeliver(0);
                round.channel.asPublisher().subscribe(this);
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
            round.delivered(item, "publisher");
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
            return "publisher: " + outcome;
        }
    }
}
