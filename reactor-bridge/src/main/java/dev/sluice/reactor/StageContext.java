package dev.sluice.reactor;

import io.micrometer.context.ContextSnapshotFactory;
import reactor.util.context.ContextView;

/*
 * Restores the subscriber's Reactor Context as ThreadLocals on a blocking stage's thread (throughBlocking,
 * fromBlocking), so that MDC entries, tracing spans and the like reach legacy code: through io.micrometer's
 * context-propagation, the library behind Reactor's own Hooks.enableAutomaticContextPropagation(). For every
 * ThreadLocalAccessor registered with ContextRegistry.getInstance() whose key the Context holds, the ThreadLocal is
 * set for as long as the stage runs (and while it completes the downstream), then restored to what the thread had.
 * Keys the Context does not hold are left alone (clearMissing false, as Reactor's own restoring operators do).
 *
 * context-propagation is an optional dependency (module-info: requires static). Only the nested class Restorer
 * refers to it, and it is loaded at the first stage with a non-empty Context: if that fails (the library is absent,
 * or not readable on the module path: a LinkageError), propagation is off for the JVM and stages run as before,
 * without those ThreadLocals. An empty Context costs nothing.
 */
final class StageContext {

    /** Ends a restored scope; never throws. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    private static final Scope NONE = () -> { };

    /** Set once context-propagation was found missing. */
    private static volatile boolean unavailable;

    private StageContext() {
    }

    /** Sets the ThreadLocals the Context holds values for; close the scope on the same thread. */
    static Scope restore(ContextView context) {
        if (unavailable || context.isEmpty()) {
            return NONE;
        }
        try {
            return Restorer.restore(context);
        } catch (LinkageError missing) {
            unavailable = true;
            return NONE;
        }
    }

    /** True if stages get the Context's ThreadLocals in this JVM (as far as known: until the first attempt, true). */
    static boolean available() {
        return !unavailable;
    }

    /* The only code that refers to context-propagation. */
    private static final class Restorer {
        private static final ContextSnapshotFactory FACTORY = ContextSnapshotFactory.builder().clearMissing(false)
                .build();

        static Scope restore(ContextView context) {
            io.micrometer.context.ContextSnapshot.Scope scope = FACTORY.setThreadLocalsFrom(context);
            return scope::close;
        }
    }
}
