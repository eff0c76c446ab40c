package dev.sluice;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.stream.Stream;

import org.reactivestreams.FlowAdapters;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;

/**
 * A bounded, demand-driven channel: one buffer with blocking, future and Reactive Streams doors on both sides.
 *
 * <p>Senders ({@link #send}, {@link #trySend}, {@link #sendAsync}, an upstream Publisher through
 * {@link #asSubscriber()}) put items into one bounded buffer; receivers ({@link #receive}, {@link #iterator()},
 * {@link #stream()}, subscribers of {@link #asPublisher()}) compete for them. Backpressure is the same everywhere: a
 * free slot in the buffer. Blocked or pending senders of any kind wait in one FIFO queue; so do receivers.
 *
 * <p><b>Guarantees.</b> Every accepted item is either delivered exactly once (returned by a receive, or passed to
 * one {@code onNext}) or passed exactly once to the {@linkplain Builder#onUndelivered undelivered handler}. Items
 * leave in the order they were accepted. The channel never holds more than {@link #capacity()} items. Close, fail
 * and cancel are distinct: close and fail let receivers drain what is buffered, cancel discards it.
 *
 * <p><b>Thread safety.</b> All methods are thread-safe. Accepting an item <em>happens-before</em> its delivery.
 * Blocking methods park with {@link java.util.concurrent.locks.LockSupport}, never {@code synchronized} or
 * {@code Object.wait}, so they suit virtual threads.
 *
 * <pre>{@code
 * Channel<String> channel = Channel.<String>builder()
 *         .capacity(256)
 *         .onUndelivered((item, reason) -> release(item))
 *         .build();
 *
 * Thread producer = new Thread(() -> {
 *     try (channel) {                       // close() when done: receivers drain, then see the end
 *         for (String line : lines) {
 *             channel.send(line);           // blocks while 256 items wait
 *         }
 *     } catch (InterruptedException e) {
 *         Thread.currentThread().interrupt();
 *     }
 * });
 * producer.start();
 * channel.asPublisher().subscribe(subscriber); // items leave only against request(n)
 * }</pre>
 *
 * @param <T> the item type
 */
public final class Channel<T> implements ChannelSender<T>, ChannelReceiver<T> {

    static {
        dev.sluice.internal.ChannelAccess.install(new dev.sluice.internal.ChannelAccess.Operations() {
            @Override
            public void pushBack(Channel<?> channel, Object item) {
                channel.core.pushBack(item);
            }

            @Override
            public void undeliver(Channel<?> channel, Object item, UndeliveredReason reason) {
                channel.core.undeliver(item, reason, true);
            }

            @Override
            public ChannelState state(ChannelReceiver<?> receiver) {
                if (receiver instanceof Channel) {
                    return ((Channel<?>) receiver).state();
                }
                if (receiver instanceof ReceiverView) {
                    return ((ReceiverView<?>) receiver).channel().state();
                }
                return null;
            }

            @Override
            public void endIteration(ChannelIterator<?> iterator) {
                if (iterator instanceof BlockingChannelIterator) {
                    ((BlockingChannelIterator<?>) iterator).finish();
                } else {
                    iterator.close();
                }
            }
        });
    }

    final ChannelCore core;
    private final SenderView<T> senderView;
    private final ReceiverView<T> receiverView;

    private Channel(Builder<T> b) {
        this.core = new ChannelCore(b.capacity, b.overflow.ordinal(), b.weigher, b.maxWeight, b.onUndelivered, b.name,
                b.jfrThresholdNanos);
        this.senderView = new SenderView<>(this);
        this.receiverView = new ReceiverView<>(this);
    }

    /**
     * Creates a channel holding at most {@code capacity} items, without an undelivered handler.
     *
     * @param capacity the buffer size, at least 1
     * @param <T> the item type
     * @return a new open channel
     * @throws IllegalArgumentException if {@code capacity < 1}
     */
    public static <T> Channel<T> bounded(int capacity) {
        return Channel.<T>builder().capacity(ChannelCore.checkCapacity(capacity)).build();
    }

