package dev.sluice.reactor.internal;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Tells BlockHound which short lock holds inside Sluice's non-blocking paths are not blocking calls.
 *
 * <p>Not API: public only because {@link java.util.ServiceLoader} requires it; the package is not exported. BlockHound
 * loads it by itself ({@code BlockHound.install()}) through {@code provides} or
 * {@code META-INF/services/reactor.blockhound.integration.BlockHoundIntegration}; BlockHound is an optional
 * dependency and nothing else refers to this class.
 *
 * <p>The channel core guards its state with a {@link java.util.concurrent.locks.ReentrantLock} held for a few
 * field writes; under contention {@code lock()} may park for the length of such a critical section, which BlockHound
 * would report from {@code trySend}, {@code sendAsync}, {@code tryReceive}, {@code request(n)} and the other
 * non-blocking calls that the Flux/Mono views make on Reactor's non-blocking threads. Those methods are allow-listed
 * here, by name. The waits of the blocking methods ({@code send}, {@code receive}, the blocking iterator) are not, so
 * BlockHound still reports them.
 */
public final class SluiceBlockHoundIntegration implements BlockHoundIntegration {

    /** The core class holding all channel state. */
    static final String CORE = "dev.sluice.ChannelCore";

    /** Creates the integration; called by {@link java.util.ServiceLoader}. */
    public SluiceBlockHoundIntegration() {
    }

    @Override
    public void applyTo(BlockHound.Builder builder) {
        for (String method : NON_BLOCKING_CORE_METHODS) {
            builder.allowBlockingCallsInside(CORE, method);
        }
    }

    /** Non-blocking methods of ChannelCore whose only waits are for its short critical section. */
    static final String[] NON_BLOCKING_CORE_METHODS = {
        "trySend", "sendAsync", "tryReceive", "drainTo", "request", "cancelSubscription", "pump", "close", "fail",
        "cancel", "stats",
    };
}
