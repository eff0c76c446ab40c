package dev.sluice;

import java.util.concurrent.Flow;

import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowSubscriberBlackboxVerification;
import org.testng.annotations.AfterClass;
import org.testng.annotations.AfterMethod;

/**
 * Reactive Streams TCK 1.0.4 blackbox tests (Flow variant) for {@link Channel#asFlowSubscriber()}.
 */
public class ChannelFlowSubscriberBlackboxVerification extends FlowSubscriberBlackboxVerification<Integer> {

    private final ChannelVerificationSupport support = new ChannelVerificationSupport("flow-subscriber-blackbox-tck");

    /** Creates the verification with the project's TCK timeout. */
    public ChannelFlowSubscriberBlackboxVerification() {
        super(new TestEnvironment(ChannelVerificationSupport.TIMEOUT_MILLIS));
    }

    @Override
    public Flow.Subscriber<Integer> createFlowSubscriber() {
        return support.subscriberChannel().asFlowSubscriber();
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
