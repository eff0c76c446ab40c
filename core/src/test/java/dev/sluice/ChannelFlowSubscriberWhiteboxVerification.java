package dev.sluice;

import java.util.concurrent.Flow;

import org.reactivestreams.tck.SubscriberWhiteboxVerification.WhiteboxSubscriberProbe;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowSubscriberWhiteboxVerification;
import org.testng.annotations.AfterClass;
import org.testng.annotations.AfterMethod;

/**
 * Reactive Streams TCK 1.0.4 whitebox tests (Flow variant) for {@link Channel#asFlowSubscriber()}, with the same
 * puppet mapping as {@link ChannelSubscriberWhiteboxVerification}.
 */
public class ChannelFlowSubscriberWhiteboxVerification extends FlowSubscriberWhiteboxVerification<Integer> {

    private final ChannelVerificationSupport support = new ChannelVerificationSupport("flow-subscriber-whitebox-tck");

    /** Creates the verification with the project's TCK timeout. */
    public ChannelFlowSubscriberWhiteboxVerification() {
        super(new TestEnvironment(ChannelVerificationSupport.TIMEOUT_MILLIS));
    }

    @Override
    protected Flow.Subscriber<Integer> createFlowSubscriber(WhiteboxSubscriberProbe<Integer> probe) {
        Channel<Integer> channel = support.subscriberChannel();
        return new ChannelVerificationSupport.FlowProbeSubscriber(channel, channel.asFlowSubscriber(), probe);
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
