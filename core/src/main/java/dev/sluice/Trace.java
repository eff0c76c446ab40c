package dev.sluice;

import java.util.concurrent.atomic.LongAdder;

/*
 * Opt-in diagnostic counters of the slow paths (-Dsluice.trace=true): why a benchmark number moved. Off by default:
 * ON is a static final, so the JIT removes every counting site.
 */
final class Trace {
    static final boolean ON = Boolean.getBoolean("sluice.trace");

    static final LongAdder SEND_FULL = new LongAdder();
    static final LongAdder SEND_SPIN_OK = new LongAdder();
    static final LongAdder SEND_SPIN_FAIL = new LongAdder();
    static final LongAdder SEND_QUEUED = new LongAdder();
    static final LongAdder RECEIVE_EMPTY = new LongAdder();
    static final LongAdder RECEIVE_SPIN_OK = new LongAdder();
    static final LongAdder RECEIVE_SPIN_FAIL = new LongAdder();
    static final LongAdder RECEIVE_QUEUED = new LongAdder();
    static final LongAdder PARKS = new LongAdder();
    static final LongAdder PUMPS = new LongAdder();
    static final LongAdder LOCKS = new LongAdder();

    private Trace() {
    }

    static void count(LongAdder a) {
        if (ON) {
            a.increment();
        }
    }

    /** The counters since the last report, and resets them. */
    static String report() {
        return "sendFull=" + SEND_FULL.sumThenReset() + " sendSpinOk=" + SEND_SPIN_OK.sumThenReset()
                + " sendSpinFail=" + SEND_SPIN_FAIL.sumThenReset() + " sendQueued=" + SEND_QUEUED.sumThenReset()
                + " recvEmpty=" + RECEIVE_EMPTY.sumThenReset() + " recvSpinOk=" + RECEIVE_SPIN_OK.sumThenReset()
                + " recvSpinFail=" + RECEIVE_SPIN_FAIL.sumThenReset() + " recvQueued=" + RECEIVE_QUEUED.sumThenReset()
                + " parks=" + PARKS.sumThenReset() + " pumps=" + PUMPS.sumThenReset() + " locks="
                + LOCKS.sumThenReset();
    }
}
