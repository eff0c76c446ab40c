package dev.sluice.reactor.internal;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Tells BlockHound which short lock holds inside Sluice's non-blocking paths are not blocking calls.
 *
 * <p>Not API: public only because {@link java.util.ServiceLoader} requires it; the package is not exported. BlockHound
 * loads it by itself ({@code BlockHound.install()}, or {@code BlockHound.builder().loadIntegrations()}) through
 * {@code META-INF/services/reactor.blockhound.integration.BlockHoundIntegration} on the class path. BlockHound is an
 * optional dependency and nothing else refers to this class. (module-info has no {@code provides} for it: that would
 * break module resolution for every module-path user without BlockHound.)
 *
 * <p>The channel core ({@code dev.sluice.ChannelCore}) keeps its waiter queues behind a
 * {@link java.util.concurrent.locks.ReentrantLock} held only for a few field writes, never while user code runs.
 * Under contention {@code lock()} may park for the length of such a section, which BlockHound would report from the
 * non-blocking calls that the Flux/Mono views make on Reactor's non-blocking threads ({@code trySend},
 * {@code sendAsync}, {@code pollFor} of {@code request(n)}, {@code cancel}, ...). So the core methods that take the
 * lock and never wait otherwise are allowed, by name ({@link #LOCKING_CORE_METHODS}). Allowances are dynamically
 * scoped, and those methods run user code after releasing the lock (waking subscriptions, completing futures,
 * calling the undelivered handler), so the two methods through which they do, {@code signal} and
 * {@code undeliver}, are disallowed again: a blocking call in an {@code onNext}, a future callback or a discard hook
 * is still reported. The blocking methods ({@code send}, {@code awaitItem} behind {@code receive} and the blocking
 * iterator) are not allowed: their waits are real blocking calls and BlockHound reports them.
 */
public final class SluiceBlockHoundIntegration implements BlockHoundIntegration {

    /** The core class holding all channel state. */
    static final String CORE = "dev.sluice.ChannelCore";

    /** Creates the integration; called by {@link java.util.ServiceLoader}. */
    public SluiceBlockHoundIntegration() {
    }

    @Override
    public void applyTo(BlockHound.Builder builder) {
        for (String method : LOCKING_CORE_METHODS) {
            builder.allowBlockingCallsInside(CORE, method);
        }
        for (String method : USER_CODE_CORE_METHODS) {
            builder.disallowBlockingCallsInside(CORE, method);
        }
    }

    /** ChannelCore methods that take its lock for a short section and never wait otherwise. */
    static final String[] LOCKING_CORE_METHODS = {
        "trySendSlow", "sendAsync", "offerFromUpstream", "awaitCapacity", "registerUpstream", "unregisterUpstream",
        "withdraw", "tryReceive", "detach", "register", "unregister", "pollFor", "pushBack", "discardAll",
        "terminate", "cancel", "pump", "stats",
    };

    /** ChannelCore methods that run user code (outside the lock); blocking there is reported again. */
    static final String[] USER_CODE_CORE_METHODS = {"signal", "undeliver"};
}