    /**
     * Creates a rendezvous channel: no buffer, every send waits until a receiver (of any kind: a blocked
     * {@code receive}, an iterator, a subscription with demand) takes its item, as {@code SynchronousQueue} and
     * Kotlin's {@code RENDEZVOUS} channel do. {@code trySend} succeeds only when a receiver waits; {@code tryReceive}
     * only when a sender waits. The item of a send that completes is already the receiver's (a subscription that
     * cancels at that very instant leaves it in the channel's one hand-off slot for the next receiver).
     *
     * @param <T> the item type
     * @return a new open channel with capacity 0
     */
    public static <T> Channel<T> rendezvous() {
        return Channel.<T>builder().capacity(0).build();
    }

    /**
     * Creates an unbounded channel: a send never blocks and never answers {@code FULL}. The first
     * {@value ChannelCore#UNBOUNDED_RING} items live in a lock-free ring, the rest in a list that grows as needed and is
     * given back when it empties; {@code stats()} stays exact. Backpressure is gone, so use it only where the producer
     * is bounded by other means.
     *
     * @param <T> the item type
     * @return a new open channel whose capacity is {@link Integer#MAX_VALUE}
     */
    public static <T> Channel<T> unbounded() {
        return Channel.<T>builder().unbounded().build();
    }

    /**
     * Creates a conflated channel: it keeps only the latest item. A send never blocks; a newer item evicts the one
     * waiting, which goes to the undelivered handler with {@link UndeliveredReason#DROPPED}
     * ({@code capacity(1).overflow(Overflow.DROP_OLDEST)}).
     *
     * @param <T> the item type
     * @return a new open channel of capacity 1 that drops the oldest item
     */
    public static <T> Channel<T> conflated() {
        return Channel.<T>builder().capacity(1).overflow(Overflow.DROP_OLDEST).build();
    }

    /**
     * Returns a builder for a channel with an undelivered handler or other options.
     *
     * @param <T> the item type
     * @return a new builder with capacity 256
     */
    public static <T> Builder<T> builder() {
        return new Builder<>();
    }

    /**
     * The sending side only: a stateless view that shares this channel.
     *
     * @return the sender view
     */
    public ChannelSender<T> sender() {
        return senderView;
    }

    /**
     * The receiving side only: a stateless view that shares this channel.
     *
     * @return the receiver view
     */
    public ChannelReceiver<T> receiver() {
        return receiverView;
    }

    /**
     * The maximum number of buffered items.
     *
     * @return the capacity given at creation
     */
    public int capacity() {
        return core.capacity;
    }

    /**
     * The name given with {@link Builder#name(String)}: it appears in {@link #toString()}, in the messages of the
     * {@link ChannelClosedException}s this channel throws, in its JFR events and, through a metrics binder such as
     * {@code sluice-micrometer}'s, in the tags of its meters.
     *
     * @return the name, or {@code null} if the channel was built without one
     */
    public String name() {
        return core.counters.name;
    }

    /**
     * The current lifecycle state.
     *
     * @return the state at this moment
     */
    public ChannelState state() {
        return core.state();
    }

    /**
     * A stage completed with the terminal state ({@code COMPLETED}, {@code FAILED} or {@code CANCELLED}) once the
     * channel ends. The stage cannot be completed by callers.
     *
     * @return the termination stage
     */
    public CompletionStage<ChannelState> termination() {
        return core.termination();
    }

    /* ---- sending ---- */

    @Override
    public SendResult trySend(T item) {
        return core.trySend(Objects.requireNonNull(item, "item"));
    }

    @Override
    public void send(T item) throws InterruptedException {
        core.send(Objects.requireNonNull(item, "item"), -1L);
    }

    @Override
    public boolean send(T item, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(item, "item");
        Objects.requireNonNull(timeout, "timeout");
        return core.send(item, ChannelCore.toNanos(timeout));
    }

