package dev.sluice;

import java.lang.invoke.VarHandle;

/*
 * All Reactive Streams demand arithmetic in one place (as reactor-core's Operators does): validation of request(n),
 * capped addition (rule 3.17) and subtraction of what was produced.
 */
final class Demand {
    private Demand() {
    }

    /** Returns null when n is a valid request amount, else the rule 3.9 exception to signal. */
    static IllegalArgumentException validate(long n) {
        if (n > 0) {
            return null;
        }
        return new IllegalArgumentException(
                "Reactive Streams rule 3.9: request(n) needs n > 0 but it was " + n);
    }

    /** Adds without overflowing: the sum caps at Long.MAX_VALUE. */
    static long addCap(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    /** Atomically adds n to the long field behind handle, capping at Long.MAX_VALUE; returns the previous value. */
    static long getAndAddCap(VarHandle handle, Object owner, long n) {
        for (;;) {
            long r = (long) handle.getVolatile(owner);
            if (r == Long.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
            if (handle.compareAndSet(owner, r, addCap(r, n))) {
                return r;
            }
        }
    }

    /** Atomically subtracts what was produced, unless demand is unbounded; returns the new value. */
    static long produced(VarHandle handle, Object owner, long n) {
        for (;;) {
            long r = (long) handle.getVolatile(owner);
            if (r == Long.MAX_VALUE) {
                return Long.MAX_VALUE;
            }
            long u = r - n;
            if (u < 0) {
                throw new IllegalStateException("more produced than requested: " + u);
            }
            if (handle.compareAndSet(owner, r, u)) {
                return u;
            }
        }
    }
}
