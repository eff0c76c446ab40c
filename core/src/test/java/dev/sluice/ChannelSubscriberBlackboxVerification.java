package dev.sluice;

import org.reactivestreams.Subscriber;
import org.reactivestreams.tck.SubscriberBlackboxVerification;
import org.reactivestreams.tck.TestEnvironment;
import org.testng.annotations.AfterClass;
import org.testng.annotations.AfterMethod;

/**
 * Reactive Streams TCK 1.0.4 blackbox tests for {@link Channel#asSubscriber()}: the channel requests what its free
 * capacity allows as soon as it is subscribed, so no request has to be triggered.
 */
public class ChannelSubscriberBlackboxVerification extends SubscriberBlackboxVerification<Integer> {

    private final ChannelVerificationSupport support = new ChannelVerificationSupport("subscriber-blackbox-tck");

    /** Creates the verification with the project's TCK timeout. */
    public ChannelSubscriberBlackboxVerification() {
        super(new TestEnvironment(ChannelVerificationSupport.TIMEOUT_MILLIS));
    }

    @Override
    public Subscriber<Integer> createSubscriber() {
        return support.subscriberChannel().asSubscriber();
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
