package dev.sluice.rsocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/*
 * A byte budget shared by the streams of one connection in one direction (see ServerHandler): what remote producers
 * may have on their way into channels (requested or waiting for acceptance), or what remote consumers were sent and
 * have not acknowledged.
 *
 * tryAcquire never blocks. A stream that cannot get its bytes registers a retry with whenFreed; every release runs
 * the registered retries once (on the releasing thread), so a retry must be short and must not block. A retry that
 * fails again registers itself again. Lost wake-ups: whenFreed re-checks after registering, so a release between the
 * failed tryAcquire and the registration is not missed.
 */
final class Budget {

    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final Set<Runnable> retries = ConcurrentHashMap.newKeySet();

    Budget(long limit) {
        this.limit = limit;
    }

    long limit() {
        return limit;
    }

    long used() {
        return used.get();
    }

    /** Takes {@code bytes} if they fit in what is left; never blocks. */
    boolean tryAcquire(long bytes) {
        assert bytes >= 0;
        for (;;) {
            long u = used.get();
            if (u + bytes > limit) {
                return false;
            }
            if (used.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        long after = used.addAndGet(-bytes);
        assert after >= 0 : "budget released more than acquired: " + after;
        runRetries();
    }

    /** Runs {@code retry} once after the next release (or now, if something was freed meanwhile). */
    void whenFreed(Runnable retry, long wanted) {
        retries.add(retry);
        if (used.get() + wanted <= limit && retries.remove(retry)) {
            retry.run();
        }
    }

    /** Forgets a registered retry (its stream ended). */
    void forget(Runnable retry) {
        retries.remove(retry);
    }

    /* Runs the retries registered so far, each once; a retry that registers again waits for the next release. */
    private void runRetries() {
        if (retries.isEmpty()) {
            return;
        }
        Runnable[] now = retries.toArray(new Runnable[0]);
        for (Runnable r : now) {
            if (retries.remove(r)) {
                r.run();
            }
        }
    }
}
