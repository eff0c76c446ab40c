package dev.sluice.reliability.leak;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
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
    /** Accepted plus delivered items so far: the terminator fires when this reaches its random target. */
    final AtomicInteger progress = new AtomicInteger();
    /** Ids in the order consumers got them. */
    final Queue<Integer> deliveredOrder = new ConcurrentLinkedQueue<>();
    /** Exceptions no door expected; any of them fails the round. */
    final Queue<Throwable> unexpected = new ConcurrentLinkedQueue<>();

    Round(int number, int capacity, int itemCount) {
        this.number = number;
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
     * Called by every consumer for every item it gets.
     *
     * @param item the item
     * @param by the consumer kind
     */
    void delivered(Tracked item, String by) {
        item.deliver(by);
        deliveredOrder.add(item.id);
        progress.incrementAndGet();
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
