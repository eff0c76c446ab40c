package dev.sluice;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/* The BlockingGuard providers, loaded once, and the check every blocking call makes before it may wait. */
final class Guards {
    private static final BlockingGuard[] GUARDS = load();

    private Guards() {
    }

    private static BlockingGuard[] load() {
        List<BlockingGuard> found = new ArrayList<>();
        try {
            for (BlockingGuard g : ServiceLoader.load(BlockingGuard.class, Guards.class.getClassLoader())) {
                found.add(g);
            }
        } catch (ServiceConfigurationError e) {
            ChannelCore.LOGGER.log(System.Logger.Level.WARNING, "ignoring a broken BlockingGuard provider", e);
        }
        return found.toArray(new BlockingGuard[0]);
    }

    /** Throws IllegalStateException if a guard forbids the current thread to block in {@code operation}. */
    static void check(String operation) {
        final BlockingGuard[] guards = GUARDS;
        if (guards.length == 0) {
            return;
        }
        Thread t = Thread.currentThread();
        for (BlockingGuard g : guards) {
            if (!g.mayBlock(t)) {
                throw new IllegalStateException(g.explain(operation, t));
            }
        }
    }
}
