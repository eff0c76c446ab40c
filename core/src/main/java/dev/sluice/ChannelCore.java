package dev.sluice;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/*
 * The one object that owns a channel's mutable state: the ring buffer, the two FIFO waiter queues, the lifecycle
 * mode and the counters. Channel, its views, the Publisher/Subscriber adapters and the iterator are thin adapters
 * over it.
 *
 * Overview of implementation
 *
 * Buffer. Items live in a lock-free bounded MPMC RingBuffer (Vyukov sequences). When nobody waits, trySend/send and
 * tryReceive/receive are one CAS on the ring plus one full fence: no lock, no allocation.
 *
 * Waiters. Everything that must wait sits in one of two FIFO queues guarded by `lock` (a ReentrantLock: it parks,
 * never pins a virtual thread, and is held only for short non-blocking sections; user code never runs under it):
 *   sendQueue:    a blocked send (THREAD), a pending sendAsync (FUTURE), an upstream item that met a full buffer
 *                 (UPSTREAM_ITEM), an upstream subscriber waiting for free capacity before it requests more
 *                 (UPSTREAM_DEMAND: when its turn comes it is granted a reserved slot, counted in `reserved`
 *                 until the requested item arrives, so the upstream keeps its place in line although its item
 *                 does not exist yet);
 *   receiveQueue: a blocked receive or iterator (thread != null), a Publisher subscription with unmet demand
 *                 (sub != null).
 * Both kinds of waiter share one code path: they are admitted or served by pumpLocked(), which moves items
 * directly: it offers the head sender's item into the ring, or polls an item from the ring and hands it to the head
 * receiver (writes waiter.item, then waiter.state = DONE). The waiter is then "signalled" after the lock is released
 * (unpark, complete the future, run the subscription's drain loop, ask the upstream for more).
 *
 * FIFO. The fast paths run only while the matching queue is empty (sendWaiters == 0, receiveWaiters == 0), so a
 * trySend never overtakes a waiting sender and a tryReceive never overtakes a waiting receiver; the slow paths
 * decide under the lock.
 *
 * No lost wake-ups (Dekker). A producer claims a ring index (a volatile CAS on the producer index), publishes the
 * element, then reads receiveWaiters (volatile); a receiver announces itself (receiveWaiters = n, volatile) under the
 * lock, issues a full fence, then re-polls the ring through pumpLocked(), whose poll reads the producer index and,
 * when it finds an index claimed but not yet published, waits the few instructions until it is (RingBuffer.poll).
 * The CAS and the two accesses to receiveWaiters are all volatile, hence totally ordered: either the receiver's
 * re-poll comes after the CAS (it sees the claim and waits for the element) or its announcement comes before the
 * CAS, and then before the producer's read, which sees the waiter and pumps. Symmetrically for a consumer freeing a
 * slot (CAS on the consumer index) and a sender announcing itself (RingBuffer.offer waits for a slot a consumer has
 * claimed but not yet freed). So the fast paths need no fence of their own after the CAS: the one they once had
 * cost a third of the hand-off time when the two CPUs are far apart (S1b cap 256: 201 -> 74 ns/item, 2026-12-03).
 * A thread only takes the lock when someone waits.
 *
 * Ownership (contract 1). Only the thread that removes an item from the ring (or from `returned`) may deliver or
 * discard it. pumpLocked() removes an item only to hand it to a waiter in the same step. A consumer that removed an
 * item but can no longer deliver it (a subscription cancelled in between, an iterator closed) puts it back with
 * pushBack(): it goes to the head waiter, or to the `returned` deque that every poll reads before the ring. cancel()
 * stops consumers atomically (ring.cancelConsumers(): their polls then find nothing) and then removes and discards
 * what is left; any thread may help with that (discardAll), each item once. An item given back after the channel
 * ended (receivers already saw the end: an item taken out is not counted as "buffered" when deciding the end) goes
 * to the undelivered handler as RETURNED_AFTER_END, so it is never stranded in an ended channel.
 *
 * Lifecycle. `mode` is OPEN, CLOSED, FAILED or CANCELLED; it changes once from OPEN (CLOSED/FAILED may still change
 * to CANCELLED) and always under the lock, together with ring.close(), which freezes the number of accepted items.
 * "Drained" is ring.isEmpty() && returned is empty; the first pump that sees a closed-and-drained channel sets
 * `terminated`, wakes every waiting receiver with END and lets every subscription signal completion. A producer that
 * claimed a ring index before the close still publishes; its own afterPublish() sees mode != OPEN and pumps, so the
 * item is delivered (or discarded after cancel) and termination is detected then.
 *
 * Capacity. The ring holds at most `capacity` items. A pushed-back item can exceed it transiently, by at most one
 * per consumer cancelled in the middle of a delivery; senders are held back until the excess is drained.
 *
 * Counters. sent = ring producer count; received = ring consumer count - items removed then discarded - items
 * currently pushed back; size = ring size + pushed back. So the hot paths update no counter of their own.
 */
final class ChannelCore {

    static final System.Logger LOGGER = System.getLogger("dev.sluice.Channel");

    /* mode */
    /** Accepting items. */
    static final int OPEN = 0;
    /** Closed with close(): no new items; receivers drain, then complete. */
    static final int CLOSED = 1;
    /** Closed with fail(t): no new items; receivers drain, then see the failure. */
    static final int FAILED = 2;
    /** Cancelled: buffered items go to the undelivered handler, everybody ends now. */
    static final int CANCELLED = 3;

    /** Returned by blocking receives when the channel has ended. */
    static final Object END = new Object();
    /** Returned to an iterator whose wait was ended by close(). */
    static final Object DETACHED = new Object();

