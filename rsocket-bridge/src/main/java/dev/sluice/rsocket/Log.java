package dev.sluice.rsocket;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/*
 * The bridge's log: System.Logger "dev.sluice.rsocket", rate-limited per kind of event, so that a hostile client
 * cannot fill the disk (or hide other lines) by repeating one fault.
 *
 * Each kind gets at most BURST lines per WINDOW; the rest of that window is counted, and the next line of that kind
 * says how many were suppressed. Messages never carry a secret: callers pass addresses, channel names, sizes and
 * reasons, never a token or an item's contents.
 */
final class Log {

    /** What happened; each kind has its own rate limit. */
    enum Kind {
        /** A SETUP with a wrong or missing token, or refused for another reason (ownership, keepalive). */
        AUTH,
        /** An item the codec could not decode or encode, or too large for the connection. */
        CODEC,
        /** A stream refused: unknown channel, wrong direction, not the owner, too many streams. */
        REFUSED,
        /** A connection closed by the server for cause (oversized frame, keepalive timeout) or setup delay. */
        CLOSED,
        /** Configuration warnings (no TLS on a non-loopback address), once per server. */
        CONFIG
    }

    static final System.Logger LOGGER = System.getLogger("dev.sluice.rsocket");
    static final int BURST = 10;
    static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final Map<Kind, Window> WINDOWS = new ConcurrentHashMap<>();
    /** For tests: also receives every line that is logged (after rate limiting), as "LEVEL KIND text". */
    static volatile java.util.function.Consumer<String> tap;

    private Log() {
    }

    /** For tests: forgets the rate limits, so that a test sees its own lines. */
    static void resetWindows() {
        WINDOWS.clear();
    }

    static void log(Kind kind, System.Logger.Level level, Supplier<String> message) {
        log(kind, level, message, null);
    }

    static void log(Kind kind, System.Logger.Level level, Supplier<String> message, Throwable cause) {
        java.util.function.Consumer<String> t = tap;
        if (t == null && !LOGGER.isLoggable(level)) {
            return;
        }
        long suppressed = WINDOWS.computeIfAbsent(kind, k -> new Window()).admit(System.nanoTime());
        if (suppressed < 0) {
            return;
        }
        String text = message.get() + (suppressed > 0 ? " (" + suppressed + " similar " + kind
                + " messages suppressed before this one)" : "");
        if (t != null) {
            t.accept(level + " " + kind + " " + text + (cause == null ? "" : " " + cause));
        }
        if (cause == null) {
            LOGGER.log(level, text);
        } else {
            LOGGER.log(level, text, cause);
        }
    }

    /** One kind's current window: lines logged and lines suppressed. */
    private static final class Window {
        private final AtomicLong start = new AtomicLong(System.nanoTime());
        private final AtomicLong logged = new AtomicLong();
        private final AtomicLong suppressed = new AtomicLong();

        /** -1 to suppress this line, else how many were suppressed before it (then reset). */
        long admit(long now) {
            long s = start.get();
            if (now - s > WINDOW_NANOS && start.compareAndSet(s, now)) {
                logged.set(0);
            }
            if (logged.incrementAndGet() > BURST) {
                suppressed.incrementAndGet();
                return -1;
            }
            return suppressed.getAndSet(0);
        }
    }
}
