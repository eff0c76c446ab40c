package dev.sluice.examples.sync;

import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The live progress display: a redrawn bar on a terminal, plain periodic lines otherwise.
 *
 * <p>A daemon thread samples the {@link Counters} every interval; {@link #message} prints a line (a failure, a
 * deletion) without tearing the bar. All output goes through one lock.
 */
final class Progress implements AutoCloseable {

    /** How progress is shown. */
    enum Mode {
        /** A bar redrawn in place (files, bytes, rate, ETA). */
        BAR,
        /** One plain line per interval: for logs and pipes. */
        PLAIN,
        /** Nothing but messages. */
        NONE;

        /** {@link #BAR} when standard output is a terminal, else {@link #PLAIN}. */
        static Mode auto() {
            return isTerminal() ? BAR : PLAIN;
        }
    }

    private static final int BAR_WIDTH = 24;

    private final Mode mode;
    private final PrintStream out;
    private final Counters counters;
    private final long intervalNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final long start = System.nanoTime();
    private volatile boolean closed;
    private Thread ticker;
    private int drawnWidth;

    Progress(Mode mode, PrintStream out, Counters counters, long intervalMillis) {
        this.mode = mode;
        this.out = out;
        this.counters = counters;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(mode == Mode.BAR ? Math.min(intervalMillis, 200)
                : intervalMillis);
    }

    Progress start() {
        if (mode != Mode.NONE) {
            ticker = new Thread(this::tick, "sluice-progress");
            ticker.setDaemon(true);
            ticker.start();
        }
        return this;
    }

    /** Prints one line (above the bar on a terminal). */
    void message(String line) {
        lock.lock();
        try {
            clearBar();
            out.println(line);
            if (mode == Mode.BAR && !closed) {
                drawBar();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t = ticker;
        if (t != null) {
            LockSupport.unpark(t);
            try {
                t.join(TimeUnit.SECONDS.toMillis(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lock.lock();
        try {
            if (mode == Mode.BAR) {
                drawBar(); // the final state stays on screen
                out.println();
                drawnWidth = 0;
            }
            out.flush();
        } finally {
            lock.unlock();
        }
    }

    private void tick() {
        long next = System.nanoTime() + intervalNanos;
        while (!closed) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
                continue;
            }
            next += intervalNanos;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                if (mode == Mode.BAR) {
                    drawBar();
                } else {
                    out.println("progress: " + status());
                }
                out.flush();
            } finally {
                lock.unlock();
            }
        }
    }

    private void drawBar() {
        long done = counters.doneBytes.sum();
        long total = counters.scannedBytes.sum();
        double fraction = total == 0 ? (counters.scanComplete ? 1 : 0) : Math.min(1, (double) done / total);
        int filled = (int) Math.round(fraction * BAR_WIDTH);
        String line = "\r[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] "
                + String.format(Locale.ROOT, "%3d%% ", Math.round(fraction * 100)) + status();
        int width = line.length();
        out.print(line + " ".repeat(Math.max(0, drawnWidth - width)));
        drawnWidth = width;
    }

    private void clearBar() {
        if (mode == Mode.BAR && drawnWidth > 0) {
            out.print("\r" + " ".repeat(drawnWidth) + "\r");
            drawnWidth = 0;
        }
    }

    /**
     * files done/scanned, bytes done/scanned, rate, ETA; a '+' marks totals (and so the ETA) that still grow while
     * the walk runs: the walker is paced by the pipeline, so it finishes only a capacity's worth before the end.
     */
    String status() {
        boolean complete = counters.scanComplete;
        String more = complete ? "" : "+";
        long doneBytes = counters.doneBytes.sum();
        long totalBytes = counters.scannedBytes.sum();
        long elapsed = System.nanoTime() - start;
        double rate = elapsed > 0 ? doneBytes * 1e9 / elapsed : 0;
        long eta = rate > 0 ? (long) Math.ceil((totalBytes - doneBytes) / rate) : -1;
        return counters.doneFiles.sum() + "/" + counters.scannedFiles.sum() + more + " files, "
                + Units.bytes(doneBytes) + "/" + Units.bytes(totalBytes) + more + ", "
                + Units.bytes((long) rate) + "/s, ETA " + Units.clock(eta) + (eta >= 0 ? more : "")
                + (counters.failedFiles.sum() > 0 ? ", " + counters.failedFiles.sum() + " failed" : "");
    }

    /* Console.isTerminal() exists from JDK 22, where System.console() is no longer null when output is piped. */
    static boolean isTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            Method isTerminal = Console.class.getMethod("isTerminal");
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }
}
