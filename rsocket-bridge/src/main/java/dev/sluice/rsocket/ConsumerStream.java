package dev.sluice.rsocket;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.reactor.ReactorChannels;
import io.rsocket.Payload;

/*
 * The server side of one remote consumer (one REQUEST_STREAM): a Publisher<Payload> that RSocket subscribes once and
 * requests from exactly as the client's REQUEST_N frames say.
 *
 * Overview of implementation
 *
 * Demand. `requested` is the client's unmet demand. Part of it, `innerOutstanding`, has been forwarded as request(n)
 * to a competing-consumer Flux of the channel (ReactorChannels.flux), so items leave the channel only against
 * REQUEST_N and never more than the client asked for. Items that arrive from that Flux wait in `inbox` (at most
 * innerOutstanding of them, all already demanded) until the drain loop emits them.
 *
 * Redelivery priority. Demand not yet forwarded to the channel is served first from the exposure's redelivery queue;
 * so a returned item overtakes every channel item requested after it came back, but not the ones already requested
 * from the channel (at most the client's outstanding demand).
 *
 * Ledger. Every emitted item stays in `ledger` (sequence, item) until the client acknowledges its sequence
 * (cumulative). When the stream ends without completing (cancel: client cancelled or the connection broke) the ledger
 * and the inbox go back to the exposure for redelivery, oldest first.
 *
 * Threads. One WIP drain loop serializes emission, requests to the channel and the terminal cleanup. `ack` runs on
 * RSocket's event loop and only touches the ledger, under `ledgerLock` (never held while blocking or signalling).
 */
final class ConsumerStream<T> implements Publisher<Payload>, Subscription {

    private static final System.Logger LOG = System.getLogger(ConsumerStream.class.getName());

    private final Exposure<T> exposure;
    private final Runnable onEnd;
    private Subscriber<? super Payload> actual;

    private final AtomicLong requested = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final ConcurrentLinkedQueue<T> inbox = new ConcurrentLinkedQueue<>();
    private volatile boolean cancelled;
    private volatile boolean innerDone;
    private volatile Throwable innerError;
    private volatile Subscription inner;
    private volatile boolean ready; // actual.onSubscribe has returned
    private volatile Throwable cancelError; // signalled to the client by cleanUp, if set

    /* drain-loop only */
    private long innerOutstanding;
    private long nextSequence;
    private boolean terminated;

    private final ReentrantLock ledgerLock = new ReentrantLock();
    private final ArrayDeque<Entry<T>> ledger = new ArrayDeque<>(); // guarded by ledgerLock

    private record Entry<T>(long sequence, T item) {
    }

    private final int maxFrameSize; // the smaller of the server's and the client's

    ConsumerStream(Exposure<T> exposure, Runnable onEnd, int maxFrameSize) {
        this.exposure = exposure;
        this.onEnd = onEnd;
        this.maxFrameSize = maxFrameSize;
    }

