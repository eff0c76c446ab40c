package dev.sluice;

import java.time.Duration;

/*
 * JFR events for long waits: a send that waited for a slot (SenderBlockedEvent) or a receive that waited for an item
 * (ReceiverStarvedEvent) at least a threshold long, naming the channel, so that a recording shows which channel held
 * its producers or consumers up. ChannelCounters calls in here at the end of such a wait, on a slow path that has
 * read the clock already.
 *
 * jdk.jfr is optional (module-info: requires static): a jlinked runtime may lack it, or a named application may not
 * resolve it. Only the event classes refer to it, and they are loaded here, lazily, at the first long wait: if that
 * fails (NoClassDefFoundError, IllegalAccessError: both LinkageErrors), the events are switched off for the JVM, once,
 * with a DEBUG line, and the channel goes on; nothing else thrown while recording an event escapes either (the end
 * of a queued sender's wait is recorded by the pump, under the channel's lock). With jdk.jfr present and no
 * recording running, an event costs an allocation that escape analysis usually removes and the check isEnabled().
 *
 * The threshold: Channel.Builder.jfrThreshold(Duration), defaulting to -Dsluice.jfr.thresholdMillis (default 20).
 */
final class WaitEvents {

    /** The system property that sets the default threshold, in milliseconds. */
    static final String THRESHOLD_PROPERTY = "sluice.jfr.thresholdMillis";

    /** The threshold when neither the property nor the builder sets one. */
    static final Duration DEFAULT_THRESHOLD = Duration.ofMillis(20);

    /** The default threshold of new channels, from THRESHOLD_PROPERTY. */
    static final long DEFAULT_THRESHOLD_NANOS = defaultThreshold();

    /** Set once the event classes could not be loaded: no more attempts. */
    private static volatile boolean unavailable;

    private WaitEvents() {
    }

    private static long defaultThreshold() {
        String value = System.getProperty(THRESHOLD_PROPERTY);
        if (value == null) {
            return DEFAULT_THRESHOLD.toNanos();
        }
        try {
            long millis = Long.parseLong(value.trim());
            if (millis >= 0) {
                return millis >= Long.MAX_VALUE / 1_000_000L ? Long.MAX_VALUE : millis * 1_000_000L;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        ChannelCore.LOGGER.log(System.Logger.Level.WARNING, "-D" + THRESHOLD_PROPERTY + " must be a number of "
                + "milliseconds >= 0 but was \"" + value + "\"; using " + DEFAULT_THRESHOLD.toMillis());
        return DEFAULT_THRESHOLD.toNanos();
    }

    /** A threshold as nanoseconds, saturating; the builder's argument check. */
    static long thresholdNanos(Duration threshold) {
        if (threshold.isNegative()) {
            throw new IllegalArgumentException("jfrThreshold must be >= 0 but was " + threshold);
        }
        try {
            return threshold.toNanos();
        } catch (ArithmeticException overflow) {
            return Long.MAX_VALUE;
        }
    }

    /** A sender waited {@code waited} ns; {@code thread}: a blocked thread (else a future or upstream, queued). */
    static void senderBlocked(ChannelCounters channel, long waited, boolean thread) {
        if (unavailable) {
            return;
        }
        try {
            SenderBlockedEvent.record(channel.label(), waited, thread);
        } catch (LinkageError e) {
            off(e);
        } catch (Throwable ignored) {
            // a diagnostic never breaks the wait that ended (the caller may be the pump, under the channel's lock)
        }
    }

    /** A blocking receiver waited {@code waited} ns for an item. */
    static void receiverStarved(ChannelCounters channel, long waited) {
        if (unavailable) {
            return;
        }
        try {
            ReceiverStarvedEvent.record(channel.label(), waited);
        } catch (LinkageError e) {
            off(e);
        } catch (Throwable ignored) {
            // as above
        }
    }

    private static void off(LinkageError e) {
        if (!unavailable) {
            unavailable = true;
            try {
                ChannelCore.LOGGER.log(System.Logger.Level.DEBUG, "JFR events of dev.sluice are off: jdk.jfr is not "
                        + "available to module dev.sluice (" + e + ")");
            } catch (Throwable ignored) {
                // logging must not break the wait that ended
            }
        }
    }

    /** True once the events were found unavailable (for tests). */
    static boolean unavailable() {
        return unavailable;
    }
}
