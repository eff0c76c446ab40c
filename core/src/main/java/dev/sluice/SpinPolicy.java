package dev.sluice;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;

/*
 * How a thread of one side of one channel waits for the other side before it queues and parks: relaxed looks spaced
 * in time, within a time budget that adapts to whether spinning pays. One instance per side per channel.
 *
 * Overview of implementation
 *
 * Why. On a multiprocessor a platform thread's park/unpark round trip costs ~10-15 us on Linux VMs, while the other
 * side usually frees a slot or publishes an item within a microsecond: a short spin saves the park. But each look at
 * the other side's cache line pulls that line away from the thread that works on it, and on a loaded machine (more
 * runnable threads than CPUs) the thread a spinner waits for may not be running at all: then every spin is a stolen
 * time slice. So (as HotSpot's adaptive spinning and LinkedTransferQueue do):
 *   - only the first waiter of a side spins (`spinner`); later ones queue and park at once;
 *   - looks are relaxed (one stamp, ChannelCore's probe) and spaced in time: the first after `look` ns, then twice
 *     as far apart each time, up to MAX_LOOK: the other side gets undisturbed runs, and a waiter that keeps finding
 *     just one item widens `look` (the receive side's remedy against the near-empty chase: each item would otherwise
 *     cost a cache-line round trip);
 *   - an episode lasts `budget` ns, extended while the other side visibly progresses (its ring index moves: our
 *     turn is coming), never beyond MAX_EPISODE;
 *   - the budget adapts: a success doubles it (up to MAX_BUDGET); a failure halves it, but never below MIN_BUDGET,
 *     about one park/unpark round trip: the other side, once woken, needs that long to come back, so spinning less
 *     cannot pay off (the failure mode is a stable state where both sides park every few items because each gives up
 *     just before the other returns); and a park that the other side ended after t ns raises the budget to 1.5 t
 *     (parkedFor), so that next time the spin covers it;
 *   - a gap between two clock reads longer than PREEMPTED ns means this thread was descheduled: the machine is
 *     oversubscribed (more runnable threads than CPUs), so the episode ends at once and the budget drops to
 *     LOADED_BUDGET until a spin succeeds again: then a side parks nearly at once, as a lock-based queue does, and the
 *     other side moves a whole run of items in its time slice;
 *   - virtual threads never spin (their park is cheap and their carrier has other work), nor do uniprocessors.
 * A side's first thread that a blocking guard allowed is remembered (guard()), so the guard's check, ~10 ns on
 * Reactor's threads, is not paid on every call of a single producer or consumer.
 * The fields are plain and racy on purpose: they are heuristics, read and written only on the slow path by the
 * (usually single) spinner; a lost update costs one episode of a slightly wrong budget.
 */
final class SpinPolicy {
    /** Implemented by ChannelCore: a relaxed look that never decides (ring stamp, gate). */
    interface Probe {
        /** True when trying again for real may succeed. */
        boolean ready();

        /** A number that changes while the other side works (its ring index): spinning goes on while it moves. */
        long progress();
    }

    static final boolean MULTIPROCESSOR = Runtime.getRuntime().availableProcessors() > 1;

    /** Upper bound of an episode's budget. */
    static final long MAX_BUDGET = 50_000L;
    /**
     * Lower bound of the budget while the machine does not look oversubscribed: about one park/unpark round trip, the
     * time the other side needs to come back after we woke it. Spinning less than that cannot pay off, and on an idle
     * CPU spinning costs nothing but that CPU's idle time.
     */
    static final long MIN_BUDGET = 10_000L;
    /** The budget after this thread was seen descheduled while spinning (more runnable threads than CPUs). */
    static final long LOADED_BUDGET = 1_000L;
    /** Initial budget: about one park/unpark round trip of a platform thread. */
    static final long INITIAL_BUDGET = 20_000L;
    /** An episode never lasts longer than this, however much the other side progresses. */
    static final long MAX_EPISODE = 200_000L;
    /** The first look of an episode comes after this long, at least. */
    static final long MIN_LOOK = 50L;
    /** Looks are never further apart than this. */
    static final long MAX_LOOK = 2_000L;
    /** A gap this long between two clock reads of a spinning thread: it was descheduled. */
    static final long PREEMPTED = 100_000L;

    // padding: the fields below are written by the spinner while the fast paths run on other lines
    long p00, p01, p02, p03, p04, p05, p06, p07;

