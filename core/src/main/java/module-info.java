/**
 * Sluice core: a bounded, demand-driven channel with blocking, future and Reactive Streams doors.
 */
module dev.sluice {
    requires transitive org.reactivestreams;

    exports dev.sluice;
    exports dev.sluice.internal to dev.sluice.rsocket, dev.sluice.reactor;

    uses dev.sluice.BlockingGuard;
}
