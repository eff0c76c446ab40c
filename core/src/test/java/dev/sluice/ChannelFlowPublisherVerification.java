package dev.sluice;

import java.util.concurrent.Flow;

import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;
import org.testng.annotations.AfterClass;
import org.testng.annotations.AfterMethod;

/**
 * Reactive Streams TCK 1.0.4 (Flow variant) for {@link Channel#asFlowPublisher()}: a channel holding n items, then
 * closed.
 */
public class ChannelFlowPublisherVerification extends FlowPublisherVerification<Integer> {

    private final ChannelVerificationSupport support = new ChannelVerificationSupport("flow-publisher-tck");

    /** Creates the verification with the project's TCK timeouts. */
    public ChannelFlowPublisherVerification() {
        super(new TestEnvironment(ChannelVerificationSupport.TIMEOUT_MILLIS),
                ChannelVerificationSupport.GC_TIMEOUT_MILLIS);
    }

    @Override
    public Flow.Publisher<Integer> createFlowPublisher(long elements) {
        return support.channelWith(elements).asFlowPublisher();
    }

    @Override
    public Flow.Publisher<Integer> createFailedFlowPublisher() {
        return support.failedChannel().asFlowPublisher();
    }

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
