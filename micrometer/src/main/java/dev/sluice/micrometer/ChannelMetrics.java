package dev.sluice.micrometer;

import java.util.Locale;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

import dev.sluice.Channel;
import dev.sluice.ChannelStats;
import dev.sluice.UndeliveredReason;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Publishes a named channel's {@link Channel#stats()} as Micrometer meters, tagged {@code channel=<name>}.
 *
 * <table>
 * <caption>The meters</caption>
 * <tr><th>name</th><th>type</th><th>unit</th><th>from {@link ChannelStats}</th></tr>
 * <tr><td>{@code sluice.channel.capacity}</td><td>gauge</td><td>items</td><td>{@code capacity}</td></tr>
 * <tr><td>{@code sluice.channel.size}</td><td>gauge</td><td>items</td><td>{@code size}</td></tr>
 * <tr><td>{@code sluice.channel.senders.waiting}</td><td>gauge</td><td>senders</td><td>{@code waitingSenders}</td>
 * </tr>
 * <tr><td>{@code sluice.channel.receivers.waiting}</td><td>gauge</td><td>receivers</td>
 * <td>{@code waitingReceivers}</td></tr>
 * <tr><td>{@code sluice.channel.sent}</td><td>counter</td><td>items</td><td>{@code sent}</td></tr>
 * <tr><td>{@code sluice.channel.received}</td><td>counter</td><td>items</td><td>{@code received}</td></tr>
 * <tr><td>{@code sluice.channel.undelivered}, tag {@code reason} ({@code cancelled}, {@code rejected},
 * {@code returned_after_end}, ...: each {@link UndeliveredReason} in lower case)</td><td>counter</td><td>items</td>
 * <td>{@code undelivered(reason)}</td></tr>
 * <tr><td>{@code sluice.channel.callback.failures}</td><td>counter</td><td>failures</td>
 * <td>{@code callbackFailures}</td></tr>
 * <tr><td>{@code sluice.channel.send.blocked.time}</td><td>counter</td><td>seconds</td>
 * <td>{@code senderBlockedNanos}: summed over the senders (ten senders blocked for a second add ten)</td></tr>
 * <tr><td>{@code sluice.channel.send.blocked.wall.time}</td><td>counter</td><td>seconds</td>
 * <td>{@code senderBlockedWallNanos}: wall-clock time with at least one sender blocked</td></tr>
 * <tr><td>{@code sluice.channel.receive.starved.time}</td><td>counter</td><td>seconds</td>
 * <td>{@code receiverStarvedNanos}: summed over the blocking receivers</td></tr>
 * <tr><td>{@code sluice.channel.receive.starved.wall.time}</td><td>counter</td><td>seconds</td>
 * <td>{@code receiverStarvedWallNanos}: wall-clock time with at least one blocking receiver waiting</td></tr>
 * </table>
 *
 * <p>The rate of {@code send.blocked.wall.time} is the fraction of time the channel's backpressure held its
 * producers up; that of {@code receive.starved.wall.time} the fraction its consumers sat idle: a channel whose
 * producers are often blocked has a slow consumer side, and the other way round.
 *
 * <p>The meters read the channel when the registry publishes; the channel's fast paths do no extra work for them.
 * One publication calls {@code stats()} once: the meters share a snapshot that is at most a millisecond old. Like
 * Micrometer's own binders, the meters refer to the channel weakly: they do not keep it alive, and report
 * {@code NaN} (gauges) once it was collected. They stay registered until removed from the registry
 * ({@link MeterRegistry#remove(Meter)}); monitor long-lived channels, not one per request. Names should be unique
 * per registry: a second channel of the same name and tags shares the first one's meters (Micrometer returns the
 * existing meter), so it would not be seen.
 *
 * <p>Thread-safe; binding is done once per registry.
 *
 * <pre>{@code
 * Channel<Path> scan = Channel.<Path>builder().name("scan").capacity(256).build();
 * ChannelMetrics.monitor(registry, scan, "pipeline", "sync");
 * }</pre>
 */
public final class ChannelMetrics implements MeterBinder {

    /** Snapshots younger than this are shared by the meters of one publication. */
    static final long SNAPSHOT_NANOS = 1_000_000L;

    private final Channel<?> channel;
    private final String name;
    private final Iterable<Tag> tags;

    /**
     * A binder for {@code channel}, which must be named ({@link Channel.Builder#name(String)}).
     *
     * @param channel the channel to publish
     * @param tags more tags for every meter (besides {@code channel=<name>})
     * @throws NullPointerException if an argument is {@code null}
     * @throws IllegalArgumentException if the channel has no name
     */
    public ChannelMetrics(Channel<?> channel, Iterable<Tag> tags) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
        this.name = channel.name();
        if (name == null) {
            throw new IllegalArgumentException("channel must be named to be monitored (Channel.builder().name(...)) "
                    + "but was " + channel);
        }
    }

    /**
     * Binds the meters of {@code channel} to {@code registry}.
     *
     * @param registry the registry
     * @param channel a named channel
     * @param tags more tags as key/value pairs, for example {@code "pipeline", "sync"}
     * @param <C> the channel's type
     * @return {@code channel}
     * @throws NullPointerException if an argument is {@code null}
     * @throws IllegalArgumentException if the channel has no name, or {@code tags} has an odd length
     */
    public static <C extends Channel<?>> C monitor(MeterRegistry registry, C channel, String... tags) {
        Objects.requireNonNull(tags, "tags");
        if (tags.length % 2 != 0) {
            throw new IllegalArgumentException("tags must be key/value pairs but has " + tags.length + " elements");
        }
        return monitor(registry, channel, Tags.of(tags));
    }

    /**
     * Binds the meters of {@code channel} to {@code registry}.
     *
     * @param registry the registry
     * @param channel a named channel
     * @param tags more tags for every meter
     * @param <C> the channel's type
     * @return {@code channel}
     * @throws NullPointerException if an argument is {@code null}
     * @throws IllegalArgumentException if the channel has no name
     */
    public static <C extends Channel<?>> C monitor(MeterRegistry registry, C channel, Iterable<Tag> tags) {
        Objects.requireNonNull(registry, "registry");
        new ChannelMetrics(channel, tags).bindTo(registry);
        return channel;
    }

    /**
     * Registers this channel's meters with {@code registry}.
     *
     * @param registry the registry
     * @throws NullPointerException if {@code registry} is {@code null}
     */
    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        Tags all = Tags.of(tags).and("channel", name);
        Snapshot snapshot = new Snapshot();

        gauge(registry, "sluice.channel.capacity", "The maximum number of buffered items", "items", all,
                snapshot, s -> s.capacity());
        gauge(registry, "sluice.channel.size", "Items in the buffer now", "items", all, snapshot, s -> s.size());
        gauge(registry, "sluice.channel.senders.waiting", "Blocked sends, pending sendAsync futures and upstream "
                + "items or demand waiting for a slot", "senders", all, snapshot, s -> s.waitingSenders());
        gauge(registry, "sluice.channel.receivers.waiting", "Blocked receives and subscriptions with demand waiting "
                + "for an item", "receivers", all, snapshot, s -> s.waitingReceivers());

        counter(registry, "sluice.channel.sent", "Items accepted", "items", all, snapshot, s -> s.sent());
        counter(registry, "sluice.channel.received", "Items delivered to consumers", "items", all, snapshot,
                s -> s.received());
        for (UndeliveredReason reason : UndeliveredReason.values()) {
            counter(registry, "sluice.channel.undelivered", "Items passed to the undelivered handler", "items",
                    all.and("reason", reason.name().toLowerCase(Locale.ROOT)), snapshot, s -> s.undelivered(reason));
        }
        counter(registry, "sluice.channel.callback.failures", "Exceptions thrown by user callbacks, logged and "
                + "absorbed", "failures", all, snapshot, s -> s.callbackFailures());

        seconds(registry, "sluice.channel.send.blocked.time", "Time senders spent waiting for a slot, summed over "
                + "the senders", all, snapshot, s -> s.senderBlockedNanos());
        seconds(registry, "sluice.channel.send.blocked.wall.time", "Wall-clock time during which at least one sender "
                + "waited for a slot", all, snapshot, s -> s.senderBlockedWallNanos());
        seconds(registry, "sluice.channel.receive.starved.time", "Time blocking receivers spent waiting for an item, "
                + "summed over the receivers", all, snapshot, s -> s.receiverStarvedNanos());
        seconds(registry, "sluice.channel.receive.starved.wall.time", "Wall-clock time during which at least one "
                + "blocking receiver waited for an item", all, snapshot, s -> s.receiverStarvedWallNanos());
    }

    /** One number of a stats() snapshot. */
    @FunctionalInterface
    private interface Reading {
        double of(ChannelStats stats);
    }

    private void gauge(MeterRegistry registry, String meter, String description, String unit, Tags all,
            Snapshot snapshot, Reading reading) {
        Gauge.builder(meter, channel, read(snapshot, reading)).description(description).baseUnit(unit).tags(all)
                .register(registry);
    }

    private void counter(MeterRegistry registry, String meter, String description, String unit, Tags all,
            Snapshot snapshot, Reading reading) {
        FunctionCounter.builder(meter, channel, read(snapshot, reading)).description(description).baseUnit(unit)
                .tags(all).register(registry);
    }

    private void seconds(MeterRegistry registry, String meter, String description, Tags all, Snapshot snapshot,
            Reading nanos) {
        counter(registry, meter, description, "seconds", all, snapshot, s -> nanos.of(s) / 1e9);
    }

    /* The function a meter calls with the (weakly held) channel; it must not capture the channel itself. */
    private static ToDoubleFunction<Channel<?>> read(Snapshot snapshot, Reading reading) {
        return c -> reading.of(snapshot.of(c));
    }

    /*
     * The last stats() of the channel and when it was taken: the meters of one publication read it together. Holds
     * no reference to the channel (the meters' functions hold this strongly, the channel only weakly).
     */
    private static final class Snapshot {
        private volatile ChannelStats stats;
        private volatile long takenAt;

        ChannelStats of(Channel<?> channel) {
            ChannelStats s = stats;
            long now = System.nanoTime();
            if (s == null || now - takenAt > SNAPSHOT_NANOS) {
                s = channel.stats();
                takenAt = now;
                stats = s;
            }
            return s;
        }
    }
}
