package dev.sluice.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.sluice.Channel;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelState;
import reactor.core.Scannable;

/**
 * Bridge defects listed in issue 12 (Core v2), each pinned by a test that fails today for the stated reason:
 * <ul>
 *   <li>{@code ChannelFlux}'s {@code CANCELLED} attribute is false for {@code flux(channel.receiver())} on a
 *       cancelled channel (it checks {@code receiver instanceof Channel});</li>
 *   <li>a {@code StackOverflowError} thrown by a Flux subscriber's {@code onNext} (Reactor rethrows JVM-fatal errors
 *       into the channel) surfaces in the producer's {@code send}, and the subscription stays registered.</li>
 * </ul>
 */
class ReactorBridgeRegressionTest {

    /* ---- Scannable CANCELLED ---- */

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void flux_ofTheReceiverView_scanCancelled_isTrueOnceTheChannelIsCancelled() {
        Channel<Integer> channel = Channel.bounded(4);
        ChannelReceiver<Integer> receiver = channel.receiver();
        Scannable flux = Scannable.from(ReactorChannels.flux(receiver));
        assertTrue(flux.isScanAvailable());
        assertFalse(flux.scan(Scannable.Attr.CANCELLED), "an open channel is not cancelled");

        channel.cancel();

        assertEquals(ChannelState.CANCELLED, channel.state());
        assertTrue(receiver.isClosedForReceive());
        assertTrue(flux.scan(Scannable.Attr.CANCELLED), "flux(channel.receiver()) of a cancelled channel must"
                + " report CANCELLED, as flux(channel) does (" + Scannable.from(ReactorChannels.flux(channel))
                .scan(Scannable.Attr.CANCELLED) + ")");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void flux_ofTheReceiverView_scanCancelled_isFalseAfterCloseAndFail() {
        Channel<Integer> closed = Channel.bounded(4);
        closed.close();
        Channel<Integer> failed = Channel.bounded(4);
        failed.fail(new IllegalStateException("injected"));

        assertFalse(Scannable.from(ReactorChannels.flux(closed.receiver())).scan(Scannable.Attr.CANCELLED),
                "a completed channel is terminated, not cancelled");
        assertFalse(Scannable.from(ReactorChannels.flux(failed.receiver())).scan(Scannable.Attr.CANCELLED),
                "a failed channel is terminated, not cancelled");
        assertTrue(Scannable.from(ReactorChannels.flux(closed.receiver())).scan(Scannable.Attr.TERMINATED));
    }

    /* ---- StackOverflowError from onNext through the bridge ---- */

    @ParameterizedTest(name = "{0}")
    @EnumSource(FluxCallbackFaults.Consumer.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void flux_onNextThrowsStackOverflowErrorInsideTheProducersSend_producerUnaffectedAndSubscriptionDropped(
            FluxCallbackFaults.Consumer consumer) throws Exception {
        FluxCallbackFaults.onNext_throwingInsideTheProducersSend(consumer,
                () -> new StackOverflowError("injected from onNext"));
    }
}
