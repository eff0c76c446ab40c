package dev.sluice.reactor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.reactivestreams.Publisher;
import org.reactivestreams.tck.PublisherVerification;
import org.reactivestreams.tck.TestEnvironment;
import org.testng.annotations.AfterMethod;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;

/**
 * The Reactive Streams TCK (1.0.4, TestNG, run through testng-engine) against {@link ReactorChannels#flux}.
 *
 * <p>{@code createPublisher(n)}: a channel holding n items then closed; beyond 512 items a producer thread feeds a
 * channel of 64 (as the TCK's SubmissionPublisher test does), so the unbounded-demand rules (3.17) are exercised
 * too. The producers end when {@link #cancelChannels()} cancels their channel after each test.
 */
public class FluxPublisherVerificationTest extends PublisherVerification<Integer> {

    private final List<Channel<Integer>> channels = new CopyOnWriteArrayList<>();

    /** A TCK environment with 300 ms timeouts and a 1 s publisher-reference GC timeout. */
    public FluxPublisherVerificationTest() {
        super(new TestEnvironment(300), 5_000); // rule 3.13 polls until collected: only a leak waits the 5 s
    }

    @Override
    public Publisher<Integer> createPublisher(long elements) {
        if (elements <= 512) {
            Channel<Integer> channel = Channel.bounded((int) Math.max(1, elements));
            for (int i = 0; i < elements; i++) {
                channel.trySend(i);
            }
            channel.close();
            return ReactorChannels.flux(channel.receiver());
        }
        Channel<Integer> channel = Channel.bounded(64);
        channels.add(channel);
        Thread producer = new Thread(() -> {
            try {
                for (long i = 0; i < elements; i++) {
                    channel.send((int) i);
                }
                channel.close();
            } catch (InterruptedException | ChannelClosedException stopped) {
                // cancelChannels() ended the test
            }
        }, "tck-producer");
        producer.setDaemon(true);
        producer.start();
        return ReactorChannels.flux(channel.receiver());
    }

    @Override
    public Publisher<Integer> createFailedPublisher() {
        Channel<Integer> channel = Channel.bounded(4);
        channel.fail(new RuntimeException("failed channel (TCK)"));
        return ReactorChannels.flux(channel.receiver());
    }

    /** Cancels the channels of this test, which ends their producer threads. */
    @AfterMethod
    public void cancelChannels() {
        channels.forEach(Channel::cancel);
        channels.clear();
    }
}
