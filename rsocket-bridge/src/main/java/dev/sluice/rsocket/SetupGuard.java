package dev.sluice.rsocket;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.rsocket.frame.FrameHeaderCodec;
import io.rsocket.frame.FrameType;
import io.rsocket.frame.SetupFrameCodec;

/*
 * Slows down repeated failed SETUPs per remote address (password guessing), without slowing a correct token.
 *
 * Every connection's first frame passes through admit() (see Transports.GuardedConnection). A SETUP whose token is
 * wrong or missing counts a failure for its remote IP address; from the (FREE_FAILURES + 1)-th failure on, its
 * delivery to RSocket (and so the REJECTED_SETUP) is delayed: BASE_DELAY, doubling per failure, at most MAX_DELAY.
 * At most MAX_DELAYED connections of one address wait at once; more are closed at once. A correct token resets the
 * address; an address without failure for FORGET_AFTER is forgotten. The map is bounded (MAX_ADDRESSES): when full,
 * forgotten entries are swept, and if it is still full the new address is not tracked (its failures are then only
 * logged, rate-limited).
 *
 * The token check here only decides the delay and the log line; the acceptor (SluiceServer) makes the authoritative
 * check with the same constant-time comparison.
 */
final class SetupGuard {

    static final int FREE_FAILURES = 3;
    static final Duration BASE_DELAY = Duration.ofMillis(250);
    static final Duration MAX_DELAY = Duration.ofSeconds(5);
    static final int MAX_DELAYED = 4;
    static final long FORGET_AFTER_NANOS = TimeUnit.MINUTES.toNanos(10);
    static final int MAX_ADDRESSES = 10_000;

    /** What to do with a connection's first frame. */
    record Verdict(Duration delay, boolean close, Runnable done) {
        static final Verdict PASS = new Verdict(Duration.ZERO, false, () -> { });
    }

    private final byte[] expected;
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();

    SetupGuard(byte[] expected) {
        this.expected = expected;
    }

    /** Decides about a connection's first frame; {@link Verdict#done} must run once the delay is over. */
    Verdict admit(SocketAddress remote, ByteBuf firstFrame) {
        if (FrameHeaderCodec.frameType(firstFrame) != FrameType.SETUP) {
            return Verdict.PASS; // RESUME (checked by its resume token) or garbage (RSocket refuses it)
        }
        InetAddress address = remote instanceof InetSocketAddress ? ((InetSocketAddress) remote).getAddress() : null;
        boolean ok;
        int presentedLength;
        try {
            byte[] presented = ByteBufUtil.getBytes(SetupFrameCodec.data(firstFrame));
            presentedLength = presented.length;
            ok = MessageDigest.isEqual(expected, presented);
        } catch (RuntimeException malformed) {
            return Verdict.PASS; // RSocket rejects a malformed SETUP itself
        }
        if (ok) {
            if (address != null) {
                failures.remove(address);
            }
            return Verdict.PASS;
        }
        String reason = presentedLength == 0 ? "missing token" : "invalid token";
        Failures f = address == null ? null : track(address);
        if (f == null) {
            Log.log(Log.Kind.AUTH, System.Logger.Level.WARNING, () -> "rejected SETUP from " + remote + ": " + reason);
            return Verdict.PASS;
        }
        int n = f.count.incrementAndGet();
        f.last = System.nanoTime();
        Duration delay = delayAfter(n);
        if (delay.isZero()) {
            Log.log(Log.Kind.AUTH, System.Logger.Level.WARNING, () -> "rejected SETUP from " + remote + ": " + reason
                    + " (failure " + n + " from this address)");
            return Verdict.PASS;
        }
        if (f.delayed.incrementAndGet() > MAX_DELAYED) {
            f.delayed.decrementAndGet();
            Log.log(Log.Kind.AUTH, System.Logger.Level.WARNING, () -> "rejected SETUP from " + remote + ": " + reason
                    + " (failure " + n + "); closed at once: " + MAX_DELAYED + " connections of this address are "
                    + "already held back");
            return new Verdict(Duration.ZERO, true, () -> { });
        }
        Log.log(Log.Kind.AUTH, System.Logger.Level.WARNING, () -> "rejected SETUP from " + remote + ": " + reason
                + " (failure " + n + " from this address; answered after " + delay.toMillis() + " ms)");
        return new Verdict(delay, false, f.delayed::decrementAndGet);
    }

    /** The delay of the n-th consecutive failure of one address. */
    static Duration delayAfter(int n) {
        if (n <= FREE_FAILURES) {
            return Duration.ZERO;
        }
        int doublings = Math.min(n - FREE_FAILURES - 1, 20);
        Duration d = BASE_DELAY.multipliedBy(1L << doublings);
        return d.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : d;
    }

    /** How many consecutive failures an address has (for tests). */
    int failuresOf(InetAddress address) {
        Failures f = failures.get(address);
        return f == null ? 0 : f.count.get();
    }

    private Failures track(InetAddress address) {
        Failures f = failures.get(address);
        if (f != null) {
            if (System.nanoTime() - f.last > FORGET_AFTER_NANOS) {
                f.count.set(0);
            }
            return f;
        }
        if (failures.size() >= MAX_ADDRESSES) {
            long now = System.nanoTime();
            for (Iterator<Failures> it = failures.values().iterator(); it.hasNext(); ) {
                Failures old = it.next();
                if (now - old.last > FORGET_AFTER_NANOS && old.delayed.get() == 0) {
                    it.remove();
                }
            }
            if (failures.size() >= MAX_ADDRESSES) {
                return null;
            }
        }
        return failures.computeIfAbsent(address, a -> new Failures());
    }

    /** The failures of one address. */
    private static final class Failures {
        final AtomicInteger count = new AtomicInteger();
        final AtomicInteger delayed = new AtomicInteger();
        volatile long last = System.nanoTime();
    }
}
