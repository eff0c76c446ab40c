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

    /**
     * The longest park of a head sender that lets consumers wake it only after a run of slots freed (hysteresis, see
     * ChannelCore.parkingSender): if the consumer stops before the run is complete, the sender wakes by itself and is
     * admitted into what is free, so a blocked send never waits longer than this while there is room.
     */
    static final long RUN_PARK_NANOS = 200_000L;

    final Thread thread;
    private volatile boolean parked;
    /** True while it parks as the send queue's head waiting for a run (bounded park); read by the core. */
    private volatile boolean parkedForRun;

    ThreadWaiter(Thread thread, Object item) {
        this.thread = thread;
        this.item = item;
    }

    @Override
    boolean coreClocked() {
        return false;
    }

    @Override
    boolean parkedForRun() {
        return parkedForRun;
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
     * @param policy the spin policy of the waiter's side, told how long a park lasted
     * @param sender true for a blocked send (its item waits in the send queue)
     * @return the final state, or ChannelCore.INTERRUPTED / ChannelCore.TIMED_OUT when withdrawn for that reason
     */
    int await(ChannelCore core, long nanos, boolean spin, SpinPolicy policy, boolean sender) {
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
            boolean forRun = sender && core.parkingSender(this);
            parkedForRun = forRun;
            parked = true;
            if (state == WAITING) {
                Trace.count(Trace.PARKS);
                long parkedAt = System.nanoTime();
                if (forRun) {
                    LockSupport.parkNanos(core, nanos < 0 ? RUN_PARK_NANOS : Math.min(remaining, RUN_PARK_NANOS));
                } else if (nanos < 0) {
                    LockSupport.park(core);
                } else {
                    LockSupport.parkNanos(core, remaining);
                }
                if (state != WAITING) {
                    policy.parkedFor(System.nanoTime() - parkedAt); // woken by the other side: learn from it
                }
            }
            parked = false;
            if (forRun) {
                parkedForRun = false;
                if (state == WAITING) {
                    core.admitIfHead(this); // the run did not come: take what is free now
                }
            }
        }
        return s;
    }
}
