package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * A bounded multi-producer multi-consumer array queue (Vyukov's sequence-per-slot design, as in JCTools'
 * MpmcArrayQueue) with an exact capacity, a "closed" bit folded into the producer index and a "cancelled" bit folded
 * into the consumer index. It never waits: the waiting policy lives in ChannelCore and SpinPolicy.
 *
 * Overview of implementation
 *
 * Stamps. Slot s carries an int stamp that only grows (mod 2^32). For a producer at index p (slot p % capacity) the
 * slot is free when stamp == 2p; the producer claims p by CAS on the producer index, writes the element (plain), then
 * publishes it with stamp = 2p + 1 (release). A consumer at index c finds the element published when
 * stamp == 2c + 1, claims c by CAS on the consumer index, reads and clears the element, then frees the slot for the
 * producer one lap ahead with stamp = 2(c + capacity) (release). Doubling keeps "published for c" and "free for the
 * next lap" distinct even at capacity 1. Stamps are ints (16 per cache line, against 8 longs) compared by signed
 * difference, which is exact while a slot's stamp and the expected value are less than 2^31 apart: they are at most
 * 2 * capacity apart, hence MAX_CAPACITY.
 *
 * Strict and relaxed. offer() and poll() are strict: a producer that sees a slot still holding the previous lap's
 * element reports FULL only after reading the consumer index (a consumer may be between claiming and freeing that
 * slot); a consumer that sees an unpublished slot reports empty only after reading the producer index, and otherwise
 * waits the few instructions until the producer that claimed it publishes, so that a poll never misses an item whose
 * offer already returned (JCTools poll(), not relaxedPoll()). The relaxed probes (hasItemAt, hasRoomAt) read one stamp
 * and nothing else: a waiting side uses them to decide when to try again without pulling the other side's index line
 * into its cache on every look. They never decide FULL/EMPTY and never allow a park (invariant I4 of ChannelCore).
 *
 * Runs. drain(sink, k) claims up to k items with one CAS on the consumer index: as many as the producer count says
 * were claimed by producers, each of which publishes within a few instructions (the run version of poll()'s wait),
 * then takes them in order. fill(items, k) claims up to k slots with one CAS on the producer index: as many as the
 * consumer count says were claimed by consumers of the previous lap, each freed within a few instructions, and
 * publishes them in order. (JCTools' MpmcArrayQueue.drain/fill claim runs the same way, with a look-ahead stamp.)
 *
 * Closing. The producer index word is (count << 1) | CLOSED. close() sets the bit atomically, so after it no
 * producer can claim an index: the final count of accepted items is fixed, and "closed and drained" is exactly
 * consumerCount == producerCount. Items claimed before the close are still published and delivered. Likewise the
 * consumer index word is (count << 1) | CANCELLED: cancelConsumers() sets the bit, after which consumers' polls find
 * nothing (their CAS fails on the changed word) and only pollToDiscard() removes items, so every removal is
 * unambiguously before the cancel (deliver it) or after it (discard it).
 *
 * Memory. The two indices sit on cache lines of their own (class-hierarchy padding, as JCTools does). Both arrays
 * have PAD unused slots at each end, so the array header (read by every bounds check) and whatever the allocator put
 * next to the array share no line with a slot the other side writes. Capacity is exact (not rounded to a power of
 * two): slot = index % capacity, or index & mask when the capacity is a power of two.
 */
abstract class RingBufferPad0 {
    long p00, p01, p02, p03, p04, p05, p06, p07;
    long p10, p11, p12, p13, p14, p15, p16, p17;
}

abstract class RingBufferProducerIndex extends RingBufferPad0 {
    /** (accepted count << 1) | CLOSED bit. Written only by CAS / getAndBitwiseOr. */
    volatile long producerIndex;
}

abstract class RingBufferPad1 extends RingBufferProducerIndex {
    long p20, p21, p22, p23, p24, p25, p26, p27;
    long p30, p31, p32, p33, p34, p35, p36, p37;
}

abstract class RingBufferConsumerIndex extends RingBufferPad1 {
    /** (removed count << 1) | CANCELLED bit. Written only by CAS / getAndBitwiseOr. */
    volatile long consumerIndex;
}

abstract class RingBufferPad2 extends RingBufferConsumerIndex {
    long p40, p41, p42, p43, p44, p45, p46, p47;
    long p50, p51, p52, p53, p54, p55, p56, p57;
}

final class RingBuffer extends RingBufferPad2 {
    static final int OK = 0;
    static final int FULL = 1;
    static final int CLOSED = 2;

    /** The closed bit of the producer index word. */
    static final long CLOSED_BIT = 1L;
    /** The cancelled bit of the consumer index word. */
    static final long CANCELLED_BIT = 1L;

    /** The largest capacity whose stamps stay comparable by signed int difference (2 * capacity < 2^31). */
    static final int MAX_CAPACITY = 1 << 29;

    /** Unused slots at each end of both arrays: 64 bytes of int stamps, 64+ bytes of references. */
    static final int PAD = 16;

    final int capacity;
    private final int mask;            // capacity - 1 when a power of two, else -1
    private final Object[] elements;   // capacity + 2 * PAD
    private final int[] stamps;        // capacity + 2 * PAD

    RingBuffer(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be between 1 and " + MAX_CAPACITY + " but was "
                    + capacity);
        }
        this.capacity = capacity;
        this.mask = Integer.bitCount(capacity) == 1 ? capacity - 1 : -1;
        this.elements = new Object[capacity + 2 * PAD];
        this.stamps = new int[capacity + 2 * PAD];
        for (int i = 0; i < capacity; i++) {
            stamps[PAD + i] = 2 * i;
        }
        VarHandle.releaseFence(); // publish the initial stamps before the buffer is shared
    }

    private int slot(long index) {
        return PAD + (mask >= 0 ? (int) (index & mask) : (int) (index % capacity));
    }

    /**
     * Offers an element.
     *
     * @return OK, FULL, or CLOSED
     */
    int offer(Object e) {
        final int[] stamps = this.stamps;
        for (;;) {
            long word = producerIndexVolatile();
            if ((word & CLOSED_BIT) != 0) {
                return CLOSED;
            }
            long p = word >>> 1;
            int i = slot(p);
            int free = (int) (p << 1);
            int d = stampAcquire(stamps, i) - free;
            if (d == 0) {
                if (casProducerIndex(word, word + 2)) {
                    setElementPlain(i, e);
                    setStampRelease(stamps, i, free + 1);
                    return OK;
                }
            } else if (d < 0) {
                // The slot still holds the previous lap's element: full, unless a consumer is freeing it right now.
                if (p - capacity >= consumerCount()) {
                    return FULL;
                }
                // a consumer is between claiming and freeing this slot: a few instructions; retry (no
                // Thread.onSpinWait here: this runs on non-blocking threads, where BlockHound reports it)
            }
            // d > 0: another producer claimed p; retry with a fresh index
        }
    }

    /**
     * Offers up to {@code n} elements {@code items[from..from+n)} in order, as one run claimed with one CAS on the
     * producer index: as many as the consumer count says are free. A slot of the run whose previous-lap element a
     * consumer has claimed but not yet freed is waited for (a few instructions), as offer() does.
     *
     * @return how many were accepted (0 when full); -1 if closed
     */
    int fill(Object[] items, int from, int n) {
        final int[] stamps = this.stamps;
        for (;;) {
            long word = producerIndexVolatile();
            if ((word & CLOSED_BIT) != 0) {
                return -1;
            }
            long p = word >>> 1;
            int k = (int) Math.min(n, capacity - (p - consumerCount()));
            if (k <= 0) {
                return 0;
            }
            if (casProducerIndex(word, word + 2L * k)) {
                for (int j = 0; j < k; j++) {
                    long index = p + j;
                    int i = slot(index);
                    int free = (int) (index << 1);
                    while (stampAcquire(stamps, i) != free) {
                        // a consumer of the previous lap claimed this slot and is freeing it: a few instructions
                    }
                    setElementPlain(i, items[from + j]);
                    setStampRelease(stamps, i, free + 1);
                }
                return k;
            }
        }
    }

    /**
     * Removes the head element, for a consumer: nothing once {@link #cancelConsumers()} took effect.
     *
     * @return the element, or null if the buffer is empty or consumers were cancelled
     */
    Object poll() {
        return poll(false);
    }

    /**
     * Removes the head element even after {@link #cancelConsumers()}: for the thread that discards what is left.
     *
     * @return the element, or null if the buffer is empty
     */
    Object pollToDiscard() {
        return poll(true);
    }

    private Object poll(boolean discarding) {
        final int[] stamps = this.stamps;
        for (;;) {
            long word = consumerIndexVolatile();
            if ((word & CANCELLED_BIT) != 0 && !discarding) {
                return null;
            }
            long c = word >>> 1;
            int i = slot(c);
            int published = (int) (c << 1) + 1;
            int d = stampAcquire(stamps, i) - published;
            if (d == 0) {
                if (casConsumerIndex(word, word + 2)) {
                    return take(stamps, i, c);
                }
            } else if (d < 0) {
                if (c >= (producerIndexVolatile() >>> 1)) {
                    return null; // empty
                }
                // the producer of c claimed it and is publishing it (a few instructions): wait for it, so that poll
                // is linearizable (an item a trySend reported is never missed); no Thread.onSpinWait, see offer
            }
            // d > 0: another consumer took c; retry
        }
    }

    /**
     * Removes up to {@code max} elements in order into {@code sink[0..)}, as one run claimed with one CAS on the
     * consumer index: as many as the producer count says were accepted. A slot of the run that its producer claimed
     * but has not published yet is waited for (a few instructions), as poll() does. Nothing once consumers were
     * cancelled.
     *
     * @return how many were removed
     */
    int drain(Object[] sink, int max) {
        final int[] stamps = this.stamps;
        for (;;) {
            long word = consumerIndexVolatile();
            if ((word & CANCELLED_BIT) != 0) {
                return 0;
            }
            long c = word >>> 1;
            int k = (int) Math.min(max, (producerIndexVolatile() >>> 1) - c);
            if (k <= 0) {
                return 0;
            }
            if (casConsumerIndex(word, word + 2L * k)) {
                for (int j = 0; j < k; j++) {
                    long index = c + j;
                    int i = slot(index);
                    int published = (int) (index << 1) + 1;
                    while (stampAcquire(stamps, i) != published) {
                        // claimed by a producer that is publishing it: a few instructions
                    }
                    sink[j] = take(stamps, i, index);
                }
                return k;
            }
        }
    }

    private Object take(int[] stamps, int i, long c) {
        Object e = elementPlain(i);
        setElementPlain(i, null);
        setStampRelease(stamps, i, (int) ((c + capacity) << 1));
        return e;
    }

    /* ---- relaxed probes: one stamp read, never a decision (see Overview) ---- */

    /** True if the item of consumer index {@code c} looks published. */
    boolean hasItemAt(long c) {
        int i = slot(c);
        return stampAcquire(stamps, i) == (int) (c << 1) + 1;
    }

    /** True if the slot of producer index {@code p} looks free for its producer. */
    boolean hasRoomAt(long p) {
        int i = slot(p);
        return stampAcquire(stamps, i) == (int) (p << 1);
    }

    /* ---- lifecycle and counts ---- */

    /** Sets the closed bit; returns true if this call set it. */
    boolean close() {
        return (getAndBitwiseOrProducerIndex(CLOSED_BIT) & CLOSED_BIT) == 0;
    }

    boolean isClosed() {
        return (producerIndexVolatile() & CLOSED_BIT) != 0;
    }

    /** Items accepted so far (claimed indices, including ones still being published). */
    long producerCount() {
        return producerIndexVolatile() >>> 1;
    }

    /** Items removed so far (claimed indices, including ones still being taken). */
    long consumerCount() {
        return consumerIndexVolatile() >>> 1;
    }

    /**
     * Stops consumers: after this, poll() finds nothing and only pollToDiscard() removes items. A poll that removed
     * an item did so before this call (its CAS saw the bit clear), so it may still deliver it.
     */
    void cancelConsumers() {
        CONSUMER_INDEX.getAndBitwiseOr(this, CANCELLED_BIT);
    }

    /**
     * Items claimed and not yet removed: a consistent snapshot (the consumer count read twice around the producer
     * count), never negative, never above capacity.
     */
    int size() {
        for (;;) {
            long before = consumerCount();
            long p = producerIndexVolatile() >>> 1;
            long after = consumerCount();
            if (before == after) {
                return (int) Math.max(0, Math.min(capacity, p - after));
            }
        }
    }

    /** True when no element is claimed or published: every accepted item was removed. */
    boolean isEmpty() {
        return consumerCount() >= (producerIndexVolatile() >>> 1);
    }

    /* ---- VarHandle mechanics ---- */

    private long producerIndexVolatile() {
        return (long) PRODUCER_INDEX.getVolatile(this);
    }

    private boolean casProducerIndex(long expect, long update) {
        return PRODUCER_INDEX.compareAndSet(this, expect, update);
    }

    private long getAndBitwiseOrProducerIndex(long bits) {
        return (long) PRODUCER_INDEX.getAndBitwiseOr(this, bits);
    }

    private long consumerIndexVolatile() {
        return (long) CONSUMER_INDEX.getVolatile(this);
    }

    private boolean casConsumerIndex(long expect, long update) {
        return CONSUMER_INDEX.compareAndSet(this, expect, update);
    }

    private static int stampAcquire(int[] stamps, int i) {
        return (int) STAMPS.getAcquire(stamps, i);
    }

    private static void setStampRelease(int[] stamps, int i, int value) {
        STAMPS.setRelease(stamps, i, value);
    }

    private Object elementPlain(int i) {
        return elements[i];
    }

    private void setElementPlain(int i, Object e) {
        elements[i] = e;
    }

    private static final VarHandle PRODUCER_INDEX;
    private static final VarHandle CONSUMER_INDEX;
    private static final VarHandle STAMPS = MethodHandles.arrayElementVarHandle(int[].class);

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            PRODUCER_INDEX = lookup.findVarHandle(RingBufferProducerIndex.class, "producerIndex", long.class);
            CONSUMER_INDEX = lookup.findVarHandle(RingBufferConsumerIndex.class, "consumerIndex", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