    @Override
    public CompletableFuture<Void> sendAsync(T item) {
        return core.sendAsync(Objects.requireNonNull(item, "item"));
    }

    @Override
    public int trySendAll(List<? extends T> items) {
        Objects.requireNonNull(items, "items");
        Object[] array = items.toArray();
        for (Object item : array) {
            Objects.requireNonNull(item, "items contains null");
        }
        return Math.max(0, core.trySendAll(array, array.length));
    }

    @Override
    public void sendAll(Iterable<? extends T> items) throws InterruptedException {
        Objects.requireNonNull(items, "items");
        Guards.check("ChannelSender.sendAll()");
        if (items instanceof Collection) {
            Object[] array = ((Collection<?>) items).toArray();
            for (Object item : array) {
                Objects.requireNonNull(item, "items contains null");
            }
            int sent = 0;
            while (sent < array.length) {
                int run = core.trySendAll(Arrays.copyOfRange(array, sent, Math.min(array.length,
                        sent + Math.max(16, core.capacity))), Math.min(array.length - sent,
                        Math.max(16, core.capacity)));
                if (run > 0) {
                    sent += run;
                } else {
                    core.send(array[sent++], -1L); // blocks for a slot (or throws when closed)
                }
            }
            return;
        }
        for (T item : items) {
            core.send(Objects.requireNonNull(item, "items contains null"), -1L);
        }
    }

    @Override
    public Subscriber<T> asSubscriber() {
        return new ChannelSubscriber<>(core);
    }

    @Override
    public Flow.Subscriber<T> asFlowSubscriber() {
        return FlowAdapters.toFlowSubscriber(new ChannelSubscriber<T>(core));
    }

    @Override
    public ChannelSender<T> openSender() {
        core.openSender();
        return new SenderView<>(this, true);
    }

    @Override
    public void close() {
        core.close();
    }

    @Override
    public void fail(Throwable cause) {
        core.fail(Objects.requireNonNull(cause, "cause"));
    }

    @Override
    public boolean isClosedForSend() {
        return core.isClosedForSend();
    }

    /* ---- receiving ---- */

    @Override
    @SuppressWarnings("unchecked")
    public T tryReceive() {
        return (T) core.tryReceive();
    }

    @Override
    @SuppressWarnings("unchecked")
    public T receive() throws InterruptedException {
        return (T) core.receive("Channel.receive()");
    }

    @Override
    @SuppressWarnings("unchecked")
    public T receive(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        return (T) core.receive(ChannelCore.toNanos(timeout));
    }

