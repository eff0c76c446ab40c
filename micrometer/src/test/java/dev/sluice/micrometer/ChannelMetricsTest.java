package dev.sluice.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import dev.sluice.Channel;
import dev.sluice.UndeliveredReason;
import dev.sluice.ChannelStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The meters of {@link ChannelMetrics}, read from a {@link SimpleMeterRegistry}. */
@Timeout(60)
class ChannelMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private double gauge(String name, String channel) {
        Gauge gauge = registry.get(name).tag("channel", channel).gauge();
        return gauge.value();
    }

    private double counter(String name, String channel, String... tags) {
        FunctionCounter counter = registry.get(name).tag("channel", channel).tags(tags).functionCounter();
        return counter.count();
    }

    /** Lets {@code d} pass: the test measures waits, so here time itself is what it waits for. */
    private static void letPass(Duration d) throws InterruptedException {
        assertTrue(!new CountDownLatch(1).await(d.toNanos(), TimeUnit.NANOSECONDS));
    }

    @Test
    void meters_followTheChannelsStats() throws Exception {
        Channel<String> channel = ChannelMetrics.monitor(registry,
                Channel.<String>builder().name("scan").capacity(8).onUndelivered((item, reason) -> { }).build(),
                "pipeline", "sync");
        for (int i = 0; i < 5; i++) {
            channel.trySend("x" + i);
        }
        channel.receive();
        channel.receive();
        ChannelMetricsTest.letPass(Duration.ofMillis(2)); // an older snapshot would be taken again

        assertEquals(8, gauge("sluice.channel.capacity", "scan"));
        assertEquals(3, gauge("sluice.channel.size", "scan"));
        assertEquals(5, counter("sluice.channel.sent", "scan"));
        assertEquals(2, counter("sluice.channel.received", "scan"));
        assertEquals(0, counter("sluice.channel.undelivered", "scan", "reason", "cancelled"));
        assertEquals("sync", registry.get("sluice.channel.size").tag("channel", "scan").gauge().getId()
                .getTag("pipeline"), "the extra tags");

        channel.close();
        Subscriber<String> late = channel.asSubscriber(); // an upstream that sends unasked into a closed channel
        late.onSubscribe(new Subscription() {
            @Override
            public void request(long n) {
            }

            @Override
            public void cancel() {
            }
        });
        late.onNext("rejected");
        channel.cancel();
        ChannelMetricsTest.letPass(Duration.ofMillis(2));

        assertEquals(0, gauge("sluice.channel.size", "scan"));
        assertEquals(3, counter("sluice.channel.undelivered", "scan", "reason", "cancelled"));
        assertEquals(1, counter("sluice.channel.undelivered", "scan", "reason", "rejected"));
        assertEquals(0, counter("sluice.channel.undelivered", "scan", "reason", "returned_after_end"));
        ChannelStats stats = channel.stats();
        assertEquals(stats.sent(), counter("sluice.channel.sent", "scan"));
        assertEquals(stats.undelivered(), counter("sluice.channel.undelivered", "scan", "reason", "cancelled")
                + counter("sluice.channel.undelivered", "scan", "reason", "rejected")
                + counter("sluice.channel.undelivered", "scan", "reason", "returned_after_end"));
    }

    @Test
    void blockedAndStarvedTimes_areSecondsSummedAndWall() throws Exception {
        Channel<String> channel = ChannelMetrics.monitor(registry,
                Channel.<String>builder().name("hash").capacity(1).build());
        channel.trySend("full");
        long before = System.nanoTime();
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            pending.add(channel.sendAsync("p" + i));
        }
        assertEquals(4, gauge("sluice.channel.senders.waiting", "hash"));
        long allWaiting = System.nanoTime();
        letPass(Duration.ofMillis(100));
        long releasing = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            channel.receive();
        }
        for (CompletableFuture<Void> f : pending) {
            f.get(10, TimeUnit.SECONDS);
        }
        long after = System.nanoTime();
        letPass(Duration.ofMillis(2));

        double summed = counter("sluice.channel.send.blocked.time", "hash");
        double wall = counter("sluice.channel.send.blocked.wall.time", "hash");
        String report = "summed " + summed + " s, wall " + wall + " s";
        assertTrue(summed >= 4 * (releasing - allWaiting) / 1e9 && summed <= 4 * (after - before) / 1e9, report);
        assertTrue(wall >= (releasing - allWaiting) / 1e9 && wall <= (after - before) / 1e9, report);
        assertEquals("seconds", registry.get("sluice.channel.send.blocked.time").functionCounter().getId()
                .getBaseUnit());

        CompletableFuture<String> starved = CompletableFuture.supplyAsync(() -> {
            try {
                return channel.receive();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (channel.stats().waitingReceivers() == 0) {
            Thread.onSpinWait();
        }
        letPass(Duration.ofMillis(50));
        channel.send("fed");
        assertEquals("fed", starved.get(10, TimeUnit.SECONDS));
        letPass(Duration.ofMillis(2));

        assertTrue(counter("sluice.channel.receive.starved.time", "hash") >= 0.05);
        assertTrue(counter("sluice.channel.receive.starved.wall.time", "hash") >= 0.05);
        assertEquals(0, gauge("sluice.channel.receivers.waiting", "hash"));
    }

    @Test
    void everyMeter_isTaggedWithTheChannelAndDescribed() {
        ChannelMetrics.monitor(registry, Channel.builder().name("write").build());

        Set<String> names = new TreeSet<>();
        for (Meter meter : registry.getMeters()) {
            assertEquals("write", meter.getId().getTag("channel"), meter.getId().toString());
            assertNotNull(meter.getId().getDescription(), meter.getId().toString());
            names.add(meter.getId().getName());
        }
        assertEquals(new TreeSet<>(List.of("sluice.channel.capacity", "sluice.channel.size",
                "sluice.channel.senders.waiting", "sluice.channel.receivers.waiting", "sluice.channel.sent",
                "sluice.channel.received", "sluice.channel.undelivered", "sluice.channel.callback.failures",
                "sluice.channel.send.blocked.time", "sluice.channel.send.blocked.wall.time",
                "sluice.channel.receive.starved.time", "sluice.channel.receive.starved.wall.time")), names);
        assertEquals(UndeliveredReason.values().length,
                registry.find("sluice.channel.undelivered").functionCounters().size(), "one per reason");
    }

    @Test
    void twoChannels_haveTheirOwnMeters() {
        Channel<String> a = ChannelMetrics.monitor(registry, Channel.<String>builder().name("a").build());
        Channel<String> b = ChannelMetrics.monitor(registry, Channel.<String>builder().name("b").build());
        a.trySend("1");
        b.trySend("1");
        b.trySend("2");

        assertEquals(1, gauge("sluice.channel.size", "a"));
        assertEquals(2, gauge("sluice.channel.size", "b"));
    }

    @Test
    void meters_doNotKeepTheChannelAlive() throws Exception {
        WeakReference<Channel<String>> ref = bindAndForget();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            letPass(Duration.ofMillis(20));
        }
        assertSame(null, ref.get(), "the channel was collected");
        letPass(Duration.ofMillis(2));
        assertTrue(Double.isNaN(gauge("sluice.channel.size", "gone")));
    }

    private WeakReference<Channel<String>> bindAndForget() {
        Channel<String> channel = ChannelMetrics.monitor(registry, Channel.<String>builder().name("gone").build());
        channel.trySend("x");
        assertEquals(1, gauge("sluice.channel.size", "gone"));
        return new WeakReference<>(channel);
    }

    /* ---- bad input ---- */

    @Test
    void unnamedChannel_isRefusedNamingIt() {
        Channel<String> unnamed = Channel.bounded(4);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelMetrics.monitor(registry, unnamed));

        assertEquals("channel must be named to be monitored (Channel.builder().name(...)) but was " + unnamed,
                e.getMessage());
        assertTrue(registry.getMeters().isEmpty(), "nothing registered");
    }

    @Test
    void nullsAndOddTags_areRefused() {
        Channel<String> channel = Channel.<String>builder().name("c").build();

        assertEquals("registry", assertThrows(NullPointerException.class,
                () -> ChannelMetrics.monitor(null, channel)).getMessage());
        assertEquals("channel", assertThrows(NullPointerException.class,
                () -> ChannelMetrics.monitor(registry, (Channel<?>) null)).getMessage());
        assertEquals("tags", assertThrows(NullPointerException.class,
                () -> new ChannelMetrics(channel, null)).getMessage());
        assertEquals("tags must be key/value pairs but has 3 elements", assertThrows(IllegalArgumentException.class,
                () -> ChannelMetrics.monitor(registry, channel, "a", "b", "c")).getMessage());
        assertTrue(registry.getMeters().isEmpty());
        new ChannelMetrics(channel, Tags.empty()).bindTo(registry);
        assertEquals(0, gauge("sluice.channel.size", "c"));
    }
}