    /** 1 while a thread of this side spins. */
    volatile int spinner;
    /** The current episode budget in ns (heuristic, racy). */
    long budget = INITIAL_BUDGET;
    /** The current first-look delay in ns (heuristic, racy). */
    long look = MIN_LOOK;
    /** The side's index when its previous wait began (heuristic, racy). */
    long mark;
    /** The first thread of this side that a blocking guard allowed (plain, racy: a stale read only checks again). */
    private Thread guarded;

    long p10, p11, p12, p13, p14, p15, p16, p17;

    /**
     * Spins until {@code probe} says ready or the episode's budget is spent; only one thread of this side at a time.
     *
     * @return true if the probe said ready (try again for real), false if the caller should queue and park
     */
    boolean await(Probe probe) {
        if (!MULTIPROCESSOR || isVirtual(Thread.currentThread())) {
            return false;
        }
        if (spinner != 0 || !SPINNER.compareAndSet(this, 0, 1)) {
            return false; // someone spins already: queue behind it
        }
        try {
            long budget = this.budget;
            long look = this.look;
            long start = System.nanoTime();
            long now = start;
            long deadline = start + budget;
            long end = start + MAX_EPISODE;
            long next = start + look;
            long progress = probe.progress();
            for (;;) {
                long before = now;
                now = System.nanoTime();
                if (now - before > PREEMPTED) {
                    this.budget = LOADED_BUDGET; // oversubscribed: stop burning time slices
                    return false;
                }
                if (now >= next) {
                    if (probe.ready()) {
                        this.budget = Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, budget << 1));
                        return true;
                    }
                    long p = probe.progress();
                    if (p != progress) {
                        progress = p; // the other side works: our turn is coming, keep spinning
                        deadline = Math.min(end, Math.max(deadline, now + budget));
                    }
                    if (now >= deadline) {
                        this.budget = Math.max(budget > MIN_BUDGET ? MIN_BUDGET : LOADED_BUDGET, budget >> 1);
                        return false;
                    }
                    look = Math.min(MAX_LOOK, look << 1);
                    next = now + look;
                }
                Thread.onSpinWait();
            }
        } finally {
            spinner = 0;
        }
    }

    /**
     * A thread of this side that queued and parked was woken after {@code nanos}: had it spun that long (and a bit),
     * it would not have parked. So a short park raises the budget to cover it (HotSpot's adaptive spinning learns from
     * the lock's observed hold times the same way); a long one says nothing.
     */
    void parkedFor(long nanos) {
        if (nanos > 0 && nanos < MAX_BUDGET) {
            long want = nanos + (nanos >> 1);
            if (want > budget) {
                budget = Math.min(MAX_BUDGET, want);
            }
        }
    }

    /**
     * Called as a wait begins with the side's own index (items it moved so far): a waiter that found just one or two
     * items since its previous wait waits longer before its first look this time (the other side gets a run, and the
     * near-empty chase, a cache-line round trip per item, ends); one that found a run of {@code run} looks sooner.
     */
    void moved(long index, int run) {
        long items = index - mark;
        mark = index;
        long look = this.look;
        if (items <= 2) {
            if (look < MAX_LOOK) {
                this.look = Math.min(MAX_LOOK, look << 1);
            }
        } else if (items >= run && look > MIN_LOOK) {
            this.look = Math.max(MIN_LOOK, look >> 1);
        }
    }

    /**
     * The blocking guards' check (Guards.check) for a blocking call of this side, remembering the first thread that
     * passed it: that thread (one producer, one consumer, a blocking stage's thread) is not asked again, which saves
     * ~10 ns per call (Reactor's check is an interface instanceof plus a predicate call). A thread's answer does not
     * change, unless a new non-blocking predicate is registered with Reactor after it was allowed: then that one thread
     * is still allowed on this channel. Other threads are checked every time (and never written here, so threads
     * taking turns do not trade this line).
     */
    void guard(String operation) {
        Thread t = Thread.currentThread();
        if (t != guarded) {
            Guards.check(operation);
            if (guarded == null) {
                guarded = t;
            }
        }
    }

    private static final MethodHandle IS_VIRTUAL = findIsVirtual();

    private static MethodHandle findIsVirtual() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null; // JDK 17: no virtual threads
        }
    }

    /** True for a virtual thread (JDK 21+). */
    static boolean isVirtual(Thread t) {
        if (IS_VIRTUAL == null) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(t);
        } catch (Throwable impossible) {
            return false;
        }
    }

    /** Whether a thread that queued may spin on its waiter state before parking (platform threads, multiprocessor). */
    static boolean maySpin(Thread t) {
        return MULTIPROCESSOR && !isVirtual(t);
    }

    private static final VarHandle SPINNER;

    static {
        try {
            SPINNER = MethodHandles.lookup().findVarHandle(SpinPolicy.class, "spinner", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