    private static final boolean MULTIPROCESSOR = Runtime.getRuntime().availableProcessors() > 1;
    /**
     * Before queueing, a platform thread on a multiprocessor retries the lock-free path while it spins
     * (Thread.onSpinWait, ~20 ns each here) and then yields: together about the cost of one park/unpark round trip
     * (~10 us for platform threads on Linux VMs), so a short wait never pays for a park, and a long one pays at most
     * twice. Virtual threads neither spin nor yield: their park is cheap and their carrier has other work.
     */
    static final int SPIN_TRIES = MULTIPROCESSOR ? 1 << 8 : 0;
    static final int YIELD_TRIES = MULTIPROCESSOR ? 1 << 4 : 0;
    /** After queueing, a waiter spins this long on its state before it parks. */
    static final int SPINS = MULTIPROCESSOR ? 1 << 7 : 0;
    /** Below this remaining time a timed wait spins instead of parking. */
    static final long SPIN_FOR_TIMEOUT_THRESHOLD = 1023L;

    final int capacity;
    final RingBuffer ring;
    private final UndeliveredHandler<Object> onUndelivered;

    private final ReentrantLock lock = new ReentrantLock();
    // all guarded by lock
    private final ArrayDeque<SendWaiter> sendQueue = new ArrayDeque<>();
    private final ArrayDeque<ReceiveWaiter> receiveQueue = new ArrayDeque<>();
    private final ArrayDeque<Object> returned = new ArrayDeque<>();
    private final Set<ChannelPublisher.Sub<?>> subscriptions = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<ChannelSubscriber<?>> upstreams = Collections.newSetFromMap(new IdentityHashMap<>());
    private Throwable failure;          // written under lock before mode is set to FAILED

    /** sendQueue.size(), written under lock, read lock-free by the fast paths. */
    volatile int sendWaiters;
    /** receiveQueue.size(), written under lock, read lock-free by the fast paths. */
    volatile int receiveWaiters;
    /** returned.size(), written under lock, read lock-free by the fast paths. */
    volatile int returnedCount;
    /** Slots granted to upstream subscribers whose item has not arrived yet; written under lock. */
    volatile int reserved;
    /** OPEN, CLOSED, FAILED or CANCELLED; written under lock. */
    volatile int mode;
    /** Set once, under lock, when receivers have been told the channel ended. */
    volatile boolean terminated;

    volatile long discardedFromBuffer;  // items removed from the buffer and then handed to onUndelivered
    volatile long rejected;             // upstream items never accepted, handed to onUndelivered
    volatile long callbackFailures;
    volatile long senderBlockedNanos;
    volatile int peakSize;
    volatile int openSenders;

    private final CompletableFuture<ChannelState> termination = new CompletableFuture<>();

    @SuppressWarnings("unchecked")
    ChannelCore(int capacity, UndeliveredHandler<?> onUndelivered) {
        this.capacity = checkCapacity(capacity);
        this.ring = new RingBuffer(capacity);
        this.onUndelivered = (UndeliveredHandler<Object>) onUndelivered;
    }