    @Override
    @SuppressWarnings("unchecked")
    public int drainTo(Collection<? super T> sink, int max) {
        Objects.requireNonNull(sink, "sink");
        // (draining into itself, BlockingQueue's IAE case, cannot happen: no channel type is a Collection)
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0 but was " + max);
        }
        return core.drainTo((Collection<Object>) sink, max);
    }

    @Override
    public ChannelIterator<T> iterator() {
        return new BlockingChannelIterator<>(core);
    }

    @Override
    public Stream<T> stream() {
        return BlockingChannelIterator.stream(iterator());
    }

    @Override
    public Publisher<T> asPublisher() {
        return new ChannelPublisher<>(core);
    }

    @Override
    public Flow.Publisher<T> asFlowPublisher() {
        return FlowAdapters.toFlowPublisher(new ChannelPublisher<T>(core));
    }

    @Override
    public void cancel() {
        core.cancel();
    }

    @Override
    public boolean isClosedForReceive() {
        return core.isClosedForReceive();
    }

    @Override
    public ChannelStats stats() {
        return core.stats();
    }

    /**
     * A short description for logs: the name (if any), capacity, state and size, for example
     * {@code Channel[name=scan, capacity=256, state=OPEN, size=3]}.
     *
     * @return the description
     */
    @Override
    public String toString() {
        String name = core.counters.name;
        return "Channel[" + (name == null ? "" : "name=" + name + ", ") + core + "]";
    }

    /**
     * Builds a {@link Channel}. Not thread-safe; a builder may build several channels.
     *
     * @param <T> the item type
     */
    public static final class Builder<T> {
        /** The longest name {@link #name(String)} accepts. */
        static final int MAX_NAME_LENGTH = 128;

        private int capacity = 256;
        private Overflow overflow = Overflow.BLOCK;
        private java.util.function.ToLongFunction<? super T> weigher;
        private long maxWeight;
        private UndeliveredHandler<? super T> onUndelivered;
        private String name;
        private long jfrThresholdNanos = WaitEvents.DEFAULT_THRESHOLD_NANOS;

        Builder() {
        }

        /**
         * Sets the buffer size. {@code 0} makes a rendezvous channel (see {@link Channel#rendezvous()}). A capacity
         * above {@value ChannelCore#MAX_RING} is allocated as it fills: the first {@value ChannelCore#MAX_RING} items
         * live in a lock-free ring, the rest in a list that grows as needed and is given back when it empties, so
         * {@code capacity(Integer.MAX_VALUE)} costs no more memory than the items it holds.
         *
         * @param capacity the maximum number of buffered items, at least 0
         * @return this builder
         * @throws IllegalArgumentException if {@code capacity < 0} (the builder is unchanged)
         */
        public Builder<T> capacity(int capacity) {
            if (capacity < 0) {
                throw new IllegalArgumentException("capacity must be >= 0 but was " + capacity);
            }
            this.capacity = capacity;
            return this;
        }

        /**
         * Makes the channel unbounded by count (see {@link Channel#unbounded()}); with a {@link #weigher weigher} it
         * is bounded by weight alone.
         *
         * @return this builder
         */
        public Builder<T> unbounded() {
            this.capacity = Integer.MAX_VALUE;
            return this;
        }

        /**
         * Sets what a send does when the channel is full: wait ({@link Overflow#BLOCK}, the default), or never wait
         * and drop an item ({@link Overflow#DROP_OLDEST}, {@link Overflow#DROP_NEWEST}).
         *
         * @param overflow the policy
         * @return this builder
         * @throws NullPointerException if {@code overflow} is {@code null}
         */
        public Builder<T> overflow(Overflow overflow) {
            this.overflow = Objects.requireNonNull(overflow, "overflow");
            return this;
        }

        /**
         * Bounds the channel by the sum of its items' weights (bytes, say), as well as by the count (or instead of
         * it, with {@link #unbounded()}); set the bound with {@link #maxWeight(long)}. The weigher is called once per
         * item, on the sender's thread, before the item is offered; it must be fast, must not block, and must return
         * a weight of at least 0 (an exception or a negative weight is thrown to the sender, and nothing is sent). An
         * item heavier than {@code maxWeight} is admitted only into a channel that holds no weight at all, so that it
         * can pass at all; it then holds up every other sender until it is received.
         *
         * @param weigher the weight of an item
         * @return this builder
         * @throws NullPointerException if {@code weigher} is {@code null}
         */
        public Builder<T> weigher(java.util.function.ToLongFunction<? super T> weigher) {
            this.weigher = Objects.requireNonNull(weigher, "weigher");
            return this;
        }

        /**
         * Sets the most total weight the channel holds (see {@link #weigher}).
         *
         * @param maxWeight the bound, at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code maxWeight < 1} (the builder is unchanged)
         */
        public Builder<T> maxWeight(long maxWeight) {
            if (maxWeight < 1) {
                throw new IllegalArgumentException("maxWeight must be >= 1 but was " + maxWeight);
            }
            this.maxWeight = maxWeight;
            return this;
        }

        /**
         * Sets the handler that receives, exactly once, each accepted item that will never be delivered.
         *
         * @param handler the handler
         * @return this builder
         * @throws NullPointerException if {@code handler} is {@code null}
         */
        public Builder<T> onUndelivered(UndeliveredHandler<? super T> handler) {
            this.onUndelivered = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Names the channel, so that logs, exception messages, JFR events and metrics can tell it from the others.
         * Names need not be unique, but a metrics binder publishes one set of meters per name.
         *
         * <p>A name is 1 to 128 characters, each an ASCII letter or digit or one of {@code . _ - : /} (so that it can
         * be a metric tag value or a JFR field anywhere without escaping), for example {@code "scan"},
         * {@code "sync.hash-queue"} or {@code "tenant-7/uploads"}.
         *
         * @param name the channel's name
         * @return this builder
         * @throws NullPointerException if {@code name} is {@code null}
         * @throws IllegalArgumentException if {@code name} is empty, longer than 128 characters or has another
         *         character (the builder is unchanged)
         */
        public Builder<T> name(String name) {
            this.name = checkName(name);
            return this;
        }

        /**
         * Sets how long a send or receive must wait before it is recorded as a JFR event
         * ({@code dev.sluice.SenderBlocked}: a send that waited for a free slot, {@code dev.sluice.ReceiverStarved}:
         * a blocking receive that waited for an item; each names the channel and carries the wait in its field
         * {@code waited}). The default is {@code -Dsluice.jfr.thresholdMillis}, or 20 ms without it. Zero records
         * every wait; a very long duration records none. The events are written only while a JFR recording that
         * enables them runs, and only if the runtime has the {@code jdk.jfr} module.
         *
         * @param threshold the shortest wait recorded, at least zero
         * @return this builder
         * @throws NullPointerException if {@code threshold} is {@code null}
         * @throws IllegalArgumentException if {@code threshold} is negative (the builder is unchanged)
         */
        public Builder<T> jfrThreshold(Duration threshold) {
            this.jfrThresholdNanos = WaitEvents.thresholdNanos(Objects.requireNonNull(threshold, "threshold"));
            return this;
        }

        static String checkName(String name) {
            Objects.requireNonNull(name, "name");
            boolean valid = !name.isEmpty() && name.length() <= MAX_NAME_LENGTH;
            for (int i = 0; valid && i < name.length(); i++) {
                char c = name.charAt(i);
                valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                        || c == '_' || c == '-' || c == ':' || c == '/';
            }
            if (!valid) {
                throw new IllegalArgumentException("name must be 1 to " + MAX_NAME_LENGTH + " characters, each an "
                        + "ASCII letter or digit or one of . _ - : / but was \"" + name + "\"");
            }
            return name;
        }

        /**
         * Creates a new open channel with this builder's settings.
         *
         * @return the channel
         * @throws IllegalArgumentException if the settings do not go together: a drop policy on a rendezvous or
         *         unbounded channel (neither is ever full with a buffer to drop from), a weigher without maxWeight or
         *         the other way round, or a weigher on a rendezvous channel
         */
        public Channel<T> build() {
            if (overflow != Overflow.BLOCK && capacity == 0) {
                throw new IllegalArgumentException("overflow " + overflow + " needs a buffer, but the capacity is 0 "
                        + "(rendezvous); use capacity(1).overflow(DROP_OLDEST) for a conflated channel");
            }
            if (overflow != Overflow.BLOCK && capacity == Integer.MAX_VALUE && weigher == null) {
                throw new IllegalArgumentException("overflow " + overflow + " has nothing to drop: an unbounded "
                        + "channel is never full");
            }
            if ((weigher == null) != (maxWeight == 0)) {
                throw new IllegalArgumentException(weigher == null
                        ? "maxWeight(" + maxWeight + ") needs a weigher" : "a weigher needs maxWeight(long)");
            }
            if (weigher != null && capacity == 0) {
                throw new IllegalArgumentException("a rendezvous channel (capacity 0) holds no weight: no weigher");
            }
            return new Channel<>(this);
        }
    }
}
