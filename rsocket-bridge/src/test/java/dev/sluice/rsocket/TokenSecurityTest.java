package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.sluice.Channel;

/** Tokens: strength, never in logs, failed SETUPs slowed down per address; the plain-text warning. */
class TokenSecurityTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<String> logged = new CopyOnWriteArrayList<>();

    @BeforeEach
    void tapLog() {
        Log.resetWindows();
        Log.tap = logged::add;
    }

    @AfterEach
    void closeAll() throws Exception {
        Log.tap = null;
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @Test
    void token_weakOnes_refusedWithTheEstimateButNeverTheToken() {
        for (String weak : List.of("secret", "remote-sync-test", "a".repeat(40), "0123456789", "Passw0rd!2024")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SluiceServer.builder().token(weak), weak);
            assertTrue(e.getMessage().contains("too weak") && e.getMessage().contains("bits estimated"),
                    e.getMessage());
            assertFalse(e.getMessage().contains(weak), "the message shows the token: " + e.getMessage());
        }
        for (String strong : List.of(SluiceServer.newToken(), "3f9c2b7e41d08a65c1e7f0b9d2a43c58",
                "q8Z2xT+5vLm0Nc3R/wYp7Kd1")) {
            SluiceServer.builder().token(strong); // accepted
        }
        assertEquals(32, SluiceServer.newToken().length());
        assertTrue(Tokens.estimatedBits(SluiceServer.newToken()) >= Tokens.MIN_BITS);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void tokens_neverInTheLog_generatedNorPresented() {
        SluiceServer server = SluiceServer.builder().channel("jobs", Channel.<String>bounded(4), Codec.utf8())
                .bind(0);
        closeables.add(server);
        String wrong = SluiceServer.newToken();
        for (int i = 0; i < 3; i++) {
            assertThrows(RemoteChannelException.class, () -> SluiceClient.connect("127.0.0.1", server.port(),
                    ClientOptions.token(wrong).withResumeSession(Duration.ZERO)));
        }
        assertThrows(RemoteChannelException.class, () -> SluiceClient.connect("127.0.0.1", server.port(),
                ClientOptions.token(wrong)));
        SluiceClient ok = SluiceClient.connect("127.0.0.1", server.port(), ClientOptions.token(server.token()));
        closeables.add(ok);
        assertTrue(logged.stream().filter(l -> l.contains("AUTH") && l.contains("invalid token")).count() >= 4,
                logged.toString());
        for (String line : logged) {
            assertFalse(line.contains(server.token()), "the server's token in the log: " + line);
            assertFalse(line.contains(wrong), "a presented token in the log: " + line);
        }
        assertFalse(server.toString().contains(server.token()));
        assertFalse(ClientOptions.token(wrong).toString().contains(wrong));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void failedSetups_fromOneAddress_answeredLaterAndLater_aCorrectTokenIsNotSlowed() throws Exception {
        String token = SluiceServer.newToken();
        SluiceServer server = SluiceServer.builder().channel("jobs", Channel.<String>bounded(4), Codec.utf8())
                .token(token).bind(0);
        closeables.add(server);
        String wrong = SluiceServer.newToken();
        long[] millis = new long[6];
        for (int i = 0; i < millis.length; i++) {
            long start = System.nanoTime();
            RemoteChannelException e = assertThrows(RemoteChannelException.class, () -> SluiceClient.connect(
                    "127.0.0.1", server.port(), ClientOptions.token(wrong).withResumeSession(Duration.ZERO)));
            millis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(e.getMessage().contains("invalid token"), e.getMessage());
        }
        System.out.println("failed SETUPs answered after (ms): " + java.util.Arrays.toString(millis));
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        assertEquals(6, server.setupGuard().failuresOf(loopback));
        // the 4th waits 250 ms, the 5th 500 ms, the 6th 1 s (SetupGuard.delayAfter); lower bounds only
        assertTrue(millis[3] >= 240, "4th failure answered after " + millis[3] + " ms");
        assertTrue(millis[5] >= 990, "6th failure answered after " + millis[5] + " ms");
        assertEquals(Duration.ofSeconds(5), SetupGuard.delayAfter(50), "capped");

        long start = System.nanoTime();
        SluiceClient ok = SluiceClient.connect("127.0.0.1", server.port(), ClientOptions.token(token));
        closeables.add(ok);
        long okMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(0, server.setupGuard().failuresOf(loopback), "a correct token resets the address");
        System.out.println("correct token after the failures: connected in " + okMillis + " ms");
    }

    @Test
    void plainText_onANonLoopbackAddress_warns() {
        assertTrue(SluiceServer.Builder.isLoopback("127.0.0.1"));
        assertTrue(SluiceServer.Builder.isLoopback("localhost"));
        assertTrue(SluiceServer.Builder.isLoopback("::1"));
        assertFalse(SluiceServer.Builder.isLoopback("0.0.0.0"));
        assertFalse(SluiceServer.Builder.isLoopback("192.0.2.1")); // TEST-NET-1: nothing is bound there
        SluiceServer.Builder.warnIfPlainText("0.0.0.0", false, "SluiceServer[0.0.0.0:1]");
        assertTrue(logged.stream().anyMatch(l -> l.contains("CONFIG") && l.contains("without TLS")), logged
                .toString());
        logged.clear();
        SluiceServer.Builder.warnIfPlainText("0.0.0.0", true, "SluiceServer[0.0.0.0:1]");
        SluiceServer loopback = SluiceServer.builder().bind(0);
        closeables.add(loopback);
        assertTrue(logged.stream().noneMatch(l -> l.contains("without TLS")), logged.toString());
    }
}
