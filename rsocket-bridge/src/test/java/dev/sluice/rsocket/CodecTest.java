package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class CodecTest {

    private record Job(String id, byte[] body) {
    }

    private static final Codec<Job> JOBS = Codec.record(
            j -> List.of(j.id().getBytes(StandardCharsets.UTF_8), j.body()),
            f -> new Job(new String(f.get(0), StandardCharsets.UTF_8), f.get(1)));

    /* ---- record ---- */

    @Test
    void record_roundTrip_keepsFields() {
        Job back = JOBS.decode(JOBS.encode(new Job("é-1", new byte[] {0, 1, 2})));
        assertEquals("é-1", back.id());
        assertArrayEquals(new byte[] {0, 1, 2}, back.body());
    }

    @Test
    void record_truncated_failsNamingTheField() {
        byte[] bytes = JOBS.encode(new Job("abc", new byte[] {9, 9, 9}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JOBS.decode(Arrays.copyOf(bytes, bytes.length - 1)));
        assertEquals("record truncated: field 1 declares 3 bytes but 2 remain", e.getMessage());
    }

    @Test
    void record_trailingBytesOrHugeCount_rejected() {
        byte[] bytes = JOBS.encode(new Job("a", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> JOBS.decode(Arrays.copyOf(bytes, bytes.length + 2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JOBS.decode(new byte[] {0x7f, 0, 0, 0}));
        assertTrue(e.getMessage().startsWith("record field count 2130706432 impossible"), e.getMessage());
    }

    @Test
    void record_nullArguments_namedInException() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> Codec.record(null, f -> f));
        assertEquals("fields", e.getMessage());
    }

    /* ---- built-ins ---- */

    @Test
    void utf8_malformedInput_rejectedNotReplaced() {
        assertEquals("ok", Codec.utf8().decode(Codec.utf8().encode("ok")));
        assertThrows(IllegalArgumentException.class, () -> Codec.utf8().decode(new byte[] {(byte) 0xff}));
    }

    @Test
    void bytes_passThrough() {
        byte[] b = {1, 2};
        assertArrayEquals(b, Codec.bytes().decode(Codec.bytes().encode(b)));
    }

    /* ---- options ---- */

    @Test
    void options_badValues_namedInException() {
        ClientOptions o = ClientOptions.token("t");
        assertEquals("ackBatch must be >= 1 but was 0",
                assertThrows(IllegalArgumentException.class, () -> o.withAckBatch(0)).getMessage());
        assertEquals("maxFrameSize must be in [1024, 16777215] but was 10",
                assertThrows(IllegalArgumentException.class, () -> o.withMaxFrameSize(10)).getMessage());
        assertEquals("port must be in [0, 65535] but was -1", assertThrows(IllegalArgumentException.class,
                () -> SluiceServer.builder().bind(-1)).getMessage());
        assertEquals("resumeSession must be zero or positive but was PT-1S", assertThrows(
                IllegalArgumentException.class, () -> o.withResumeSession(java.time.Duration.ofSeconds(-1)))
                .getMessage());
        assertEquals("session", assertThrows(NullPointerException.class, () -> o.withResumeSession(null))
                .getMessage());
        assertEquals("resumeSession must be zero or positive but was PT-0.001S", assertThrows(
                IllegalArgumentException.class,
                () -> SluiceServer.builder().resumeSession(java.time.Duration.ofMillis(-1))).getMessage());
        assertTrue(o.toString().contains("resumeSession=PT15S"), o.toString());
        assertTrue(o.withResumeSession(java.time.Duration.ZERO).toString().contains("resumeSession=PT0S"));
        assertTrue(!o.toString().contains("t,"), "toString never shows the token: " + o);
    }
}
