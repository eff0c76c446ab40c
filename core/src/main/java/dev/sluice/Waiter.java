package dev.sluice;

/*
 * A party waiting in one of a channel's two FIFO queues (ChannelCore.sendQueue / receiveQueue): a blocked thread
 * (ThreadWaiter), a pending sendAsync future (SendFuture.Waiter), an upstream Publisher's item or its wish for
 * capacity (ChannelSubscriber), a Publisher subscription with demand (ChannelPublisher.Sub). One abstraction for all
 * of them, as flume's Signal: the core decides under its lock what happens to a waiter (its `state`, the handed
 * `item`), and after releasing the lock calls wake(), which each kind implements for itself (unpark, complete the
 * future, run the drain loop, request more). The core never looks at which kind it has.
 *
 * Threads: `state` leaves WAITING exactly once per time the waiter is queued, under the core's lock; `item` is
 * written before that (a sender's item at construction, a handed item by the pump) and read by the woken party after
 * it saw the state change. A standing waiter (isStanding: a subscription) stays WAITING while it is queued and takes
 * items itself while it is the head; the core only wakes it.
 */
abstract class Waiter implements WaiterSource {
    /** A ready-made waiter is its own source. */
    @Override
    public Waiter waiterFor(Object item) {
        return this;
    }

    /** Queued, not yet served. */
    static final int WAITING = 0;
    /** Served: a sender's item was accepted (or its slots granted), or a receiver was handed `item`. */
    static final int DONE = 1;
    /** The channel ended first (closed for senders, ended for receivers). */
    static final int CLOSED = 2;
    /** Left the queue by itself (timeout, interrupt, cancel). */
    static final int WITHDRAWN = 3;
    /** An iterator's wait ended by the iterator's close(). */
    static final int DETACHED = 4;

    /** WAITING until the core decides; see the class comment. */
    volatile int state;
    /** A sender's item (null: it wants capacity, see slotsWanted), or the item handed to a receiver. */
    Object item;
    /** System.nanoTime() when the party began to wait (statistics). */
    long since;
    /** A sender's item's weight in a weighted channel (computed once, before it queued), else 0. */
    long weight;
    /** Slots granted to a waiter that wanted capacity (written by the pump before state = DONE). */
    int granted;
    /** True while it is in one of the queues; written under the core's lock. */
    volatile boolean queued;

    /** Wakes the party after the core changed its state or, for a standing waiter, when it may take items. */
    abstract void wake();

    /**
     * True if the core keeps this sender's statistics clock (from queueing to leaving the queue); false for a thread,
     * which clocks its wait itself (from its first failed attempt, spin included).
     */
    boolean coreClocked() {
        return true;
    }

    /** True while a sender parks as the head of the send queue waiting for a run of free slots (ThreadWaiter). */
    boolean parkedForRun() {
        return false;
    }

    /** True for a receive waiter that takes items itself while it is the head of the queue (a subscription). */
    boolean isStanding() {
        return false;
    }

    /**
     * For a sender without an item: how many slots it wants reserved (an upstream Publisher's demand); 0 otherwise.
     * The pump grants what is free, at most this many.
     */
    int slotsWanted() {
        return 0;
    }
}
