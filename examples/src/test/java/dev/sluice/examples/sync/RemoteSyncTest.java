package dev.sluice.examples.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --serve-writer} and {@code --remote} in one JVM over loopback (127.0.0.1 only): the writer stage behind a
 * SluiceServer, the walker and hashers in {@code sluice-sync SRC --remote}.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RemoteSyncTest {

    private static final String TOKEN = "remote-sync-test";

    @TempDir
    Path tmp;

    private final List<Served> servers = new ArrayList<>();

    @AfterEach
    void stopServers() throws Exception {
        for (Served s : servers) {
            s.server.cancel(); // a no-op after a finished run; otherwise ends the writer at once
            try {
                s.code.get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                // reported by the test itself
            }
        }
    }

    /* ---- copying ---- */

    @Test
    void remote_emptyDestination_treesByteIdentical() throws Exception {
        Path src = tmp.resolve("src");
        Path dst = tmp.resolve("dst");
        SampleTree.Summary sample = Trees.sample(src, 7, 1024);
        byte[] big = new byte[5 * RemoteWriter.CHUNK_BYTES + 123]; // several chunks and a partial one
        new Random(7).nextBytes(big);
        Files.write(src.resolve("big.bin"), big);
        Files.write(src.resolve("exactly-one-chunk.bin"), new byte[RemoteWriter.CHUNK_BYTES]);
        Files.write(src.resolve("empty.txt"), new byte[0]);
        long files = sample.files() + sample.links() + 3;

        Served served = serve(dst);
        SluiceSyncTest.Run run = remote(src, served.port);
        int serverCode = served.code.get(20, TimeUnit.SECONDS);

        assertEquals(0, run.code(), run.all());
        assertEquals(0, serverCode, served.output());
        Trees.assertIdentical(src, dst);
        assertEquals(0, Trees.tempFiles(dst), "temporary files left in DST");
        assertTrue(run.out().contains("files     " + files + " scanned, " + files + " copied, 0 skipped, 0 failed"),
                run.out());
        assertTrue(served.output().contains(files + " files copied, 0 skipped, 0 failed"), served.output());
    }

    @Test
    void remote_secondRun_writerSkipsUnchangedAndCopiesChanged() throws Exception {
        Path src = tmp.resolve("src");
        Path dst = tmp.resolve("dst");
        SampleTree.Summary sample = Trees.sample(src, 8, 512);
        long files = sample.files() + sample.links();
        Served first = serve(dst);
        assertEquals(0, remote(src, first.port).code());
        assertEquals(0, first.code.get(20, TimeUnit.SECONDS), first.output());

        Path changed = src.resolve("changed.txt");
        Files.writeString(changed, "new content");
        Files.setLastModifiedTime(changed, FileTime.from(Instant.parse("2020-01-02T03:04:05Z")));
        Served second = serve(dst);
        SluiceSyncTest.Run run = remote(src, second.port);

        assertEquals(0, run.code(), run.all());
        assertEquals(0, second.code.get(20, TimeUnit.SECONDS), second.output());
        Trees.assertIdentical(src, dst);
        assertTrue(run.out().contains("files     " + (files + 1) + " scanned, 1 copied, " + files
                + " skipped, 0 failed"), run.out());
    }

    /* ---- failures ---- */

    @Test
    void remote_wrongToken_exit1AndWriterWritesNothing() throws Exception {
        Path src = tmp.resolve("src");
        Path dst = tmp.resolve("dst");
        Trees.sample(src, 9, 64);
        Served served = serve(dst);

        SluiceSyncTest.Run run = SluiceSyncTest.cli(src.toString(), "--remote", "127.0.0.1:" + served.port,
                "--token", "guess", "--progress", "none");

        assertEquals(1, run.code(), run.all());
        assertTrue(run.err().contains("rejected the connection: invalid token"), run.err());
        served.server.cancel();
        assertEquals(SyncReport.EXIT_CANCELLED, served.code.get(20, TimeUnit.SECONDS));
        try (var entries = Files.list(dst)) {
            assertEquals(0, entries.count(), "DST stays empty");
        }
    }

    @Test
    void cli_remoteWithoutToken_exit2() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));

        SluiceSyncTest.Run run = SluiceSyncTest.cli(src.toString(), "--remote", "127.0.0.1:1");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--remote needs --token"), run.err());
    }

    @Test
    void cli_remoteBadAddress_exit2NamingIt() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));

        SluiceSyncTest.Run run = SluiceSyncTest.cli(src.toString(), "--remote", "localhost", "--token", "t");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--remote must be HOST:PORT") && run.err().contains("'localhost'"), run.err());
    }

    @Test
    void cli_remoteWithDst_exit2() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));

        SluiceSyncTest.Run run = SluiceSyncTest.cli(src.toString(), tmp.resolve("dst").toString(), "--remote",
                "127.0.0.1:1", "--token", "t");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--remote takes SRC only"), run.err());
        assertFalse(Files.exists(tmp.resolve("dst")));
    }

    @Test
    void cli_serveWriterWithDelete_exit2() {
        SluiceSyncTest.Run run = SluiceSyncTest.cli("--serve-writer", tmp.resolve("dst").toString(), "--delete");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("not supported with --serve-writer"), run.err());
        assertFalse(Files.exists(tmp.resolve("dst")));
    }

    /* ---- codec ---- */

    @Test
    void messages_decisionRoundTrip_allFieldsKept() {
        FileJob job = new FileJob(Path.of("a/b.txt"), FileJob.Kind.FILE, 42,
                FileTime.from(Instant.parse("2021-05-06T07:08:09.123456789Z")), null, null);
        Decision decision = Decision.copy(job, new byte[] {1, 2, 3});

        RemoteWriter.Message back = RemoteWriter.MESSAGES.decode(RemoteWriter.MESSAGES.encode(
                RemoteWriter.Message.decision(decision, "rw-r-----")));

        assertEquals(RemoteWriter.Type.DECISION, back.type());
        assertEquals(job, back.decision().job());
        assertEquals("[1, 2, 3]", java.util.Arrays.toString(back.decision().sha256()));
        assertEquals("rw-r-----", back.permissions());
    }

    @Test
    void messages_pathOutsideDst_decodedAsRefusedEntry() {
        FileJob job = FileJob.file(Path.of("../escape"), 1, FileTime.fromMillis(0));
        byte[] bytes = RemoteWriter.MESSAGES.encode(RemoteWriter.Message.decision(Decision.copy(job, null), null));

        RemoteWriter.Message back = RemoteWriter.MESSAGES.decode(bytes); // one entry fails, not the whole run

        assertEquals(Path.of(""), back.decision().job().relative(), "a refused path is never kept as a Path");
        assertTrue(back.carriesFile(), "its chunks must still be consumed");
        assertTrue(back.error().contains("refused") && back.error().contains("'../escape'")
                && back.error().contains("'..' component"), back.error());
    }

    /* ---- helpers ---- */

    /** A --serve-writer running on its own thread. */
    private record Served(RemoteWriter.Server server, int port, CompletableFuture<Integer> code,
            ByteArrayOutputStream out) {
        String output() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private Served serve(Path dst) throws Exception {
        RemoteWriter.Server server = new RemoteWriter.Server(dst, SyncOptions.defaults(), "127.0.0.1", 0, TOKEN, null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        CompletableFuture<Integer> code = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (server) {
                code.complete(server.run(print));
            } catch (Throwable e) {
                code.completeExceptionally(e);
            }
        }, "test-serve-writer");
        t.setDaemon(true);
        t.start();
        Served served = new Served(server, server.port(), code, out);
        servers.add(served);
        return served;
    }

    private static SluiceSyncTest.Run remote(Path src, int port) {
        return SluiceSyncTest.cli(src.toString(), "--remote", "127.0.0.1:" + port, "--token", TOKEN,
                "--capacity", "8", "--progress", "none");
    }
}
