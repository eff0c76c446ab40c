/**
 * Sluice for Project Reactor: {@code Flux}/{@code Mono} views of channels, the blocking-stage operator, a blocking
 * guard for Reactor's non-blocking threads and a BlockHound integration.
 *
 * <p>BlockHound is optional: the integration is only loaded by BlockHound's own {@code ServiceLoader} when BlockHound
 * is present.
 */
module dev.sluice.reactor {
    requires transitive dev.sluice;
    requires transitive reactor.core;
    requires static reactor.blockhound;

    exports dev.sluice.reactor;

    provides dev.sluice.BlockingGuard with dev.sluice.reactor.internal.ReactorBlockingGuard;
    provides reactor.blockhound.integration.BlockHoundIntegration
            with dev.sluice.reactor.internal.SluiceBlockHoundIntegration;
}
