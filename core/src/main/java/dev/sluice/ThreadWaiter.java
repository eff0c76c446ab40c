package dev.sluice;

import java.util.concurrent.locks.LockSupport;

/*
 * A blocked thread in one of the queues: send(), receive(), an iterator's hasNext().
 *
 * Parking without lost or needless wake-ups: before it parks the thread announces itself (parked = true, volatile)
 * and then re-reads `state`; the core writes `state` and then reads `parked` in wake(). Both are volatile, so either
 * the thread sees the new state and does not park, or wake() sees the announcement and unparks: a thread that is
 * still spinning is never unparked (a needless unpark costs a system call), and one that parked is always woken.
 */
final class ThreadWaiter extends Waiter {
    /** Below this remaining time a timed wait spins instead of parking. */
    static final long SPIN_FOR_TIMEOUT_THRESHOLD = 1023L;
    /** A queued head waiter spins this many times on its state before it parks (platform threads only). */
    static final int SPINS = 1 << 7;

    final Thread thread;
    private volatile boolean parked;

    ThreadWaiter(Thread thread, Object item) {
        this.thread = thread;
        this.item = item;
    }

    @Override
    boolean coreClocked() {
        return false;
    }

    @Override
    void wake() {
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Waits until the state leaves WAITING: spins briefly if {@code spin}, then parks. An interrupt or the deadline
     * withdraws the waiter through {@code core}, unless it was served first: then the interrupt status is restored
     * and the served state returned.
     *
     * @param nanos negative: no deadline
     * @return the final state, or ChannelCore.INTERRUPTED / ChannelCore.TIMED_OUT when withdrawn for that reason
     */
    int await(ChannelCore core, long nanos, boolean spin) {
        final long deadline = nanos > 0 ? System.nanoTime() + nanos : 0L;
        int spins = spin ? SPINS : 0;
        int s;
        while ((s = state) == WAITING) {
            if (spins > 0) {
                spins--;
                Thread.onSpinWait();
                continue;
            }
            if (Thread.interrupted()) {
                if (core.withdraw(this)) {
                    return ChannelCore.INTERRUPTED;
                }
                Thread.currentThread().interrupt();
                continue; // served meanwhile: state is no longer WAITING
            }
            long remaining = 0L;
            if (nanos >= 0) {
                remaining = deadline - System.nanoTime();
                if (remaining <= 0L) {
                    if (core.withdraw(this)) {
                        return ChannelCore.TIMED_OUT;
                    }
                    continue;
                }
                if (remaining <= SPIN_FOR_TIMEOUT_THRESHOLD) {
                    Thread.onSpinWait();
                    continue;
                }
            }
            parked = true;
            if (state == WAITING) {
                if (nanos < 0) {
                    LockSupport.park(core);
                } else {
                    LockSupport.parkNanos(core, remaining);
                }
            }
            parked = false;
        }
        return s;
    }
}
