package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Logs exceptions thrown by user callbacks (onNext, the undelivered handler, a future's dependent action) without
 * flooding the log: the first one with its stack trace; after that at most one line per INTERVAL with how many more
 * were thrown since the last line, naming the latest one's callback and reason and giving its message; and a bulk
 * operation (cancel() discarding the buffer) ends with flush(), which writes that line for what it left unreported.
 * So a cancel of 100 items whose handler always throws writes one stack trace and one summary line, not 100 stack
 * traces. Whatever the callback threw, a StackOverflowError included, this never throws: logging itself is guarded,
 * so the channel's bookkeeping that called it always completes.
 */
final class CallbackLog {
    /** At most one summary line per this many nanoseconds. */
    static final long INTERVAL = 1_000_000_000L;

    private volatile long total;
    private volatile long lastLineNanos;
    private volatile long loggedTotal;
    private volatile String latestWhat;
    private volatile Throwable latest;

    CallbackLog() {
    }

    /** Records one failure of {@code what} (for example "onUndelivered(CANCELLED)") and logs it if due. */
    void failed(String what, Throwable t) {
        try {
            latestWhat = what;
            latest = t;
            long n = (long) TOTAL.getAndAdd(this, 1L) + 1;
            if (n == 1) {
                lastLineNanos = System.nanoTime();
                loggedTotal = 1;
                ChannelCore.LOGGER.log(System.Logger.Level.WARNING, what + " threw; the channel goes on (further "
                        + "failures are summarized with counts: at most one line per second, and one after a cancel)",
                        t);
                return;
            }
            long now = System.nanoTime();
            long last = lastLineNanos;
            if (now - last >= INTERVAL && LAST_LINE_NANOS.compareAndSet(this, last, now)) {
                summarize(n, what, t);
            }
        } catch (Throwable ignored) {
            // logging failed (a StackOverflowError deep in a callback, a broken logger): the channel must go on
        }
    }

    /**
     * Writes the summary line for failures recorded since the last line, if there are any: called when a bulk
     * operation that may have recorded many (cancel() discarding the buffer) ends, so that they are reported now
     * rather than at some later failure. Never throws.
     */
    void flush() {
        try {
            long n = total;
            if (n > 1 && n > loggedTotal) {
                lastLineNanos = System.nanoTime();
                summarize(n, latestWhat, latest);
            }
        } catch (Throwable ignored) {
            // as in failed()
        }
    }

    private void summarize(long n, String what, Throwable t) {
        long before = loggedTotal;
        if (n <= before || !LOGGED_TOTAL.compareAndSet(this, before, n)) {
            return; // reported meanwhile by another thread
        }
        ChannelCore.LOGGER.log(System.Logger.Level.WARNING, what + " threw again: " + (n - before)
                + " more callback failures since the last report (" + n + " in all); latest: " + t);
    }

    /** Failures recorded so far. */
    long total() {
        return total;
    }

    private static final VarHandle TOTAL;
    private static final VarHandle LAST_LINE_NANOS;
    private static final VarHandle LOGGED_TOTAL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            TOTAL = l.findVarHandle(CallbackLog.class, "total", long.class);
            LAST_LINE_NANOS = l.findVarHandle(CallbackLog.class, "lastLineNanos", long.class);
            LOGGED_TOTAL = l.findVarHandle(CallbackLog.class, "loggedTotal", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
