/**
 * Sluice for Project Reactor: {@code Flux}/{@code Mono} views of channels, the blocking-stage operator, a blocking
 * guard for Reactor's non-blocking threads and a BlockHound integration.
 *
 * <p>BlockHound is optional ({@code requires static}). Its integration is registered only through
 * {@code META-INF/services/reactor.blockhound.integration.BlockHoundIntegration}, which BlockHound reads on the class
 * path (where BlockHound tests run). It is deliberately not declared with {@code provides} here: a {@code provides}
 * of a service whose module is absent makes module resolution fail ("does not read a module that exports
 * reactor.blockhound.integration") for every module-path user without BlockHound, as ModulePathTest shows.
 *
 * <p>{@code io.micrometer:context-propagation} is optional too ({@code requires static context.propagation}): with
 * it, blocking stages get the subscriber's Reactor {@code Context} as ThreadLocals; without it they run without them.
 */
module dev.sluice.reactor {
    requires transitive dev.sluice;
    requires transitive reactor.core;
    requires static reactor.blockhound;
    requires static context.propagation;

    exports dev.sluice.reactor;

    provides dev.sluice.BlockingGuard with dev.sluice.reactor.internal.ReactorBlockingGuard;
}