    @Override
    public void subscribe(Subscriber<? super Payload> s) {
        if (actual != null) {
            s.onSubscribe(this);
            s.onError(new IllegalStateException("a remote consumer stream allows one subscriber"));
            return;
        }
        actual = s;
        exposure.register(this);
        ReactorChannels.flux(exposure.channel.receiver()).subscribe(new Inner());
        s.onSubscribe(this);
        ready = true;
        drain();
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            cancelError = new IllegalArgumentException("request(n) requires n > 0 but was " + n);
            cancelled = true; // ends like a cancel, then signals the error (rule 3.9)
            drain();
            return;
        }
        requested.getAndUpdate(r -> r + n < 0 ? Long.MAX_VALUE : r + n);
        drain();
    }

    @Override
    public void cancel() {
        cancelled = true;
        drain();
    }

    /** The client acknowledged every item up to and including {@code sequence}. */
    void ack(long sequence) {
        long n = 0;
        ledgerLock.lock();
        try {
            while (!ledger.isEmpty() && ledger.peekFirst().sequence() <= sequence) {
                ledger.pollFirst();
                n++;
            }
        } finally {
            ledgerLock.unlock();
        }
        exposure.acknowledged(n);
    }

    void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        for (;;) {
            if (cancelled) {
                cleanUp();
            } else if (!terminated) {
                if (ready) {
                    emitAndRequest();
                    if (cancelled) {
                        continue; // emit() ended the stream (an item it cannot send): clean up in this pass
                    }
                }
            } else {
                returnLateArrivals();
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                break;
            }
        }
    }

    private void emitAndRequest() {
        Subscriber<? super Payload> a = actual;
        long r = requested.get();
        boolean unbounded = r == Long.MAX_VALUE;
        long emitted = 0;
        while (emitted < r && !cancelled) {
            T item = inbox.poll();
            if (item != null) {
                if (innerOutstanding != Long.MAX_VALUE) {
                    innerOutstanding--;
                }
                emit(a, item, false);
                emitted++;
                continue;
            }
            boolean freeDemand = innerOutstanding == Long.MAX_VALUE || r - emitted - innerOutstanding > 0;
            if (freeDemand) {
                T again = exposure.redelivery.poll();
                if (again != null) {
                    exposure.taken(1);
                    emit(a, again, true);
                    emitted++;
                    continue;
                }
            }
            break;
        }
        if (emitted > 0 && !unbounded) {
            r = requested.addAndGet(-emitted);
        }
        if (cancelled) {
            return; // the loop runs again and cleans up
        }
        Subscription in = inner;
        if (in != null && !innerDone && innerOutstanding != Long.MAX_VALUE) {
            long free = unbounded ? Long.MAX_VALUE : r - innerOutstanding;
            if (free > 0) {
                innerOutstanding = unbounded ? Long.MAX_VALUE : innerOutstanding + free;
                in.request(free);
            }
        }
        if (innerDone && inbox.isEmpty() && exposure.redelivery.isEmpty()) {
            Throwable e = innerError;
            if (e != null) {
                terminate();
                a.onError(new RemoteChannelException("channel '" + exposure.name + "' failed: " + e, e));
            } else if (exposure.inFlight() == 0) {
                terminate();
                a.onComplete();
            }
        }
    }

    private void emit(Subscriber<? super Payload> a, T item, boolean redelivered) {
        byte[] bytes;
        try {
            bytes = exposure.codec.encode(item);
        } catch (RuntimeException e) {
            // the item cannot cross the wire: end this stream (cleanUp signals the error), keep the item
            LOG.log(System.Logger.Level.ERROR, "channel ''" + exposure.name + "'': codec cannot encode an item", e);
            inbox.offer(item); // cleanUp gives it back with the rest
            cancelError = new RemoteChannelException("channel '" + exposure.name + "': the server codec failed to"
                    + " encode an item: " + e, e);
            cancelled = true;
            return;
        }
        if (bytes.length > Wire.maxItemBytes(maxFrameSize)) {
            // too large for the client's frame decoder (it would drop the frame silently): end this stream, keep the
            // item, as for an encoding failure
            inbox.offer(item);
            cancelError = Wire.tooLarge(null, bytes.length, maxFrameSize); // the client names the channel
            cancelled = true;
            return;
        }
        long seq = ++nextSequence;
        ledgerLock.lock();
        try {
            ledger.addLast(new Entry<>(seq, item));
        } finally {
            ledgerLock.unlock();
        }
        a.onNext(Wire.item(seq, redelivered, bytes));
    }

    private void terminate() {
        terminated = true;
        exposure.unregister(this);
        onEnd.run();
    }

    /* cancelled: stop taking, give back everything not acknowledged */
    private void cleanUp() {
        if (!terminated) {
            terminate();
            Subscription in = inner;
            if (in != null) {
                in.cancel();
            }
            Throwable e = cancelError;
            if (e != null) {
                actual.onError(e);
            }
        }
        List<T> back = new ArrayList<>();
        ledgerLock.lock();
        try {
            for (Entry<T> entry : ledger) {
                back.add(entry.item());
            }
            ledger.clear();
        } finally {
            ledgerLock.unlock();
        }
        T item;
        while ((item = inbox.poll()) != null) {
            back.add(item);
        }
        exposure.giveBack(back);
    }

    /* after completion or error: an item can still arrive from the channel Flux only if it was already requested */
    private void returnLateArrivals() {
        List<T> back = new ArrayList<>();
        T item;
        while ((item = inbox.poll()) != null) {
            back.add(item);
        }
        exposure.giveBack(back);
    }

    private final class Inner implements Subscriber<T> {
        @Override
        public void onSubscribe(Subscription s) {
            inner = s;
            drain();
        }

        @Override
        public void onNext(T item) {
            exposure.taken(1);
            inbox.offer(item);
            drain();
        }

        @Override
        public void onError(Throwable t) {
            innerError = t;
            innerDone = true;
            drain();
        }

        @Override
        public void onComplete() {
            innerDone = true;
            drain();
        }
    }
}
