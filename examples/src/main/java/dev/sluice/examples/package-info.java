/**
 * Runnable examples of Sluice: each class has a {@code main} and a test that runs it.
 *
 * <ul>
 *   <li>{@link dev.sluice.examples.ReadmeCoreExample}: the README example, a blocking producer read as a Publisher
 *       and a Publisher read with a blocking iterator;</li>
 *   <li>{@link dev.sluice.examples.SyncToFlux}: a blocking producer as a {@code Flux} with real backpressure;</li>
 *   <li>{@link dev.sluice.examples.FluxThroughLegacyStage}: a legacy blocking stage inside a {@code Flux};</li>
 *   <li>{@link dev.sluice.examples.CompetingConsumers}: blocking workers and a {@code Flux} sharing one channel;</li>
 *   <li>{@link dev.sluice.examples.GracefulShutdown}: close, fail and cancel, with the undelivered handler;</li>
 *   <li>{@link dev.sluice.examples.sync.SluiceSync}: {@code sluice-sync}, a small rsync-like transfer pipeline.</li>
 * </ul>
 */
package dev.sluice.examples;
