/**
 * Micrometer meters for named Sluice channels: {@link dev.sluice.micrometer.ChannelMetrics}.
 */
module dev.sluice.micrometer {
    requires transitive dev.sluice;
    requires transitive micrometer.core;

    exports dev.sluice.micrometer;
}
