package dev.sluice.reliability.leak;

import java.util.concurrent.TimeUnit;

/** The sending side of a round: runs on a worker thread, can be aborted from the terminator thread. */
interface Sender extends Runnable {

    /** Aborts sending from another thread (interrupt, cancel pending futures). */
    void abort();

    /**
     * Waits until the sender will do nothing more.
     *
     * @param timeout the longest wait
     * @param unit its unit
     * @return {@code true} if done
     * @throws InterruptedException if interrupted
     */
    boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException;

    /**
     * Tells, after the round, whether the channel owns item {@code i} (accepted it, or got it from upstream).
     *
     * @param i the item index
     * @return {@code true} if the item must have exactly one fate
     */
    boolean accepted(int i);

    /**
     * How sending ended, for failure messages.
     *
     * @return a short description
     */
    String outcome();
}
