/**
 * Sluice core: a bounded, demand-driven channel with blocking, future and Reactive Streams doors.
 *
 * <p>{@code jdk.jfr} is optional ({@code requires static}): with it, long sends and receives are recorded as JFR
 * events ({@code dev.sluice.SenderBlocked}, {@code dev.sluice.ReceiverStarved}); without it (a jlinked runtime that
 * lacks the module) the channels work the same and record nothing.
 */
module dev.sluice {
    requires transitive org.reactivestreams;
    requires static jdk.jfr;

    exports dev.sluice;
    exports dev.sluice.internal to dev.sluice.rsocket, dev.sluice.reactor;

    uses dev.sluice.BlockingGuard;
}
