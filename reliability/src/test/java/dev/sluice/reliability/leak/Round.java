package dev.sluice.reliability.leak;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.Channel;
import dev.sluice.ChannelStats;

/**
 * One race of the leak matrix: a fresh channel of tracked items, a sending door, a receiving door and a terminal
 * event fired part way.
 */
final class Round {
    final int number;
    final Tracked[] items;
    final Channel<Tracked> channel;
    /** Items accepted so far. */
    final AtomicInteger accepted = new AtomicInteger();
    /** Items delivered so far. */
    final AtomicInteger delivered = new AtomicInteger();
    /** Work a consumer does per item (spins), so that the sender keeps meeting a full buffer. */
    final int consumerWork;

    /* The terminal event is fired from inside the traffic: by the sending thread after its fireAt-th accepted item,
       or by the receiving thread after its fireAt-th delivered item, so it always races the other thread's calls. */
    private final AtomicBoolean fired = new AtomicBoolean();
    private volatile Runnable fireAction;
    private volatile boolean fireOnSenderSide;
    private volatile int fireAt;
    private volatile int fireSpins;
    volatile String firedBy = "not fired";
    /** Ids in the order consumers got them. */
    final Queue<Integer> deliveredOrder = new ConcurrentLinkedQueue<>();
    /** Exceptions no door expected; any of them fails the round. */
    final Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();

    Round(int number, int capacity, int itemCount, int consumerWork) {
        this.number = number;
        this.consumerWork = consumerWork;
        this.items = new Tracked[itemCount];
        for (int i = 0; i < itemCount; i++) {
            items[i] = new Tracked(i);
        }
        this.channel = Channel.<Tracked>builder()
                .capacity(capacity)
                .onUndelivered((item, reason) -> item.release(reason))
                .build();
    }

    /**
     * Arms the terminal event.
     *
     * @param action what to run
     * @param senderSide {@code true} to fire from the sending thread, {@code false} from the receiving thread
     * @param at after how many accepted (sender side) or delivered (receiver side) items; 0 = before the first
     * @param spins how long to spin before firing
     */
    void arm(Runnable action, boolean senderSide, int at, int spins) {
        this.fireOnSenderSide = senderSide;
        this.fireAt = at;
        this.fireSpins = spins;
        this.fireAction = action;
    }

    /** Fires the event now if nothing fired it yet (the test thread's guard). */
    void fireIfNotYet() {
        if (fired.compareAndSet(false, true)) {
            firedBy = "test thread (late)";
            fireAction.run();
        }
    }

    /**
     * Sender hook: called with the number of items accepted so far (0 before the first send).
     *
     * @param count accepted items
     */
    void afterAccept(int count) {
        maybeFire(true, count);
    }

    /**
     * Receiver hook: called with the number of items delivered so far (0 before the first receive).
     *
     * @param count delivered items
     */
    void afterDeliver(int count) {
        maybeFire(false, count);
    }

    private void maybeFire(boolean senderSide, int count) {
        if (senderSide == fireOnSenderSide && count == fireAt && fired.compareAndSet(false, true)) {
            if (senderSide && count == items.length && accepted.get() == items.length) {
                count = -1; // marks "after close" in firedBy
            }
            for (int i = fireSpins; i > 0; i--) {
                Thread.onSpinWait();
            }
            firedBy = (senderSide ? "sender" : "receiver") + " thread " + Thread.currentThread().getName()
                    + (count < 0 ? " after sending all and closing" : " after " + count
                    + (senderSide ? " accepted" : " delivered"));
            fireAction.run();
        }
    }

    /**
     * Sender hook after the sender closed the channel at the end of its items: fires an event armed for
     * {@code at == items.length} on the sender side, which then races the consumer draining the closed channel.
     */
    void senderFinished() {
        maybeFire(true, items.length);
    }

    /**
     * Records an item the sender saw accepted and runs the sender hook.
     */
    void accepted() {
        afterAccept(accepted.incrementAndGet());
    }

    /**
     * Records a delivery (called by every consumer, in the callback that got the item).
     *
     * @param item the item
     * @param by the consumer kind
     */
    void delivered(Tracked item, String by) {
        item.deliver(by);
        deliveredOrder.add(item.id);
    }

    /**
     * Records an item that Reactor dropped or discarded after the channel had passed it to a bridge subscriber's
     * {@code onNext} (the downstream was cancelling at that instant). Contract 1 counts such an item as delivered:
     * Reactor reports it through its hooks instead of losing it silently.
     *
     * @param item the item
     * @param hook which Reactor hook reported it
     */
    void droppedByReactor(Object item, String hook) {
        if (item instanceof Tracked t) {
            t.deliver(hook);
        } else {
            unexpected.add(new AssertionError(hook + " reported a non-item: " + item));
        }
    }

    /**
     * The consumer's work after a delivery, on the consuming thread: spin a little, then run the receiver hook.
     */
    void consumed() {
        for (int i = consumerWork; i > 0; i--) {
            Thread.onSpinWait();
        }
        afterDeliver(delivered.incrementAndGet());
    }

    /**
     * Checks the round once every thread is done: each accepted item has exactly one fate, other items none, items
     * reached the (single) consumer in order, and the quiescent counters agree.
     *
     * @param sender the sending door, to ask which items it had accepted
     * @return the problems found, empty if none
     */
    List<String> verify(Sender sender) {
        List<String> problems = new ArrayList<>();
        long deliveries = 0;
        long releases = 0;
        for (int i = 0; i < items.length; i++) {
            Tracked t = items[i];
            deliveries += t.deliveries.get();
            releases += t.releases.get();
            boolean accepted = sender.accepted(i);
            if (accepted && t.fates() != 1) {
                problems.add("accepted " + t + " had " + t.fates() + " fates (expected exactly 1)");
            } else if (!accepted && t.fates() != 0) {
                problems.add("not accepted " + t + " was delivered or released");
            }
        }
        int last = -1;
        for (int id : deliveredOrder) {
            if (id <= last) {
                problems.add("out of order: " + deliveredOrder);
                break;
            }
            last = id;
        }
        ChannelStats s = channel.stats();
        if (s.size() != 0 || s.waitingSenders() != 0 || s.waitingReceivers() != 0 || s.subscribers() != 0) {
            problems.add("not quiescent after the final cancel: " + s);
        }
        if (s.received() != deliveries || s.undelivered() != releases) {
            problems.add("stats received/undelivered " + s.received() + "/" + s.undelivered() + " but tracked "
                    + deliveries + "/" + releases);
        }
        for (Throwable t : unexpected) {
            problems.add("unexpected " + t);
        }
        return problems;
    }
}
