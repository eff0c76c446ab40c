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
 * {@code sendAsync}, a subscription's {@code request(n)}, {@code cancel}, ...). Every acquisition of that lock goes
 * through one method, {@code ChannelCore.acquire()}, and only that method is allowed ({@link #LOCKING_CORE_METHODS}):
 * nothing else runs inside it, so user code (wake-ups of subscriptions, future callbacks, the undelivered handler)
 * and the real waits of the blocking methods ({@code send}, {@code receive}, the blocking iterator) are still
 * reported.
 *
 * <p>Also allowed: {@code dev.sluice.Guards.load()}, the one-time {@link java.util.ServiceLoader} scan for
 * {@code BlockingGuard} providers that runs in the class initializer of the guard check. It reads service files, and
 * it runs on whichever thread first makes a channel call that may wait, possibly a non-blocking one (whose call the
 * guard then refuses): reported, it would fail that class initialization, and so every later guarded call of the JVM
 * with {@code NoClassDefFoundError}.
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
        builder.allowBlockingCallsInside(GUARDS, "load");
    }

    /** The core class that loads the BlockingGuard providers once. */
    static final String GUARDS = "dev.sluice.Guards";

    /** The ChannelCore method through which every acquisition of its lock goes, and nothing else. */
    static final String[] LOCKING_CORE_METHODS = {"acquire"};
}
