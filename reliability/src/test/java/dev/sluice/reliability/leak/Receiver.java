package dev.sluice.reliability.leak;

import java.util.concurrent.TimeUnit;

/** The receiving side of a round: runs on a worker thread, can be detached from the terminator thread. */
interface Receiver extends Runnable {

    /** Detaches this consumer from another thread (interrupt, iterator close, subscription cancel). */
    void abort();

    /**
     * Waits until the consumer has ended (end of channel, failure, or detached).
     *
     * @param timeout the longest wait
     * @param unit its unit
     * @return {@code true} if done
     * @throws InterruptedException if interrupted
     */
    boolean awaitDone(long timeout, TimeUnit unit) throws InterruptedException;

    /**
     * How receiving ended, for failure messages.
     *
     * @return a short description
     */
    String outcome();
}
