package dev.sluice.rsocket;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import dev.sluice.Channel;
import dev.sluice.internal.ChannelAccess;

/*
 * One named channel exposed by a server, shared by all its connections.
 *
 * Giving items back. Items a remote consumer took but never acknowledged go back to the head of the channel itself
 * when its stream ends without completing (connection broken, stream cancelled): ChannelAccess.pushBack, a hook that
 * core exports to this module only. So they count against the channel's capacity and in its stats, local consumers
 * see them too, and nothing is kept in a second buffer here. An item given back after the channel has ended goes to
 * the channel's onUndelivered handler (RETURNED_AFTER_END): every receiver was already told the channel ended.
 *
 * Redelivered marks. Only to set Delivery.redelivered() for remote consumers, `returned` remembers (by identity, with
 * weak references) the items given back and not yet taken again by a remote consumer. An item taken again by a local
 * consumer is never seen here again: its mark goes away when that consumer drops the item (the reference is
 * cleared), so the marks never outlive the items.
 */
final class Exposure<T> {

    final String name;
    final Channel<T> channel;
    final Codec<T> codec;
    final SluiceServer.Direction direction;
    /* the most items one remote consumer stream may hold un-acknowledged (taken out of the channel) */
    final int consumerWindow;

    private final ReentrantLock marksLock = new ReentrantLock();
    private final Map<Object, Boolean> returned = new HashMap<>(); // guarded by marksLock: WeakKey -> TRUE
    private final ReferenceQueue<Object> cleared = new ReferenceQueue<>(); // guarded by marksLock
    private volatile boolean anyReturned; // set once something was given back: until then takenAgain takes no lock

    Exposure(String name, Channel<T> channel, Codec<T> codec, SluiceServer.Direction direction, int consumerWindow) {
        this.name = name;
        this.channel = channel;
        this.codec = codec;
        this.direction = direction;
        this.consumerWindow = consumerWindow;
    }

    boolean allowsReceive() {
        return direction != SluiceServer.Direction.SEND_ONLY;
    }

    boolean allowsSend() {
        return direction != SluiceServer.Direction.RECEIVE_ONLY;
    }

    /**
     * Gives items back to the head of the channel ({@code items} oldest first). They are pushed back one at a time,
     * newest first, so that with nobody waiting they leave the channel again oldest first; a receiver waiting at that
     * moment takes each as it comes, so it may see them in the opposite order. (Core has no "push back a batch".)
     */
    void giveBack(java.util.List<T> items) {
        if (items.isEmpty()) {
            return;
        }
        anyReturned = true;
        marksLock.lock();
        try {
            expunge();
            for (T item : items) {
                returned.put(new WeakKey(item, cleared), Boolean.TRUE);
            }
        } finally {
            marksLock.unlock();
        }
        for (int i = items.size() - 1; i >= 0; i--) {
            ChannelAccess.pushBack(channel, items.get(i)); // the newest first: the oldest ends up at the head
        }
    }

    /** Whether a remote consumer had this item before (and forgets it: this taking is the new one). */
    boolean takenAgain(T item) {
        if (!anyReturned) {
            return false;
        }
        marksLock.lock();
        try {
            expunge();
            return !returned.isEmpty() && returned.remove(new Lookup(item)) != null;
        } finally {
            marksLock.unlock();
        }
    }

    /* under marksLock: drops the marks of items nobody holds any more */
    private void expunge() {
        for (Reference<?> r; (r = cleared.poll()) != null; ) {
            returned.remove(r);
        }
    }

    /*
     * The two key kinds of `returned` compare equal when they refer to the same item: WeakKey (stored) and Lookup
     * (a strong, short-lived probe). A cleared WeakKey equals only itself, so expunge() finds it.
     */
    private static final class WeakKey extends WeakReference<Object> {
        private final int hash;

        WeakKey(Object item, ReferenceQueue<Object> queue) {
            super(item, queue);
            this.hash = System.identityHashCode(item);
        }

        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            Object item = get();
            if (item == null) {
                return false;
            }
            if (o instanceof Lookup) {
                return ((Lookup) o).item == item;
            }
            return o instanceof WeakKey && ((WeakKey) o).get() == item;
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private static final class Lookup {
        private final Object item;

        Lookup(Object item) {
            this.item = item;
        }

        @Override
        public boolean equals(Object o) {
            return o == this || (o instanceof WeakKey && ((WeakKey) o).get() == item);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(item);
        }
    }
}
