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

import dev.sluice.UndeliveredReason;
import dev.sluice.internal.ChannelAccess;
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
 * Window. The stream holds at most `window` items taken out of the channel and not yet acknowledged: requested from
 * the channel, waiting in the inbox or at the head, or sent and in the ledger. Demand beyond that waits for
 * acknowledgements; so a client that requests Long.MAX_VALUE and never acknowledges holds `window` items, not the
 * channel's whole content. An item sent when the ledger reaches half the window, or the whole window, carries the
 * "acknowledge now" flag, so a client with a larger ack batch does not stall the stream.
 *
 * Bytes. Every item sent takes its encoded size from the connection's outbound budget until it is acknowledged or
 * given back; when the budget is used up, the item waits at the head (already taken out of the channel, within the
 * window) and the stream retries when bytes are freed.
 *
 * Ledger. Every emitted item stays in `ledger` (sequence, item) until the client acknowledges its sequence
 * (cumulative). When the stream ends without completing (cancel: client cancelled, the connection broke or said BYE),
 * the ledger, the head and the inbox go back to the head of the channel, oldest first (Exposure.giveBack). An item
 * that cannot be sent (the codec fails, or it exceeds the connection's frame limit) goes to the channel's undelivered
 * handler and ends this stream with an error: it never comes back to block the channel.
 *
 * End. The stream completes (or fails, if the channel failed) once the channel has ended, everything taken is sent,
 * and the ledger is empty (all acknowledged).
 *
 * Threads. One WIP drain loop serializes emission, requests to the channel and the terminal cleanup. `ack` runs on
 * RSocket's event loop and only touches the ledger, under `ledgerLock` (never held while blocking or signalling),
 * then wakes the drain loop.
 */
final class ConsumerStream<T> implements Publisher<Payload>, Subscription {

    private final Exposure<T> exposure;
    private final ServerHandler connection;
    private final Runnable onEnd;
    private final int maxFrameSize; // the smaller of the server's and the client's
    private final int window;
    private final Runnable retry = this::drain;
    private Subscriber<? super Payload> actual;

    private final AtomicLong requested = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final ConcurrentLinkedQueue<Taken<T>> inbox = new ConcurrentLinkedQueue<>();
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
    private Taken<T> head; // taken from the inbox, encoded, waiting for budget
    private byte[] headBytes;

    private final ReentrantLock ledgerLock = new ReentrantLock();
    private final ArrayDeque<Entry<T>> ledger = new ArrayDeque<>(); // guarded by ledgerLock
    private final AtomicInteger ledgerSize = new AtomicInteger();

    private record Entry<T>(long sequence, T item, int bytes) {
    }

    private record Taken<T>(T item, boolean redelivered) {
    }

    ConsumerStream(Exposure<T> exposure, ServerHandler connection, Runnable onEnd, int maxFrameSize) {
        this.exposure = exposure;
        this.connection = connection;
        this.onEnd = onEnd;
        this.maxFrameSize = maxFrameSize;
        this.window = exposure.consumerWindow;
    }

    /** For tests: items this stream holds out of the channel (requested, waiting, or sent and un-acknowledged). */
    int held() {
        return ledgerSize.get() + inbox.size() + (head != null ? 1 : 0);
    }

    @Override
    public void subscribe(Subscriber<? super Payload> s) {
        if (actual != null) {
            s.onSubscribe(this);
            s.onError(new IllegalStateException("a remote consumer stream allows one subscriber"));
            return;
        }
        actual = s;
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
        long bytes = 0;
        int n = 0;
        ledgerLock.lock();
        try {
            while (!ledger.isEmpty() && ledger.peekFirst().sequence() <= sequence) {
                bytes += ledger.pollFirst().bytes();
                n++;
            }
            ledgerSize.addAndGet(-n);
        } finally {
            ledgerLock.unlock();
        }
        if (n > 0) {
            connection.outbound.release(bytes);
            drain(); // the window has room again
        }
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
        long emitted = 0;
        while (emitted < r && !cancelled) {
            if (head == null && !takeHead()) {
                break;
            }
            if (cancelled) {
                break;
            }
            int bytes = headBytes.length;
            if (!connection.outbound.tryAcquire(bytes)) {
                connection.outbound.whenFreed(retry, bytes);
                break;
            }
            long seq = ++nextSequence;
            int size;
            ledgerLock.lock();
            try {
                ledger.addLast(new Entry<>(seq, head.item(), bytes));
                size = ledgerSize.incrementAndGet();
            } finally {
                ledgerLock.unlock();
            }
            boolean ackNow = size == (window + 1) / 2 || size >= window;
            Payload item = Wire.item(seq, head.redelivered(), ackNow, headBytes);
            head = null;
            headBytes = null;
            emitted++;
            a.onNext(item);
        }
        if (emitted > 0 && r != Long.MAX_VALUE) {
            r = requested.addAndGet(-emitted);
        }
        if (cancelled) {
            return; // the loop runs again and cleans up
        }
        Subscription in = inner;
        if (in != null && !innerDone) {
            long pending = innerOutstanding + (head != null ? 1 : 0);
            long room = window - pending - ledgerSize.get();
            long want = Math.min(r - pending, room);
            if (want > 0) {
                innerOutstanding += want;
                in.request(want);
            }
        }
        if (innerDone && head == null && inbox.isEmpty() && ledgerSize.get() == 0) {
            terminate();
            Throwable e = innerError;
            if (e != null) {
                a.onError(new RemoteChannelException("channel '" + exposure.name + "' failed: " + e, e));
            } else {
                a.onComplete();
            }
        }
    }

    /* Moves the next inbox item to the head, encoded; false if there is none or it cannot be sent. */
    private boolean takeHead() {
        Taken<T> t = inbox.poll();
        if (t == null) {
            return false;
        }
        innerOutstanding--;
        byte[] bytes;
        try {
            bytes = exposure.codec.encode(t.item());
        } catch (RuntimeException e) {
            reject(t.item(), "channel '" + exposure.name + "': the server codec failed to encode an item: " + e,
                    e, "the codec cannot encode an item: " + e);
            return false;
        }
        if (bytes.length > Wire.maxItemBytes(maxFrameSize)) {
            // too large for the client's frame decoder (it would drop the frame silently)
            RemoteChannelException tooLarge = Wire.tooLarge(null, bytes.length, maxFrameSize);
            reject(t.item(), tooLarge.getMessage(), null, tooLarge.getMessage());
            return false;
        }
        head = t;
        headBytes = bytes;
        return true;
    }

    /* An item that cannot be sent: to the channel's undelivered handler, and this stream ends with the reason. */
    private void reject(T item, String clientMessage, Throwable cause, String logMessage) {
        Log.log(Log.Kind.CODEC, System.Logger.Level.WARNING, () -> "channel '" + exposure.name + "': " + logMessage
                + "; the item goes to the channel's undelivered handler and the consumer stream ends");
        ChannelAccess.undeliver(exposure.channel, item, UndeliveredReason.REJECTED);
        cancelError = new RemoteChannelException(clientMessage, cause);
        cancelled = true;
    }

    private void terminate() {
        terminated = true;
        connection.outbound.forget(retry);
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
        long bytes = 0;
        ledgerLock.lock();
        try {
            for (Entry<T> entry : ledger) {
                back.add(entry.item());
                bytes += entry.bytes();
            }
            ledgerSize.addAndGet(-ledger.size());
            ledger.clear();
        } finally {
            ledgerLock.unlock();
        }
        connection.outbound.release(bytes);
        if (head != null) {
            back.add(head.item());
            head = null;
            headBytes = null;
        }
        Taken<T> t;
        while ((t = inbox.poll()) != null) {
            back.add(t.item());
        }
        exposure.giveBack(back);
    }

    /* after completion or error: an item can still arrive from the channel Flux only if it was already requested */
    private void returnLateArrivals() {
        List<T> back = new ArrayList<>();
        Taken<T> t;
        while ((t = inbox.poll()) != null) {
            back.add(t.item());
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
            inbox.offer(new Taken<>(item, exposure.takenAgain(item)));
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
