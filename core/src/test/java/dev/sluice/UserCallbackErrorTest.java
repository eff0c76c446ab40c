package dev.sluice;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Errors from user code never break the channel (contract 7, issue 12): a throwing {@code onUndelivered} during
 * {@code cancel()} and a throwing {@code onNext} reached inside a producer's call, with a RuntimeException and with
 * a plain Error. The StackOverflowError variants, which fail today, are in {@link CoreV2RegressionTest}; the
 * scenarios are in {@link UserCallbackFaults}.
 */
class UserCallbackErrorTest {

    /* ---- onUndelivered throws during cancel() ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void cancel_onUndeliveredThrowsRuntimeException_everyItemHandedOverAndEveryWaiterWakes() throws Exception {
        UserCallbackFaults.cancel_withHandlerThrowingOnEveryItem(
                () -> new IllegalStateException("injected from onUndelivered"));
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void cancel_onUndeliveredThrowsError_everyItemHandedOverAndEveryWaiterWakes() throws Exception {
        UserCallbackFaults.cancel_withHandlerThrowingOnEveryItem(
                () -> new AssertionError("injected from onUndelivered"));
    }

    /* ---- onNext throws inside the producer's call ---- */

    @ParameterizedTest(name = "{0}")
    @EnumSource(UserCallbackFaults.Producer.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void onNext_throwsRuntimeExceptionInsideTheProducersCall_producerUnaffectedAndSubscriptionDropped(
            UserCallbackFaults.Producer producer) throws Exception {
        UserCallbackFaults.onNext_throwingInsideTheProducersCall(producer,
                () -> new IllegalStateException("injected from onNext"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(UserCallbackFaults.Producer.class)
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void onNext_throwsErrorInsideTheProducersCall_producerUnaffectedAndSubscriptionDropped(
            UserCallbackFaults.Producer producer) throws Exception {
        UserCallbackFaults.onNext_throwingInsideTheProducersCall(producer,
                () -> new AssertionError("injected from onNext"));
    }
}