    static int checkCapacity(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 but was " + capacity);
        }
        return capacity;
    }

    /** A Duration as nanoseconds, saturating; zero or negative means "do not wait". */
    static long toNanos(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            return 0L;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- sending ---- */

    SendResult trySend(Object item) {
        if (sendFastPathOpen()) {
            int r = ring.offer(item);
            if (r == RingBuffer.OK) {
                afterPublish();
                return SendResult.OK;
            }
            if (r == RingBuffer.CLOSED) {
                return SendResult.CLOSED;
            }
            notePeak(capacity);
            return SendResult.FULL;
        }
        return trySendSlow(item);
    }

    private SendResult trySendSlow(Object item) {
        int r;
        lock.lock();
        try {
            if (mode != OPEN) {
                return SendResult.CLOSED;
            }
            if (!sendQueue.isEmpty() || !hasRoomLocked()) {
                notePeak(capacity);
                return SendResult.FULL;
            }
            r = ring.offer(item);
        } finally {
            lock.unlock();
        }
        if (r == RingBuffer.OK) {
            afterPublish();
            return SendResult.OK;
        }
        return r == RingBuffer.CLOSED ? SendResult.CLOSED : SendResult.FULL;
    }

    /** Blocks until accepted. */
    void send(Object item) throws InterruptedException {
        send(item, -1L);
    }

    /**
     * Sends, waiting at most nanos (negative: forever, zero: no wait).
     *
     * @return true if accepted, false on timeout
     */
    boolean send(Object item, long nanos) throws InterruptedException {
        Guards.check("Channel.send()");
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        int tries = 0;
        int limit = -1;
        long blockedSince = 0L; // set when the sender first meets a full buffer or waiting senders
        for (;;) {
            if (sendFastPathOpen()) {
                int r = ring.offer(item);
                if (r == RingBuffer.OK) {
                    afterPublish();
                    if (blockedSince != 0L) {
                        SENDER_BLOCKED_NANOS.getAndAdd(this, System.nanoTime() - blockedSince);
                    }
                    return true;
                }
                if (r == RingBuffer.CLOSED) {
                    throw closedForSend();
                }
            }
            if (nanos == 0) {
                break;
            }
            if (limit < 0) {
                limit = backoffLimitForCurrentThread();
                blockedSince = System.nanoTime();
                notePeak(ring.size() + returnedCount); // the occupancy that made this sender wait
            }
            if (!backoff(tries++, limit)) {
                break;
            }
        }
        SendWaiter w;
        List<Object> signals;
        lock.lock();
        try {
            if (mode != OPEN) {
                throw closedForSend();
            }
            if (sendQueue.isEmpty() && hasRoomLocked() && ring.offer(item) == RingBuffer.OK) {
                w = null;
                signals = null;
            } else {
                notePeak(capacity);
                if (nanos == 0) {
                    return false;
                }
                w = new SendWaiter(SendWaiter.THREAD, item, Thread.currentThread(), null, null);
                if (blockedSince != 0L) {
                    w.since = blockedSince; // the wait began with the spin before queueing
                }
                signals = enqueueSenderLocked(w);
            }
        } finally {
            lock.unlock();
        }
        if (w == null) {
            afterPublish();
            if (blockedSince != 0L) {
                SENDER_BLOCKED_NANOS.getAndAdd(this, System.nanoTime() - blockedSince);
            }
            return true;
        }
        signal(signals);
        return awaitSend(w, nanos);
    }

    private boolean awaitSend(SendWaiter w, long nanos) throws InterruptedException {
        int state = await(w, nanos);
        if (state == Waiter.DONE) {
            return true;
        }
        if (state == Waiter.CLOSED) {
            throw closedForSend();
        }
        if (state == INTERRUPTED) {
            throw new InterruptedException();
        }
        return false; // timed out, withdrawn
    }

    CompletableFuture<Void> sendAsync(Object item) {
        if (sendFastPathOpen()) {
            int r = ring.offer(item);
            if (r == RingBuffer.OK) {
                afterPublish();
                return CompletableFuture.completedFuture(null);
            }
            if (r == RingBuffer.CLOSED) {
                return CompletableFuture.failedFuture(closedForSend());
            }
        }
        SendFuture future;
        List<Object> signals;
        lock.lock();
        try {
            if (mode != OPEN) {
                return CompletableFuture.failedFuture(closedForSend());
            }
            if (sendQueue.isEmpty() && hasRoomLocked() && ring.offer(item) == RingBuffer.OK) {
                future = null;
                signals = null;
            } else {
                notePeak(capacity);
                future = new SendFuture(this);
                SendWaiter w = new SendWaiter(SendWaiter.FUTURE, item, null, future, null);
                future.waiter = w;
                signals = enqueueSenderLocked(w);
            }
        } finally {
            lock.unlock();
        }
        if (future == null) {
            afterPublish();
            return CompletableFuture.completedFuture(null);
        }
        signal(signals);
        return future;
    }

    /** Results of offerFromUpstream. */
    static final int UPSTREAM_ACCEPTED = 0;
    static final int UPSTREAM_QUEUED = 1;
    static final int UPSTREAM_CLOSED = 2;

    /** An item from an upstream Publisher: accept it, queue it behind waiting senders, or refuse it (closed). */
    int offerFromUpstream(Object item, ChannelSubscriber<?> upstream) {
        if (sendFastPathOpen()) { // (an upstream holding a reservation makes `reserved` non-zero: slow path)
            int r = ring.offer(item);
            if (r == RingBuffer.OK) {
                afterPublish();
                return UPSTREAM_ACCEPTED;
            }
            if (r == RingBuffer.CLOSED) {
                return UPSTREAM_CLOSED;
            }
        }
        List<Object> signals = null;
        boolean accepted;
        lock.lock();
        try {
            if (mode != OPEN) {
                return UPSTREAM_CLOSED;
            }
            if (upstream.reservations > 0) {
                // the item for a slot reserved in FIFO order: it goes in now, or first in line if a racing
                // lock-free sender took the slot before it saw the reservation
                upstream.reservations--;
                reserved--;
                accepted = ring.offer(item) == RingBuffer.OK;
                if (!accepted) {
                    upstream.pendingIncrement();
                    sendQueue.addFirst(new SendWaiter(SendWaiter.UPSTREAM_ITEM, item, null, null, upstream));
                    sendWaiters = sendQueue.size();
                    VarHandle.fullFence();
                    signals = pumpLocked(null);
                }
            } else if (sendQueue.isEmpty() && hasRoomLocked() && ring.offer(item) == RingBuffer.OK) {
                accepted = true;
            } else {
                accepted = false;
                notePeak(capacity);
                upstream.pendingIncrement();
                signals = enqueueSenderLocked(new SendWaiter(SendWaiter.UPSTREAM_ITEM, item, null, null, upstream));
            }
        } finally {
            lock.unlock();
        }
        if (accepted) {
            afterPublish();
            return UPSTREAM_ACCEPTED;
        }
        signal(signals);
        return UPSTREAM_QUEUED;
    }

    /** The upstream subscriber found no free capacity: queue a demand waiter that is signalled when a slot frees. */
    void awaitCapacity(ChannelSubscriber<?> upstream) {
        List<Object> signals = null;
        boolean open;
        lock.lock();
        try {
            open = mode == OPEN;
            if (open) {
                signals = enqueueSenderLocked(new SendWaiter(SendWaiter.UPSTREAM_DEMAND, null, null, null, upstream));
            }
        } finally {
            lock.unlock();
        }
        if (open) {
            signal(signals);
        } else {
            upstream.onChannelClosed();
        }
    }

    boolean registerUpstream(ChannelSubscriber<?> upstream) {
        lock.lock();
        try {
            if (mode != OPEN) {
                return false;
            }
            upstreams.add(upstream);
            return true;
        } finally {
            lock.unlock();
        }
    }

    void unregisterUpstream(ChannelSubscriber<?> upstream) {
        lock.lock();
        try {
            upstreams.remove(upstream);
        } finally {
            lock.unlock();
        }
    }

    // assert lock.isHeldByCurrentThread();
    private List<Object> enqueueSenderLocked(SendWaiter w) {
        sendQueue.addLast(w);
        sendWaiters = sendQueue.size();
        VarHandle.fullFence(); // announce, then re-check the ring (Dekker with afterRemove)
        return pumpLocked(null);
    }

    /**
     * Withdraws a waiter that gives up (timeout, interrupt, future cancel); false if it was served or ended first,
     * and then its outcome stands.
     */
    boolean withdraw(Waiter w) {
        lock.lock();
        try {
            return leaveQueueLocked(w, Waiter.WITHDRAWN);
        } finally {
            lock.unlock();
        }
    }

    /** Takes a still-waiting waiter out of its queue with a final state; false if it already left WAITING. */
    // assert lock.isHeldByCurrentThread();
    private boolean leaveQueueLocked(Waiter w, int finalState) {
        if (w.state != Waiter.WAITING) {
            return false;
        }
        if (w instanceof SendWaiter) {
            sendQueue.remove(w);
            sendWaiters = sendQueue.size();
        } else {
            receiveQueue.remove(w);
            receiveWaiters = receiveQueue.size();
        }
        w.state = finalState;
        return true;
    }

    // assert lock.isHeldByCurrentThread();
    private List<Object> enqueueReceiverLocked(ReceiveWaiter w) {
        receiveQueue.addLast(w);
        receiveWaiters = receiveQueue.size();
        VarHandle.fullFence(); // announce, then re-check the ring (Dekker with afterPublish)
        return pumpLocked(null);
    }

    /** True when a sender may use the lock-free path: nobody waits, nothing pushed back, no slot reserved. */
    private boolean sendFastPathOpen() {
        return (sendWaiters | returnedCount | reserved) == 0;
    }

    // assert lock.isHeldByCurrentThread();
    private boolean hasRoomLocked() {
        int held = returnedCount + reserved;
        return held == 0 || ring.size() + held < capacity;
    }

    /** After an item entered the ring: wake receivers if any wait (Dekker: the index CAS, then read; see Overview). */
    private void afterPublish() {
        if (receiveWaiters != 0 || mode != OPEN) {
            pump();
        } else if ((ring.producerCount() & 63) == 0) {
            notePeak(ring.size());
        }
    }

    ChannelClosedException closedForSend() {
        int m = mode;
        if (m == CANCELLED) {
            return new ChannelClosedException("channel was cancelled: it accepts no more items");
        }
        if (m == FAILED) {
            return new ChannelClosedException("channel failed: it accepts no more items", failure);
        }
        return new ChannelClosedException("channel is closed: it accepts no more items");
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- receiving ---- */

    Object tryReceive() {
        Object item;
        if ((receiveWaiters | returnedCount) == 0) {
            item = ring.poll();
        } else {
            lock.lock();
            try {
                item = receiveQueue.isEmpty() ? pollLocked() : null;
            } finally {
                lock.unlock();
            }
        }
        if (item != null) {
            afterRemove();
        }
        return item;
    }

    /** Blocking receive: the item, or throws ChannelClosedException at the end. */
    Object receive(String operation) throws InterruptedException {
        Object item = awaitItem(operation, -1L, null);
        if (item == END) {
            throw endException();
        }
        return item;
    }

    /** Timed receive: the item, null on timeout, or throws ChannelClosedException at the end. */
    Object receive(long nanos) throws InterruptedException {
        Object item = awaitItem("Channel.receive(Duration)", nanos, null);
        if (item == END) {
            throw endException();
        }
        return item;
    }

    /**
     * Waits for an item.
     *
     * @param nanos negative: forever; zero: no wait
     * @param iterator the iterator waiting, so that its close() can detach the wait, or null
     * @return the item; null on timeout; END at the end of the channel; DETACHED if the iterator was closed
     */
    Object awaitItem(String operation, long nanos, BlockingChannelIterator<?> iterator) throws InterruptedException {
        Guards.check(operation);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        int tries = 0;
        int limit = -1;
        for (;;) {
            if ((receiveWaiters | returnedCount) == 0) {
                Object item = ring.poll();
                if (item != null) {
                    afterRemove();
                    return item;
                }
            }
            if (nanos == 0 || mode != OPEN) {
                break;
            }
            if (limit < 0) {
                limit = backoffLimitForCurrentThread();
            }
            if (!backoff(tries++, limit)) {
                break;
            }
        }
        ReceiveWaiter w;
        Object item = null;
        List<Object> signals = null;
        lock.lock();
        try {
            if (receiveQueue.isEmpty()) {
                item = pollLocked();
            }
            if (item != null) {
                w = null;
            } else if (isEndForReceive()) {
                signals = terminateIfEndedLocked(null);
                w = null;
                item = END;
            } else if (nanos == 0) {
                return null;
            } else {
                w = new ReceiveWaiter(Thread.currentThread(), null);
                signals = enqueueReceiverLocked(w);
            }
        } finally {
            lock.unlock();
        }
        signal(signals);
        if (w == null) {
            if (item != END) {
                afterRemove();
            }
            return item;
        }
        if (iterator != null) {
            iterator.waiter = w;
            if (iterator.isClosed()) {
                detach(w);
            }
        }
        int state;
        try {
            state = await(w, nanos);
        } finally {
            if (iterator != null) {
                iterator.waiter = null;
            }
        }
        switch (state) {
            case Waiter.DONE:
                Object handed = w.item;
                w.item = null;
                return handed;
            case Waiter.CLOSED:
                return END;
            case Waiter.DETACHED:
                return DETACHED;
            case INTERRUPTED:
                throw new InterruptedException();
            default:
                return null; // timed out
        }
    }

    /** Ends the wait of an iterator's waiter from another thread (iterator close). */
    void detach(ReceiveWaiter w) {
        boolean detached;
        lock.lock();
        try {
            detached = leaveQueueLocked(w, Waiter.DETACHED);
        } finally {
            lock.unlock();
        }
        if (detached) {
            LockSupport.unpark(w.thread);
        }
    }

    int drainTo(Collection<Object> sink, int max) {
        int n = 0;
        while (n < max) {
            Object item = tryReceive();
            if (item == null) {
                break;
            }
            try {
                sink.add(item);
            } catch (RuntimeException | Error e) {
                pushBack(item); // the sink refused it: the item stays in the channel
                throw e;
            }
            n++;
        }
        return n;
    }

    /** After an item left the ring: admit waiting senders if any (Dekker: the index CAS, then read; see Overview). */
    private void afterRemove() {
        if (sendWaiters != 0 || (mode != OPEN && !terminated && ring.isEmpty())) {
            pump();
        }
    }

    // assert lock.isHeldByCurrentThread();
    private Object pollLocked() {
        if (mode == CANCELLED) {
            return null; // what is left belongs to the discarding thread
        }
        if (returnedCount != 0) {
            Object item = returned.pollFirst();
            returnedCount = returned.size();
            return item;
        }
        return ring.poll();
    }

    /** The exception a receiver sees at the end: no cause after close, the failure, or a CancellationException. */
    ChannelClosedException endException() {
        int m = mode;
        if (m == CANCELLED) {
            return new ChannelClosedException("channel was cancelled",
                    new CancellationException("channel was cancelled"));
        }
        if (m == FAILED) {
            return new ChannelClosedException("channel failed", failure);
        }
        return new ChannelClosedException("channel is closed and drained");
    }

    /** True when the end is a normal completion (close() and drained). */
    boolean endIsCompletion() {
        return mode == CLOSED;
    }

    Throwable failure() {
        return failure;
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- the Publisher view's subscriptions ---- */

    void register(ChannelPublisher.Sub<?> sub) {
        lock.lock();
        try {
            subscriptions.add(sub);
        } finally {
            lock.unlock();
        }
    }

    /** Forgets a cancelled or terminated subscription (rule 3.13) and withdraws its waiter; returns a handed item. */
    Object unregister(ChannelPublisher.Sub<?> sub) {
        lock.lock();
        try {
            subscriptions.remove(sub);
            ReceiveWaiter w = sub.waiter;
            if (w == null) {
                return null;
            }
            sub.waiter = null;
            if (leaveQueueLocked(w, Waiter.WITHDRAWN)) {
                return null;
            }
            Object item = w.item;
            w.item = null;
            return item;
        } finally {
            lock.unlock();
        }
    }

    /**
     * An item for a subscription with unmet demand: the item, END, or null after queueing the subscription as a
     * receive waiter (pumpLocked hands it an item later and runs its drain loop).
     */
    Object pollFor(ChannelPublisher.Sub<?> sub) {
        if ((receiveWaiters | returnedCount) == 0) {
            Object item = ring.poll();
            if (item != null) {
                afterRemove();
                return item;
            }
        }
        Object item = null;
        List<Object> signals = null;
        lock.lock();
        try {
            if (receiveQueue.isEmpty()) {
                item = pollLocked();
            }
            if (item == null) {
                if (isEndForReceive()) {
                    signals = terminateIfEndedLocked(null);
                    item = END;
                } else {
                    ReceiveWaiter w = new ReceiveWaiter(null, sub);
                    sub.waiter = w;
                    signals = enqueueReceiverLocked(w);
                }
            }
        } finally {
            lock.unlock();
        }
        if (item != null && item != END) {
            afterRemove();
            return item;
        }
        signal(signals);
        return item;
    }

    /**
     * Whether the receiving side has ended: cancelled, or closed/failed with nothing left in the ring or pushed back
     * (claimed-but-unpublished items count as left). Exact under the lock, where returnedCount mirrors `returned`.
     */
    boolean isEndForReceive() {
        int m = mode;
        if (m == OPEN) {
            return false;
        }
        if (m == CANCELLED) {
            return true;
        }
        return returnedCount == 0 && ring.isEmpty();
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- giving items back and discarding ---- */

    /**
     * A consumer removed an item but cannot deliver it: put it back at the head (to the oldest waiting receiver, or
     * ahead of the ring), or discard it if the channel was cancelled.
     */
    void pushBack(Object item) {
        List<Object> signals = null;
        UndeliveredReason reason = null;
        lock.lock();
        try {
            if (mode == CANCELLED) {
                reason = UndeliveredReason.CANCELLED;
            } else if (terminated) {
                // receivers were told the channel ended while this item was out: nobody is left to take it
                reason = UndeliveredReason.RETURNED_AFTER_END;
            } else {
                returned.addFirst(item);
                returnedCount = returned.size();
                signals = pumpLocked(null);
            }
        } finally {
            lock.unlock();
        }
        if (reason != null) {
            undeliver(item, reason, true);
        } else {
            signal(signals);
        }
    }

    /** Hands an item to the undelivered handler; fromBuffer: it had been accepted and removed (else: rejected). */
    void undeliver(Object item, UndeliveredReason reason, boolean fromBuffer) {
        if (fromBuffer) {
            DISCARDED.getAndAdd(this, 1L);
        } else {
            REJECTED.getAndAdd(this, 1L);
        }
        UndeliveredHandler<Object> handler = onUndelivered;
        if (handler != null) {
            try {
                handler.onUndelivered(item, reason);
            } catch (Throwable t) {
                callbackFailed("onUndelivered handler", t);
            }
        }
    }

    void callbackFailed(String what, Throwable t) {
        CALLBACK_FAILURES.getAndAdd(this, 1L);
        LOGGER.log(System.Logger.Level.WARNING, what + " threw; the channel goes on", t);
        if (t instanceof VirtualMachineError) {
            throw (VirtualMachineError) t;
        }
    }

    /** After cancel(): remove and discard everything still buffered. Any thread may do it; each item once. */
    private void discardAll() {
        for (;;) {
            Object item;
            if (returnedCount != 0) {
                lock.lock();
                try {
                    item = returned.pollFirst();
                    returnedCount = returned.size();
                } finally {
                    lock.unlock();
                }
            } else {
                item = ring.pollToDiscard();
            }
            if (item == null) {
                return;
            }
            undeliver(item, UndeliveredReason.CANCELLED, true);
        }
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- lifecycle ---- */

    void close() {
        terminate(CLOSED, null);
    }

    void fail(Throwable cause) {
        terminate(FAILED, cause);
    }

    private void terminate(int newMode, Throwable cause) {
        List<Object> signals = new ArrayList<>();
        lock.lock();
        try {
            if (mode != OPEN) {
                return;
            }
            failure = cause;
            mode = newMode;
            ring.close();
            reserved = 0;
            failSendersLocked(signals);
            signals.addAll(upstreams);
            upstreams.clear();
            pumpLocked(signals);
        } finally {
            lock.unlock();
        }
        signal(signals);
    }

    void cancel() {
        List<Object> signals = new ArrayList<>();
        lock.lock();
        try {
            if (mode == CANCELLED || terminated) {
                return;
            }
            mode = CANCELLED;
            ring.cancelConsumers(); // first: a sender that sees the ring closed can no longer receive a buffered item
            ring.close();
            reserved = 0;
            failSendersLocked(signals);
            signals.addAll(upstreams);
            upstreams.clear();
            terminateLocked(signals);
        } finally {
            lock.unlock();
        }
        discardAll(); // first, so that woken receivers and subscriptions find nothing left to take
        signal(signals);
    }

    // assert lock.isHeldByCurrentThread();
    private void failSendersLocked(List<Object> signals) {
        SendWaiter w;
        while ((w = sendQueue.pollFirst()) != null) {
            w.state = Waiter.CLOSED;
            signals.add(w);
        }
        sendWaiters = 0;
    }

    /** Terminates once, when the receiving side has ended; returns the (lazily created) signal list. */
    // assert lock.isHeldByCurrentThread();
    private List<Object> terminateIfEndedLocked(List<Object> signals) {
        if (!terminated && isEndForReceive()) {
            signals = add(signals, null);
            terminateLocked(signals);
        }
        return signals;
    }

    // assert lock.isHeldByCurrentThread();
    private void terminateLocked(List<Object> signals) {
        terminated = true;
        ReceiveWaiter w;
        while ((w = receiveQueue.pollFirst()) != null) {
            w.state = Waiter.CLOSED;
            signals.add(w);
        }
        receiveWaiters = 0;
        signals.addAll(subscriptions); // each runs its drain loop and signals the end
        signals.add(TERMINATION);
    }

    void openSender() {
        OPEN_SENDERS.getAndAdd(this, 1);
        if (mode != OPEN) {
            OPEN_SENDERS.getAndAdd(this, -1);
            throw closedForSend();
        }
    }

    void releaseSender() {
        if ((int) OPEN_SENDERS.getAndAdd(this, -1) == 1) {
            close();
        }
    }

    boolean isClosedForSend() {
        return mode != OPEN;
    }

    boolean isClosedForReceive() {
        return state().isTerminal();
    }

    ChannelState state() {
        int m = mode;
        if (m == OPEN) {
            return ChannelState.OPEN;
        }
        if (m == CANCELLED) {
            return ChannelState.CANCELLED;
        }
        if (terminated || isEndForReceive()) {
            return m == CLOSED ? ChannelState.COMPLETED : ChannelState.FAILED;
        }
        return ChannelState.DRAINING;
    }

    CompletionStage<ChannelState> termination() {
        return termination.minimalCompletionStage();
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- the pump: moves items between the waiter queues and the ring ---- */

    /** Takes the lock and pumps; called when someone waits or the channel is closing. */
    private void pump() {
        List<Object> signals;
        lock.lock();
        try {
            signals = pumpLocked(null);
        } finally {
            lock.unlock();
        }
        signal(signals);
        if (mode == CANCELLED) {
            discardAll(); // an item published after cancel() drained the ring: only its remover may discard it
        }
    }

    /**
     * Serves waiting receivers from the buffer and admits waiting senders into it, in FIFO order, until neither
     * can progress; detects the end of a closed channel. Returns the waiters to signal once the lock is released.
     */
    // assert lock.isHeldByCurrentThread();
    private List<Object> pumpLocked(List<Object> signals) { // signals: null until there is something to signal
        final ArrayDeque<ReceiveWaiter> receiveQueue = this.receiveQueue;
        final ArrayDeque<SendWaiter> sendQueue = this.sendQueue;
        boolean progress;
        do {
            progress = false;
            ReceiveWaiter rw;
            while ((rw = receiveQueue.peekFirst()) != null) {
                Object item = pollLocked();
                if (item == null) {
                    break;
                }
                receiveQueue.pollFirst();
                rw.item = item;
                rw.state = Waiter.DONE;
                signals = add(signals, rw);
                progress = true;
            }
            receiveWaiters = receiveQueue.size();
            SendWaiter sw;
            while ((sw = sendQueue.peekFirst()) != null) {
                if (!hasRoomLocked()) {
                    break;
                }
                if (sw.kind == SendWaiter.UPSTREAM_DEMAND) {
                    if (ring.size() + returnedCount + reserved >= capacity) {
                        break;
                    }
                    // the upstream keeps its place in line: the free slot is reserved until its item arrives
                    reserved++;
                    sw.upstream.reservations++;
                } else {
                    int r = ring.offer(sw.item);
                    if (r != RingBuffer.OK) {
                        if (r == RingBuffer.FULL) {
                            notePeak(capacity);
                        }
                        break;
                    }
                    progress = true;
                }
                sendQueue.pollFirst();
                SENDER_BLOCKED_NANOS.getAndAdd(this, System.nanoTime() - sw.since);
                sw.state = Waiter.DONE;
                signals = add(signals, sw);
            }
            sendWaiters = sendQueue.size();
        } while (progress);
        return terminateIfEndedLocked(signals);
    }

    /** Adds to a lazily created signal list (null adds nothing): the pump allocates only when it signals. */
    private static List<Object> add(List<Object> signals, Object signal) {
        if (signals == null) {
            signals = new ArrayList<>(4);
        }
        if (signal != null) {
            signals.add(signal);
        }
        return signals;
    }

    /** Completes what pumpLocked decided, outside the lock: user code may run here. */
    private void signal(List<Object> signals) {
        if (signals == null) {
            return;
        }
        for (int i = 0, n = signals.size(); i < n; i++) {
            Object s = signals.get(i);
            if (s instanceof ReceiveWaiter) {
                ReceiveWaiter w = (ReceiveWaiter) s;
                if (w.thread != null) {
                    LockSupport.unpark(w.thread);
                } else {
                    w.sub.drain();
                }
            } else if (s instanceof SendWaiter) {
                signalSender((SendWaiter) s);
            } else if (s instanceof ChannelPublisher.Sub) {
                ((ChannelPublisher.Sub<?>) s).drain();
            } else if (s instanceof ChannelSubscriber) {
                ((ChannelSubscriber<?>) s).onChannelClosed();
            } else if (s == TERMINATION) {
                termination.complete(state());
            }
        }
    }

    private void signalSender(SendWaiter w) {
        boolean accepted = w.state == Waiter.DONE;
        switch (w.kind) {
            case SendWaiter.THREAD:
                LockSupport.unpark(w.thread);
                break;
            case SendWaiter.FUTURE:
                if (accepted) {
                    w.future.accepted();
                } else {
                    w.future.refused(closedForSend());
                }
                break;
            case SendWaiter.UPSTREAM_ITEM:
                if (accepted) {
                    w.upstream.onQueuedItemAccepted();
                } else {
                    w.upstream.onQueuedItemRefused(w.item);
                }
                break;
            default: // UPSTREAM_DEMAND
                if (accepted) {
                    w.upstream.onCapacity();
                } else {
                    w.upstream.onChannelClosed();
                }
                break;
        }
    }

    private static final Object TERMINATION = new Object();

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- waiting ---- */

    /** await() result for an interrupted waiter that was withdrawn. */
    static final int INTERRUPTED = -1;
    /** await() result for a timed-out waiter that was withdrawn. */
    static final int TIMED_OUT = -2;

    /**
     * Spins briefly, then parks until the waiter leaves WAITING. An interrupt or the deadline withdraws it, unless
     * it was served first: then the interrupt status is restored and the served state returned.
     */
    private int await(Waiter w, long nanos) {
        final long deadline = nanos > 0 ? System.nanoTime() + nanos : 0L;
        int spins = spinsForCurrentThread();
        int state;
        while ((state = w.state) == Waiter.WAITING) {
            if (spins > 0) {
                spins--;
                Thread.onSpinWait();
                continue;
            }
            if (Thread.interrupted()) {
                if (withdraw(w)) {
                    return INTERRUPTED;
                }
                Thread.currentThread().interrupt();
                continue; // served meanwhile: state is no longer WAITING
            }
            if (nanos < 0) {
                LockSupport.park(this);
            } else {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0L) {
                    if (withdraw(w)) {
                        return TIMED_OUT;
                    }
                    continue;
                }
                if (remaining > SPIN_FOR_TIMEOUT_THRESHOLD) {
                    LockSupport.parkNanos(this, remaining);
                } else {
                    Thread.onSpinWait();
                }
            }
        }
        return state;
    }

    private static final MethodHandle IS_VIRTUAL = findIsVirtual();

    private static MethodHandle findIsVirtual() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null; // JDK 17: no virtual threads
        }
    }

    /** How many lock-free retries the current thread makes before it queues: 0 for virtual threads. */
    static int backoffLimitForCurrentThread() {
        return spinsForCurrentThread() == 0 ? 0 : SPIN_TRIES + YIELD_TRIES;
    }

    /** One step of the pre-queue backoff: spin first, then yield; false once the caller should queue. */
    static boolean backoff(int tries, int limit) {
        if (tries >= limit) {
            return false;
        }
        if (tries < SPIN_TRIES) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
        return true;
    }

    /** Virtual threads never spin (their carrier has better things to do); platform threads spin briefly. */
    static int spinsForCurrentThread() {
        if (SPINS == 0) {
            return 0;
        }
        if (IS_VIRTUAL != null) {
            try {
                if ((boolean) IS_VIRTUAL.invokeExact(Thread.currentThread())) {
                    return 0;
                }
            } catch (Throwable impossible) {
                return 0;
            }
        }
        return SPINS;
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- introspection ---- */

    private void notePeak(int size) {
        int peak = peakSize;
        if (size > peak) {
            PEAK_SIZE.compareAndSet(this, peak, size); // best effort: a racing larger value may win
        }
    }

    ChannelStats stats() {
        int subscribers;
        long demand = 0;
        lock.lock();
        try {
            subscribers = subscriptions.size();
            for (ChannelPublisher.Sub<?> s : subscriptions) {
                demand = Demand.addCap(demand, s.requested());
            }
        } finally {
            lock.unlock();
        }
        int returnedNow = returnedCount;
        long consumed = ring.consumerCount();
        long sent = ring.producerCount();
        int size = (int) Math.min(Integer.MAX_VALUE, Math.max(0, sent - consumed) + returnedNow);
        notePeak(size);
        return new ChannelStats(capacity, size, sendWaiters, receiveWaiters, subscribers, demand, sent,
                consumed - discardedFromBuffer - returnedNow, discardedFromBuffer + rejected,
                Math.max(peakSize, size), senderBlockedNanos, callbackFailures);
    }

    @Override
    public String toString() {
        return "capacity=" + capacity + ", state=" + state() + ", size=" + (ring.size() + returnedCount);
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- waiter nodes ---- */

    /** A queued party; `state` leaves WAITING exactly once, under the lock. */
    abstract static class Waiter {
        static final int WAITING = 0;
        /** Served: a sender's item was accepted, or a receiver was handed `item`. */
        static final int DONE = 1;
        /** The channel ended first (closed for senders, ended for receivers). */
        static final int CLOSED = 2;
        /** Left the queue by itself (timeout, interrupt, cancel). */
        static final int WITHDRAWN = 3;
        /** An iterator's wait ended by the iterator's close(). */
        static final int DETACHED = 4;

        volatile int state;
    }

    static final class SendWaiter extends Waiter {
        static final int THREAD = 0;
        static final int FUTURE = 1;
        static final int UPSTREAM_ITEM = 2;
        static final int UPSTREAM_DEMAND = 3;

        final int kind;
        final Object item;
        final Thread thread;
        final SendFuture future;
        final ChannelSubscriber<?> upstream;
        long since = System.nanoTime(); // written before the waiter is queued

        SendWaiter(int kind, Object item, Thread thread, SendFuture future, ChannelSubscriber<?> upstream) {
            this.kind = kind;
            this.item = item;
            this.thread = thread;
            this.future = future;
            this.upstream = upstream;
        }
    }

    static final class ReceiveWaiter extends Waiter {
        final Thread thread;              // a blocked receive or iterator, or null
        final ChannelPublisher.Sub<?> sub; // a subscription with demand, or null
        Object item;                      // written under the lock before state = DONE

        ReceiveWaiter(Thread thread, ChannelPublisher.Sub<?> sub) {
            this.thread = thread;
            this.sub = sub;
        }
    }

    /**
     * The future of a pending sendAsync: cancel or completeExceptionally before acceptance withdraws the item; only
     * the channel completes it normally.
     */
    static final class SendFuture extends CompletableFuture<Void> {
        private final ChannelCore core;
        SendWaiter waiter;

        SendFuture(ChannelCore core) {
            this.core = core;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (core.withdraw(waiter)) {
                return super.cancel(mayInterruptIfRunning);
            }
            return isCancelled();
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            if (core.withdraw(waiter)) {
                return super.completeExceptionally(ex);
            }
            return false;
        }

        @Override
        public boolean complete(Void value) {
            return false; // only the channel completes it, on acceptance
        }

        void accepted() {
            super.complete(null);
        }

        void refused(Throwable t) {
            super.completeExceptionally(t);
        }
    }

    /* ---------------------------------------------------------------------------------------------------------- */
    /* ---- blocking guards ---- */

    /** The BlockingGuard providers, loaded once. */
    static final class Guards {
        private static final BlockingGuard[] GUARDS = load();

        private Guards() {
        }

        private static BlockingGuard[] load() {
            List<BlockingGuard> found = new ArrayList<>();
            try {
                for (BlockingGuard g : ServiceLoader.load(BlockingGuard.class, ChannelCore.class.getClassLoader())) {
                    found.add(g);
                }
            } catch (ServiceConfigurationError e) {
                LOGGER.log(System.Logger.Level.WARNING, "ignoring a broken BlockingGuard provider", e);
            }
            return found.toArray(new BlockingGuard[0]);
        }

        static void check(String operation) {
            final BlockingGuard[] guards = GUARDS;
            if (guards.length == 0) {
                return;
            }
            Thread t = Thread.currentThread();
            for (BlockingGuard g : guards) {
                if (!g.mayBlock(t)) {
                    throw new IllegalStateException(g.explain(operation, t));
                }
            }
        }
    }

    /* ---- VarHandle mechanics ---- */

    private static final VarHandle DISCARDED;
    private static final VarHandle REJECTED;
    private static final VarHandle CALLBACK_FAILURES;
    private static final VarHandle SENDER_BLOCKED_NANOS;
    private static final VarHandle PEAK_SIZE;
    private static final VarHandle OPEN_SENDERS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            DISCARDED = l.findVarHandle(ChannelCore.class, "discardedFromBuffer", long.class);
            REJECTED = l.findVarHandle(ChannelCore.class, "rejected", long.class);
            CALLBACK_FAILURES = l.findVarHandle(ChannelCore.class, "callbackFailures", long.class);
            SENDER_BLOCKED_NANOS = l.findVarHandle(ChannelCore.class, "senderBlockedNanos", long.class);
            PEAK_SIZE = l.findVarHandle(ChannelCore.class, "peakSize", int.class);
            OPEN_SENDERS = l.findVarHandle(ChannelCore.class, "openSenders", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
