package dev.sluice.reactor.internal;

import dev.sluice.BlockingGuard;
import reactor.core.scheduler.Schedulers;

/**
 * The {@link BlockingGuard} that refuses blocking channel calls on Reactor's non-blocking threads.
 *
 * <p>Not API: this class is public only because {@link java.util.ServiceLoader} requires it; the package is not
 * exported. Core finds it through {@code provides dev.sluice.BlockingGuard} (module path) or
 * {@code META-INF/services/dev.sluice.BlockingGuard} (class path). A thread is refused when
 * {@link Schedulers#isNonBlockingThread(Thread)} is true, that is a {@code Schedulers.parallel()} or
 * {@code Schedulers.single()} worker (any {@link reactor.core.scheduler.NonBlocking} thread) or one matched by a
 * predicate registered with {@link Schedulers#registerNonBlockingThreadPredicate}. Thread-safe and allocation-free.
 */
public final class ReactorBlockingGuard implements BlockingGuard {

    /** Creates the guard; called by {@link java.util.ServiceLoader}. */
    public ReactorBlockingGuard() {
    }

    @Override
    public boolean mayBlock(Thread thread) {
        return !Schedulers.isNonBlockingThread(thread);
    }

    @Override
    public String explain(String operation, Thread thread) {
        return operation + " would block thread " + thread.getName()
                + ", which Reactor marks as non-blocking (Schedulers.isInNonBlockingThread() is true). "
                + "Move the blocking call to a thread that may block, e.g. publishOn(Schedulers.boundedElastic()) "
                + "or subscribeOn(Schedulers.boundedElastic()), or use the non-blocking views "
                + "ReactorChannels.flux(receiver), ReactorChannels.receive(receiver) and "
                + "ReactorChannels.send(sender, item) instead.";
    }
}
