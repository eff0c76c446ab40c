package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code Channel.builder().name(...)}: validation, {@code name()}, {@code toString()}, exception messages. */
class ChannelNameTest {

    @Test
    void unnamed_nameIsNullAndToStringHasNoName() {
        Channel<String> channel = Channel.bounded(4);

        assertNull(channel.name());
        assertEquals("Channel[capacity=4, state=OPEN, size=0]", channel.toString());
    }

    @Test
    void named_nameAndToString() {
        Channel<String> channel = Channel.<String>builder().name("scan").capacity(8).build();
        channel.trySend("a");

        assertEquals("scan", channel.name());
        assertEquals("Channel[name=scan, capacity=8, state=OPEN, size=1]", channel.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"scan", "sync.hash-queue", "tenant-7/uploads", "a:b_c", "X", "0"})
    void validNames_areKept(String name) {
        assertEquals(name, Channel.builder().name(name).build().name());
    }

    @Test
    void longestName_isKept() {
        String name = "n".repeat(128);

        assertEquals(name, Channel.builder().name(name).build().name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "a b", "scan\n", "caf\u00e9", "tab\tname", "quote\"d", "x,y", "a=b", "{x}"})
    void invalidNames_areRefusedNamingTheValueAndChangeNothing(String name) {
        Channel.Builder<String> builder = Channel.<String>builder().name("before");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> builder.name(name));

        assertEquals("name must be 1 to 128 characters, each an ASCII letter or digit or one of . _ - : / but was \""
                + name + "\"", e.getMessage());
        assertEquals("before", builder.build().name(), "the builder is unchanged");
    }

    @Test
    void tooLongName_isRefused() {
        String name = "n".repeat(129);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Channel.builder().name(name));

        assertTrue(e.getMessage().endsWith("but was \"" + name + "\""), e.getMessage());
    }

    @Test
    void nullName_throwsNpeNamingTheArgument() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> Channel.builder().name(null));

        assertEquals("name", e.getMessage());
    }

    /* ---- exception messages ---- */

    @Test
    void closedForSend_messagesNameTheChannel() throws Exception {
        Channel<String> closed = Channel.<String>builder().name("scan").build();
        closed.close();
        Channel<String> failed = Channel.<String>builder().name("hash").build();
        failed.fail(new IllegalStateException("boom"));
        Channel<String> cancelled = Channel.<String>builder().name("write").build();
        cancelled.cancel();

        assertEquals("channel 'scan' is closed: it accepts no more items",
                assertThrows(ChannelClosedException.class, () -> closed.send("x")).getMessage());
        assertEquals("channel 'hash' failed: it accepts no more items",
                assertThrows(ChannelClosedException.class, () -> failed.send("x")).getMessage());
        CompletableFuture<Void> refused = cancelled.sendAsync("x");
        ExecutionException e = assertThrows(ExecutionException.class, refused::get);
        assertEquals("channel 'write' was cancelled: it accepts no more items", e.getCause().getMessage());
    }

    @Test
    void endOfChannel_messagesNameTheChannel() {
        Channel<String> closed = Channel.<String>builder().name("scan").build();
        closed.close();
        Channel<String> cancelled = Channel.<String>builder().name("write").build();
        cancelled.cancel();

        assertEquals("channel 'scan' is closed and drained",
                assertThrows(ChannelClosedException.class, closed::receive).getMessage());
        ChannelClosedException c = assertThrows(ChannelClosedException.class, () -> cancelled.iterator().hasNext());
        assertEquals("channel 'write' was cancelled", c.getMessage());
        assertEquals("channel 'write' was cancelled", c.getCause().getMessage());
    }

    @Test
    void unnamed_messagesAsBefore() {
        Channel<String> closed = Channel.bounded(2);
        closed.close();

        assertEquals("channel is closed: it accepts no more items",
                assertThrows(ChannelClosedException.class, () -> closed.send("x")).getMessage());
        assertEquals("channel is closed and drained",
                assertThrows(ChannelClosedException.class, closed::receive).getMessage());
    }

    /* ---- jfrThreshold ---- */

    @Test
    void jfrThreshold_badInput_namesItAndChangesNothing() {
        Channel.Builder<String> builder = Channel.builder();

        assertEquals("threshold", assertThrows(NullPointerException.class, () -> builder.jfrThreshold(null))
                .getMessage());
        assertEquals("jfrThreshold must be >= 0 but was PT-0.001S", assertThrows(IllegalArgumentException.class,
                () -> builder.jfrThreshold(Duration.ofMillis(-1))).getMessage());
        assertEquals(WaitEvents.DEFAULT_THRESHOLD_NANOS, builder.build().core.counters.waitEventNanos);
    }

    @Test
    void jfrThreshold_saturates() {
        Channel<String> channel = Channel.<String>builder().jfrThreshold(Duration.ofSeconds(Long.MAX_VALUE)).build();

        assertEquals(Long.MAX_VALUE, channel.core.counters.waitEventNanos);
    }
}
