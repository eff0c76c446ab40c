package dev.sluice;

import org.reactivestreams.Publisher;
import org.reactivestreams.tck.PublisherVerification;
import org.reactivestreams.tck.TestEnvironment;
import org.testng.annotations.AfterClass;
import org.testng.annotations.AfterMethod;

/**
 * Reactive Streams TCK 1.0.4 for {@link Channel#asPublisher()}: a channel holding n items, then closed.
 *
 * <p>The optional multicast tests (rule 1.11) report "skipped": subscribers of a channel compete for items, so two
 * subscribers never see the same sequence.
 */
public class ChannelPublisherVerification extends PublisherVerification<Integer> {

    private final ChannelVerificationSupport support = new ChannelVerificationSupport("publisher-tck");

    /** Creates the verification with the project's TCK timeouts. */
    public ChannelPublisherVerification() {
        super(new TestEnvironment(ChannelVerificationSupport.TIMEOUT_MILLIS),
                ChannelVerificationSupport.GC_TIMEOUT_MILLIS);
    }

    @Override
    public Publisher<Integer> createPublisher(long elements) {
        return support.channelWith(elements).asPublisher();
    }

    @Override
    public Publisher<Integer> createFailedPublisher() {
        return support.failedChannel().asPublisher();
    }

    /* A producer thread feeds the channel lazily, so the rule 3.17 overflow test (Integer.MAX_VALUE items) runs. */
    @Override
    public long maxElementsFromPublisher() {
        return Integer.MAX_VALUE;
    }

    /** Cancels the channels of the test that just ran, which stops their producers. */
    @AfterMethod(alwaysRun = true)
    public void cancelChannels() {
        support.cleanUp();
    }

    /** Stops the producer threads. */
    @AfterClass(alwaysRun = true)
    public void stopProducers() {
        support.shutdown();
    }
}
