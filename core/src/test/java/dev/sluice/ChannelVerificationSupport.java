package dev.sluice;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.reactivestreams.tck.SubscriberWhiteboxVerification.SubscriberPuppet;
import org.reactivestreams.tck.SubscriberWhiteboxVerification.WhiteboxSubscriberProbe;

/*
 * What the Reactive Streams TCK classes (*Verification) share: channels that hold exactly n items and then end, the
 * producer threads that feed the longer ones, and the probe wrappers of the whitebox Subscriber tests.
 *
 * Publisher side: createPublisher(n) must give a stream of exactly n items and then onComplete. Up to CAPACITY items
 * are sent before the publisher is returned; beyond that a producer thread sends them (blocking for slots, which is
 * how the channel paces a producer) and closes the channel. The TCK asks for up to Integer.MAX_VALUE items (rule 3.17
 * overflow test), which the producer sends lazily; after each test method every channel made for it is cancelled,
 * which ends its producer with ChannelClosedException.
 *
 * Subscriber side (whitebox): the Subscriber under test is the channel's own asSubscriber(); the probe wrapper only
 * reports signals. The channel requests from upstream exactly what its free capacity allows, so the puppet's
 * triggerRequest(n) is mapped to "a consumer may take n more items": it receives up to n items from the channel now
 * and the rest as they arrive, and every item taken frees a slot, which makes the channel request more. signalCancel()
 * is mapped to cancel() on the channel (the receiving side gives up), which must cancel the upstream subscription.
 */
final class ChannelVerificationSupport {

    /** Capacity of the channels behind the Publisher views: small, so most TCK streams need a producer thread. */
    static final int CAPACITY = 8;

    /** Capacity of the channels behind the Subscriber views: 1, so every demand signal follows a consumed item. */
    static final int SUBSCRIBER_CAPACITY = 1;

    /** TCK timeout for expected signals, in ms (notes/testing.md: 300 worked on the 2-core box). */
    static final long TIMEOUT_MILLIS = Long.getLong("sluice.tck.timeout", 300);

    /** How long the TCK waits for a cancelled subscriber to become unreachable (rule 3.13), in ms. */
    static final long GC_TIMEOUT_MILLIS = 5_000;

    private final List<Channel<Integer>> channels = new CopyOnWriteArrayList<>();
    private final ExecutorService producers;

    ChannelVerificationSupport(String name) {
        AtomicInteger count = new AtomicInteger();
        this.producers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name + "-producer-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** A channel that delivers the items 0..elements-1 and then completes. */
    Channel<Integer> channelWith(long elements) {
        Channel<Integer> channel = Channel.bounded(CAPACITY);
        channels.add(channel);
        if (elements <= CAPACITY) {
            for (int i = 0; i < elements; i++) {
                if (channel.trySend(i) != SendResult.OK) {
                    throw new IllegalStateException("trySend(" + i + ") refused below capacity: " + channel);
                }
            }
            channel.close();
        } else {
            producers.execute(() -> {
                try {
                    for (long i = 0; i < elements; i++) {
                        channel.send((int) i);
                    }
                    channel.close();
                } catch (ChannelClosedException cancelledAfterTest) {
                    // cleanUp() cancelled the channel: stop producing
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        return channel;
    }

    /** A channel that fails at once: subscribers get onSubscribe, then onError. */
    Channel<Integer> failedChannel() {
        Channel<Integer> channel = Channel.bounded(CAPACITY);
        channel.fail(new IllegalStateException("failed by the TCK test"));
        return channel;
    }

    /** A fresh channel for a Subscriber test. */
    Channel<Integer> subscriberChannel() {
        Channel<Integer> channel = Channel.bounded(SUBSCRIBER_CAPACITY);
        channels.add(channel);
        return channel;
    }

    /** Cancels every channel made for the test method that just ran, which stops their producers. */
    void cleanUp() {
        for (Channel<Integer> channel : channels) {
            channel.cancel();
        }
        channels.clear();
    }

    /** Stops the producer pool. */
    void shutdown() {
        cleanUp();
        producers.shutdownNow();
    }

    /*
     * The consumer the puppet drives: it may take `credit` more items from the channel. Taking an item frees a slot,
     * so the channel's subscriber requests more from upstream.
     */
    static final class PuppetConsumer implements SubscriberPuppet {
        private final Channel<Integer> channel;
        private long credit;

        PuppetConsumer(Channel<Integer> channel) {
            this.channel = channel;
        }

        @Override
        public synchronized void triggerRequest(long elements) {
            credit += elements;
            consume();
        }

        /** Takes as many buffered items as the credit allows; called after each onNext too. */
        synchronized void consume() {
            while (credit > 0 && channel.tryReceive() != null) {
                credit--;
            }
        }

        @Override
        public void signalCancel() {
            channel.cancel();
        }
    }

    /* Reports the signals reaching the channel's own Subscriber to the whitebox probe. */
    static final class ProbeSubscriber implements Subscriber<Integer> {
        private final Subscriber<Integer> channelSubscriber;
        private final WhiteboxSubscriberProbe<Integer> probe;
        private final PuppetConsumer puppet;
        private final AtomicBoolean subscribed = new AtomicBoolean();

        ProbeSubscriber(Channel<Integer> channel, Subscriber<Integer> channelSubscriber,
                WhiteboxSubscriberProbe<Integer> probe) {
            this.channelSubscriber = channelSubscriber;
            this.probe = probe;
            this.puppet = new PuppetConsumer(channel);
        }

        @Override
        public void onSubscribe(Subscription s) {
            channelSubscriber.onSubscribe(s); // must throw NPE for null (rule 2.13) before we report anything
            if (subscribed.compareAndSet(false, true)) {
                probe.registerOnSubscribe(puppet);
            }
        }

        @Override
        public void onNext(Integer item) {
            channelSubscriber.onNext(item);
            probe.registerOnNext(item);
            puppet.consume();
        }

        @Override
        public void onError(Throwable t) {
            channelSubscriber.onError(t);
            probe.registerOnError(t);
        }

        @Override
        public void onComplete() {
            channelSubscriber.onComplete();
            probe.registerOnComplete();
        }
    }

    /* The java.util.concurrent.Flow twin of ProbeSubscriber. */
    static final class FlowProbeSubscriber implements Flow.Subscriber<Integer> {
        private final Flow.Subscriber<Integer> channelSubscriber;
        private final WhiteboxSubscriberProbe<Integer> probe;
        private final PuppetConsumer puppet;
        private final AtomicBoolean subscribed = new AtomicBoolean();

        FlowProbeSubscriber(Channel<Integer> channel, Flow.Subscriber<Integer> channelSubscriber,
                WhiteboxSubscriberProbe<Integer> probe) {
            this.channelSubscriber = Objects.requireNonNull(channelSubscriber);
            this.probe = probe;
            this.puppet = new PuppetConsumer(channel);
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            channelSubscriber.onSubscribe(s);
            if (subscribed.compareAndSet(false, true)) {
                probe.registerOnSubscribe(puppet);
            }
        }

        @Override
        public void onNext(Integer item) {
            channelSubscriber.onNext(item);
            probe.registerOnNext(item);
            puppet.consume();
        }

        @Override
        public void onError(Throwable t) {
            channelSubscriber.onError(t);
            probe.registerOnError(t);
        }

        @Override
        public void onComplete() {
            channelSubscriber.onComplete();
            probe.registerOnComplete();
        }
    }
}
