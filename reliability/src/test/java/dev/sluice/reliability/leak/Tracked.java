package dev.sluice.reliability.leak;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.UndeliveredReason;

/**
 * An item whose fate is counted, like reactor-core's {@code MemoryUtils.Tracked}: a consumer calls
 * {@link #deliver(String)}, the undelivered handler calls {@link #release(UndeliveredReason)}. After a round every
 * accepted item must have exactly one fate, and an item never accepted none.
 */
final class Tracked {
    final int id;
    final AtomicInteger deliveries = new AtomicInteger();
    final AtomicInteger releases = new AtomicInteger();
    /** Who delivered or released it, in order, for the failure message. */
    final Queue<String> history = new ConcurrentLinkedQueue<>();

    Tracked(int id) {
        this.id = id;
    }

    /**
     * Records a delivery.
     *
     * @param by the consumer, for the report
     */
    void deliver(String by) {
        history.add("delivered(" + by + ", " + Thread.currentThread().getName() + ")");
        deliveries.incrementAndGet();
    }

    /**
     * Records a release by the undelivered handler.
     *
     * @param reason the reason given
     */
    void release(UndeliveredReason reason) {
        history.add("released(" + reason + ", " + Thread.currentThread().getName() + ")");
        releases.incrementAndGet();
    }

    /**
     * Number of fates so far.
     *
     * @return deliveries plus releases
     */
    int fates() {
        return deliveries.get() + releases.get();
    }

    @Override
    public String toString() {
        return "item" + id + history;
    }
}
