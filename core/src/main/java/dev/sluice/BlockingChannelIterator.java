package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/*
 * The blocking iterator: one competing consumer.
 *
 * Overview of implementation
 *
 * hasNext() takes an item from the channel (ChannelCore.awaitItem) and parks it in `next` until next() returns it.
 * close() may run on another thread: it sets `closed`, detaches a blocked wait (the waiter is published in `waiter`
 * before the closed flag is re-checked, a Dekker pair with close()), and takes back a reserved item with
 * getAndSet(next, null) so that exactly one of hasNext()/close() owns it; the owner that cannot deliver it pushes it
 * back to the head of the channel. The end of the channel is sticky: a failure or cancellation is rethrown by every
 * later hasNext().
 */
final class BlockingChannelIterator<T> implements ChannelIterator<T> {
    private final ChannelCore core;
    private volatile Object next;
    private volatile boolean closed;
    /** No more items for this iterator (ChannelAccess.endIteration): hasNext() is false once `next` is delivered. */
    private volatile boolean finished;
    volatile ThreadWaiter waiter;
    private boolean ended;
    private RuntimeException endError;

    BlockingChannelIterator(ChannelCore core) {
        this.core = core;
    }

    static <T> Stream<T> stream(ChannelIterator<T> iterator) {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator,
                Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(iterator::close);
    }

    /** True once a blocked wait must not take an item any more: closed, or iteration ended from outside. */
    boolean isClosed() {
        return closed || finished;
    }

    /**
     * Ends the iteration from another thread without taking back a reserved item: a blocked hasNext() returns false,
     * an item that hasNext() already reserved is still returned by next(), and hasNext() is false after that.
     */
    void finish() {
        finished = true;
        ThreadWaiter w = waiter;
        if (w != null) {
            core.detach(w);
        }
    }

    @Override
    public boolean hasNext() {
        try {
            return hasNext(-1L, "ChannelIterator.hasNext()");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            CancellationException ce = new CancellationException("interrupted while waiting in hasNext()");
            ce.initCause(e);
            throw ce;
        }
    }

    @Override
    public boolean hasNext(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        return hasNext(ChannelCore.toNanos(timeout), "ChannelIterator.hasNext(Duration)");
    }

    private boolean hasNext(long nanos, String operation) throws InterruptedException {
        if (next != null) {
            return true;
        }
        if (closed || finished) {
            return false;
        }
        if (ended) {
            if (endError != null) {
                throw endError;
            }
            return false;
        }
        Object item = core.awaitItem(operation, nanos, this);
        if (item == null || item == ChannelCore.DETACHED) {
            return false; // timed out, or closed meanwhile
        }
        if (item == ChannelCore.END) {
            if (closed || finished) {
                // closed or ended from outside while it waited: that ends this iteration, not the channel's end
                // (throughBlocking's cancel ends the iteration, then cancels the channel: `in` must just end)
                return false;
            }
            ended = true;
            if (!core.endIsCompletion()) {
                endError = core.endException();
                throw endError;
            }
            return false;
        }
        next = item;
        if (closed) {
            Object mine = NEXT.getAndSet(this, null);
            if (mine != null) {
                core.pushBack(mine);
            }
            return false;
        }
        return true;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the channel has ended or this iterator is closed");
        }
        Object item = NEXT.getAndSet(this, null);
        if (item == null) {
            throw new NoSuchElementException("this iterator was closed");
        }
        return (T) item;
    }

    @Override
    public ChannelStats stats() {
        return core.stats();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ThreadWaiter w = waiter;
        if (w != null) {
            core.detach(w);
        }
        Object mine = NEXT.getAndSet(this, null);
        if (mine != null) {
            core.pushBack(mine);
        }
    }

    private static final VarHandle NEXT;

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(BlockingChannelIterator.class, "next", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
