package dev.sluice;

import org.reactivestreams.Subscriber;
import org.reactivestreams.tck.SubscriberWhiteboxVerification;
import org.reactivestreams.tck.TestEnvironment;
import org.testng.annotations.AfterClass;
import org.testng.annotations.AfterMethod;

/**
 * Reactive Streams TCK 1.0.4 whitebox tests for {@link Channel#asSubscriber()}.
 *
 * <p>The probe wraps the channel's own subscriber; the puppet's {@code triggerRequest(n)} lets a consumer take n items
 * from the channel (each taken item frees a slot, so the channel requests more) and {@code signalCancel()} cancels the
 * channel, which must cancel the upstream subscription. See {@link ChannelVerificationSupport}.
 */
public class ChannelSubscriberWhiteboxVerification extends SubscriberWhiteboxVerification<Integer> {

    private final ChannelVerificationSupport support = new ChannelVerificationSupport("subscriber-whitebox-tck");

    /** Creates the verification with the project's TCK timeout. */
    public ChannelSubscriberWhiteboxVerification() {
        super(new TestEnvironment(ChannelVerificationSupport.TIMEOUT_MILLIS));
    }

    @Override
    public Subscriber<Integer> createSubscriber(WhiteboxSubscriberProbe<Integer> probe) {
        Channel<Integer> channel = support.subscriberChannel();
        return new ChannelVerificationSupport.ProbeSubscriber(channel, channel.asSubscriber(), probe);
    }

    @Override
    public Integer createElement(int element) {
        return element;
    }

    /** Cancels the channels of the test that just ran. */
    @AfterMethod(alwaysRun = true)
    public void cancelChannels() {
        support.cleanUp();
    }

    /** Releases the support threads. */
    @AfterClass(alwaysRun = true)
    public void stopSupport() {
        support.shutdown();
    }
}
