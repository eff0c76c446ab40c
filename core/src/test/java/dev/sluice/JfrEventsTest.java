package dev.sluice;

import static dev.sluice.ContractTestSupport.PATIENCE;
import static dev.sluice.ContractTestSupport.await;
import static dev.sluice.ContractTestSupport.awaitBlockedReceiver;
import static dev.sluice.ContractTestSupport.awaitBlockedSender;
import static dev.sluice.ContractTestSupport.awaitWaitingSenders;
import static dev.sluice.ContractTestSupport.fork;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.sluice.ContractTestSupport.Forked;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * The JFR events of long waits, read back from a recording: {@code dev.sluice.SenderBlocked} and
 * {@code dev.sluice.ReceiverStarved} name the channel and carry the wait; waits shorter than the channel's
 * threshold are not recorded.
 */
@Timeout(60)
class JfrEventsTest {

    @TempDir
    Path dir;

    private Recording recording;

    @BeforeEach
    void start() {
        recording = new Recording();
        recording.enable("dev.sluice.SenderBlocked");
        recording.enable("dev.sluice.ReceiverStarved");
        recording.start();
    }

    @AfterEach
    void close() {
        recording.close();
    }

    private List<RecordedEvent> stopAndRead(String channel) throws IOException {
        recording.stop();
        Path file = dir.resolve("waits.jfr");
        recording.dump(file);
        assertTrue(Files.size(file) > 0);
        return RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.sluice."))
                .filter(e -> channel == null || channel.equals(e.getString("channel")))
                .collect(Collectors.toList());
    }

    private static String describe(List<RecordedEvent> events) {
        return events.stream().map(e -> e.getEventType().getName() + "{" + e.getString("channel") + ", "
                + e.getLong("waited") + " ns}").collect(Collectors.joining(", "));
    }

    @Test
    void blockedSendThread_isRecordedWithTheChannelTheWaitAndTheSendersThread() throws Throwable {
        Channel<String> channel = Channel.<String>builder().name("jfr-send").capacity(1)
                .jfrThreshold(Duration.ZERO).build();
        channel.trySend("full");
        long before = System.nanoTime();
        Forked<Void> sender = fork("blocked-sender", () -> {
            channel.send("waits");
            return null;
        });
        awaitBlockedSender(channel, sender, 1);
        ChannelStatsTimeTest.letPass(Duration.ofMillis(30));
        channel.receive(PATIENCE);
        sender.join();
        long elapsed = System.nanoTime() - before;

        List<RecordedEvent> events = stopAndRead("jfr-send");

        assertEquals(1, events.size(), describe(events));
        RecordedEvent e = events.get(0);
        assertEquals("dev.sluice.SenderBlocked", e.getEventType().getName());
        assertEquals("thread", e.getString("sender"));
        assertEquals("blocked-sender", e.getThread().getJavaName());
        long waited = e.getLong("waited");
        assertTrue(waited >= Duration.ofMillis(30).toNanos() && waited <= elapsed, waited + " ns of " + elapsed);
        assertTrue(e.getStackTrace() != null && e.getStackTrace().getFrames().stream()
                .anyMatch(f -> f.getMethod().getName().equals("send")), "the stack shows the send");
    }

    @Test
    void pendingSendAsync_isRecordedAsQueued() throws Throwable {
        Channel<String> channel = Channel.<String>builder().name("jfr-async").capacity(1)
                .jfrThreshold(Duration.ZERO).build();
        channel.trySend("full");
        CompletableFuture<Void> pending = channel.sendAsync("waits");
        awaitWaitingSenders(channel, 1);
        ChannelStatsTimeTest.letPass(Duration.ofMillis(20));
        channel.receive(PATIENCE);
        await(pending);

        List<RecordedEvent> events = stopAndRead("jfr-async");

        assertEquals(1, events.size(), describe(events));
        assertEquals("queued", events.get(0).getString("sender"));
        assertTrue(events.get(0).getLong("waited") >= Duration.ofMillis(20).toNanos());
    }

    @Test
    void starvedReceiver_isRecordedOnTheReceiversThread() throws Throwable {
        Channel<String> channel = Channel.<String>builder().name("jfr-receive").jfrThreshold(Duration.ofMillis(10))
                .build();
        Forked<String> receiver = fork("starved-receiver", channel::receive);
        awaitBlockedReceiver(channel, receiver, 1);
        ChannelStatsTimeTest.letPass(Duration.ofMillis(30));
        channel.send("fed");
        assertEquals("fed", receiver.join());

        List<RecordedEvent> events = stopAndRead("jfr-receive");

        assertEquals(1, events.size(), describe(events));
        RecordedEvent e = events.get(0);
        assertEquals("dev.sluice.ReceiverStarved", e.getEventType().getName());
        assertEquals("starved-receiver", e.getThread().getJavaName());
        assertTrue(e.getLong("waited") >= Duration.ofMillis(30).toNanos());
    }

    @Test
    void waitsShorterThanTheThreshold_areNotRecorded() throws Throwable {
        Channel<String> channel = Channel.<String>builder().name("jfr-quiet").capacity(1)
                .jfrThreshold(Duration.ofHours(1)).build();
        channel.trySend("full");
        Forked<Void> sender = fork("sender", () -> {
            channel.send("waits");
            return null;
        });
        awaitBlockedSender(channel, sender, 1);
        ChannelStatsTimeTest.letPass(Duration.ofMillis(30));
        channel.receive(PATIENCE);
        sender.join();
        Forked<String> receiver = fork("receiver", channel::receive);
        receiver.join();

        assertEquals(List.of(), stopAndRead("jfr-quiet"));
        assertTrue(channel.stats().senderBlockedNanos() >= Duration.ofMillis(30).toNanos(), "the wait was counted");
    }

    @Test
    void defaultThreshold_recordsAWaitOfThirtyMillisecondsNamingTheChannel() throws Throwable {
        assertEquals(WaitEvents.DEFAULT_THRESHOLD.toNanos(), WaitEvents.DEFAULT_THRESHOLD_NANOS,
                "no -D" + WaitEvents.THRESHOLD_PROPERTY + " in this JVM");
        Channel<String> channel = Channel.<String>builder().name("jfr-default").capacity(1).build();
        Channel<String> unnamed = Channel.<String>builder().capacity(1).jfrThreshold(Duration.ZERO).build();
        channel.trySend("full");
        unnamed.trySend("full");
        Forked<Void> sender = fork("sender", () -> {
            channel.send("waits");
            unnamed.send("waits too");
            return null;
        });
        awaitBlockedSender(channel, sender, 1);
        ChannelStatsTimeTest.letPass(Duration.ofMillis(30));
        channel.receive(PATIENCE);
        awaitBlockedSender(unnamed, sender, 1);
        unnamed.receive(PATIENCE);
        sender.join();

        List<RecordedEvent> events = stopAndRead(null);

        List<String> channels = events.stream().map(e -> e.getString("channel")).collect(Collectors.toList());
        assertTrue(channels.contains("jfr-default"), describe(events));
        assertTrue(channels.stream().anyMatch(c -> c.startsWith("unnamed@")), describe(events));
        assertFalse(WaitEvents.unavailable());
    }
}
