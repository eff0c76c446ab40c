package dev.sluice;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * A bounded multi-producer multi-consumer array queue (Vyukov's sequence-per-slot design, as in JCTools'
 * MpmcArrayQueue) with an exact capacity and a "closed" bit folded into the producer index. It never waits: the
 * waiting policy lives in ChannelCore.
 *
 * Overview of implementation
 *
 * Slot i (of `capacity`) carries a sequence number that only grows. For a producer at index p (slot p % capacity)
 * the slot is free when seq == 2p; the producer claims p by CAS on the producer index, writes the element, then
 * publishes it with seq = 2p + 1 (release). A consumer at index c finds the element published when seq == 2c + 1,
 * claims c by CAS on the consumer index, reads and clears the element, then frees the slot for the producer one lap
 * ahead with seq = 2(c + capacity) (release). (Vyukov's original uses p and p + 1; doubling keeps "published for c"
 * and "free for the next lap" distinct even when the capacity is 1.) A producer that sees seq < 2p looks at a slot
 * still holding the element of the previous lap: the buffer is full unless a consumer is in the middle of freeing
 * it. A consumer that sees seq < 2c + 1 either finds the buffer empty (c equals the producer count) or a producer
 * that claimed c and has not published yet; then poll() waits the few instructions until it publishes, as JCTools'
 * poll() (not relaxedPoll()) does, so that a poll never misses an item whose offer already returned.
 *
 * The producer index word is (count << 1) | CLOSED. close() sets the bit atomically, so after it no producer can
 * claim an index: the final count of accepted items is fixed, and "closed and drained" is exactly
 * consumerCount == producerCount. Items claimed before the close are still published and delivered. Likewise the
 * consumer index word is (count << 1) | CANCELLED: cancelConsumers() sets the bit, after which consumers' polls find
 * nothing (their CAS fails on the changed word) and only pollToDiscard() removes items, so every removal is
 * unambiguously before the cancel (deliver it) or after it (discard it).
 *
 * Capacity is exact (not rounded to a power of two): slot = index % capacity, or index & mask when the capacity is
 * a power of two.
 *
 * Memory: the hot indices sit on separate cache lines (class-hierarchy padding, as JCTools does), the sequence array
 * is a long[] accessed through an array VarHandle, elements are written plain and published by the release store of
 * the sequence, and read after the acquire load of the sequence.
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

    final int capacity;
    private final int mask;            // capacity - 1 when a power of two, else -1
    private final Object[] elements;
    private final long[] sequences;

    RingBuffer(int capacity) {
        this.capacity = capacity;
        this.mask = Integer.bitCount(capacity) == 1 ? capacity - 1 : -1;
        this.elements = new Object[capacity];
        this.sequences = new long[capacity];
        for (int i = 0; i < capacity; i++) {
            sequences[i] = 2L * i;
        }
        VarHandle.releaseFence(); // publish the initial sequences before the buffer is shared
    }

    private int slot(long index) {
        return mask >= 0 ? (int) (index & mask) : (int) (index % capacity);
    }

    /**
     * Offers an element.
     *
     * @return OK, FULL, or CLOSED
     */
    int offer(Object e) {
        final long[] sequences = this.sequences;
        for (;;) {
            long word = producerIndexVolatile();
            if ((word & CLOSED_BIT) != 0) {
                return CLOSED;
            }
            long p = word >>> 1;
            int i = slot(p);
            long seq = seqAcquire(sequences, i);
            long free = p << 1;
            if (seq == free) {
                if (casProducerIndex(word, word + 2)) {
                    setElementPlain(i, e);
                    setSeqRelease(sequences, i, free + 1);
                    return OK;
                }
            } else if (seq < free) {
                // The slot still holds the previous lap's element: full, unless a consumer is freeing it right now.
                if (p - capacity >= consumerCount()) {
                    return FULL;
                }
                // a consumer is between claiming and freeing this slot: a few instructions; retry (no
                // Thread.onSpinWait here: this runs on non-blocking threads, where BlockHound reports it)
            }
            // seq > p: another producer claimed p; retry with a fresh index
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
        final long[] sequences = this.sequences;
        for (;;) {
            long word = consumerIndexVolatile();
            if ((word & CANCELLED_BIT) != 0 && !discarding) {
                return null;
            }
            long c = word >>> 1;
            int i = slot(c);
            long seq = seqAcquire(sequences, i);
            long published = (c << 1) + 1;
            if (seq == published) {
                if (casConsumerIndex(word, word + 2)) {
                    Object e = elementPlain(i);
                    setElementPlain(i, null);
                    setSeqRelease(sequences, i, (c + capacity) << 1);
                    return e;
                }
            } else if (seq < published) {
                if (c >= (producerIndexVolatile() >>> 1)) {
                    return null; // empty
                }
                // the producer of c claimed it and is publishing it (a few instructions): wait for it, so that poll
                // is linearizable (an item a trySend reported is never missed); no Thread.onSpinWait, see offer
            }
            // seq > published: another consumer took c; retry
        }
    }

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

    /** Items claimed and not yet removed; exact at quiescence, never negative, never above capacity. */
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

    private static long seqAcquire(long[] sequences, int i) {
        return (long) SEQUENCES.getAcquire(sequences, i);
    }

    private static void setSeqRelease(long[] sequences, int i, long value) {
        SEQUENCES.setRelease(sequences, i, value);
    }

    private Object elementPlain(int i) {
        return elements[i];
    }

    private void setElementPlain(int i, Object e) {
        elements[i] = e;
    }

    private static final VarHandle PRODUCER_INDEX;
    private static final VarHandle CONSUMER_INDEX;
    private static final VarHandle SEQUENCES = MethodHandles.arrayElementVarHandle(long[].class);

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
