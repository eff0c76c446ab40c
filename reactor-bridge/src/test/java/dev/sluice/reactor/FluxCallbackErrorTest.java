package dev.sluice.reactor;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A throwing {@code onNext} reached through {@link ReactorChannels#flux} inside a producer's {@code send}: the
 * producer is unaffected, the broken subscription leaves, later items reach the other consumer. With a
 * RuntimeException and a plain Error; the StackOverflowError variant, which fails today, is in
 * {@link ReactorBridgeRegressionTest}. Scenario: {@link FluxCallbackFaults}.
 */
class FluxCallbackErrorTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(FluxCallbackFaults.Consumer.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void flux_onNextThrowsRuntimeExceptionInsideTheProducersSend_producerUnaffectedAndSubscriptionDropped(
            FluxCallbackFaults.Consumer consumer) throws Exception {
        FluxCallbackFaults.onNext_throwingInsideTheProducersSend(consumer,
                () -> new IllegalStateException("injected from onNext"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(FluxCallbackFaults.Consumer.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void flux_onNextThrowsErrorInsideTheProducersSend_producerUnaffectedAndSubscriptionDropped(
            FluxCallbackFaults.Consumer consumer) throws Exception {
        FluxCallbackFaults.onNext_throwingInsideTheProducersSend(consumer,
                () -> new AssertionError("injected from onNext"));
    }
}
