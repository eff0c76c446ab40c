package dev.sluice.examples.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelSender;
import dev.sluice.rsocket.ClientOptions;
import dev.sluice.rsocket.Codec;
import dev.sluice.rsocket.RemoteChannelException;
import dev.sluice.rsocket.SluiceClient;
import dev.sluice.rsocket.SluiceServer;

/**
 * {@code --serve-writer} and {@code --remote} over loopback (127.0.0.1 only): the writer behind an exclusive
 * SluiceServer, the walker and hashers in {@code sluice-sync SRC --remote}; parity with a local run, names carried as
 * bytes, and the attacks of issue 14 against the writer (a rogue second client, malformed records, a client killed
 * mid-file), each by a hand-built client bounded in count and time.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemoteSyncTest {

    private static final String TOKEN = SluiceServer.newToken();
    /** The environment of the commands: the token in SLUICE_TOKEN, never on the command line. */
    private static final Function<String, String> ENV = name -> SluiceSync.TOKEN_ENV.equals(name) ? TOKEN : null;

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

        Served served = serve(dst, SyncOptions.defaults());
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
    void remote_unchangedRerun_sendsNoFileBytes_thenOnlyTheChangedFile() throws Exception {
        Path src = tmp.resolve("src");
        Path dst = tmp.resolve("dst");
        SampleTree.Summary sample = Trees.sample(src, 8, 512);
        long files = sample.files() + sample.links();
        Served first = serve(dst, SyncOptions.defaults());
        SluiceSyncTest.Run initial = remote(src, first.port);
        assertEquals(0, initial.code(), initial.all());
        assertEquals(0, first.code.get(20, TimeUnit.SECONDS), first.output());
        assertTrue(initial.out().contains(sample.files() + " files sent"), initial.out());

        Served second = serve(dst, SyncOptions.defaults());
        SluiceSyncTest.Run unchanged = remote(src, second.port);
        assertEquals(0, unchanged.code(), unchanged.all());
        assertEquals(0, second.code.get(20, TimeUnit.SECONDS), second.output());
        assertTrue(unchanged.out().contains("files     " + files + " scanned, 0 copied, " + files + " skipped"),
                unchanged.out());
        assertTrue(unchanged.out().contains(", 0 files sent (0 B of file data"), "no file byte crossed the wire: "
                + unchanged.out());

        Path changed = src.resolve("changed.txt");
        Files.writeString(changed, "new content");
        Files.setLastModifiedTime(changed, FileTime.from(Instant.parse("2020-01-02T03:04:05Z")));
        Served third = serve(dst, SyncOptions.defaults());
        SluiceSyncTest.Run run = remote(src, third.port);

        assertEquals(0, run.code(), run.all());
        assertEquals(0, third.code.get(20, TimeUnit.SECONDS), third.output());
        Trees.assertIdentical(src, dst);
        assertTrue(run.out().contains("files     " + (files + 1) + " scanned, 1 copied, " + files
                + " skipped, 0 failed"), run.out());
        assertTrue(run.out().contains(", 1 files sent (11 B of file data"), run.out());
    }

    /* ---- parity with a local run ---- */

    @Test
    void remote_deleteAndChecksum_sameResultAndSummaryAsALocalRun() throws Exception {
        Path src = tmp.resolve("src");
        Trees.sample(src, 9, 512);
        Path local = tmp.resolve("local");
        Path viaRemote = tmp.resolve("remote");
        prepareStaleCopy(src, local);
        prepareStaleCopy(src, viaRemote);
        assertEquals(Trees.describe(local), Trees.describe(viaRemote));

        SluiceSyncTest.Run l = SluiceSyncTest.cli(src.toString(), local.toString(), "--delete", "--checksum",
                "--capacity", "8", "--progress", "none");
        Served served = serve(viaRemote, SyncOptions.defaults());
        SluiceSyncTest.Run r = remote(src, served.port, "--delete", "--checksum");

        assertEquals(0, l.code(), l.all());
        assertEquals(0, r.code(), r.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        Trees.assertIdentical(src, local);
        Trees.assertIdentical(src, viaRemote);
        assertEquals(summary(l), summary(r), "local:\n" + l.out() + "\nremote:\n" + r.out());
        assertTrue(summary(r).contains("3 entries deleted") && summary(r).contains("1 copied"), summary(r));
    }

    @Test
    void remote_dryRunWithDelete_changesNothing_andReportsWhatALocalDryRunReports() throws Exception {
        Path src = tmp.resolve("src");
        Trees.sample(src, 10, 256);
        Path local = tmp.resolve("local");
        Path viaRemote = tmp.resolve("remote");
        prepareStaleCopy(src, local);
        prepareStaleCopy(src, viaRemote);
        Map<String, String> before = Trees.describe(viaRemote);

        SluiceSyncTest.Run l = SluiceSyncTest.cli(src.toString(), local.toString(), "--dry-run", "--delete",
                "--capacity", "8", "--progress", "none");
        Served served = serve(viaRemote, SyncOptions.defaults());
        SluiceSyncTest.Run r = remote(src, served.port, "--dry-run", "--delete");

        assertEquals(0, l.code(), l.all());
        assertEquals(0, r.code(), r.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        assertEquals(before, Trees.describe(viaRemote), "a dry run changes nothing");
        assertEquals(before, Trees.describe(local));
        assertEquals(summary(l), summary(r), "local:\n" + l.out() + "\nremote:\n" + r.out());
        assertTrue(r.out().contains("would delete extra-dir"), r.out());
        assertTrue(r.out().contains(", 0 files sent"), "a dry run sends no content: " + r.out());
    }

    @Test
    void remote_dryRunIntoMissingDst_createsNothing() throws Exception {
        Path src = tmp.resolve("src");
        Trees.sample(src, 12, 64);
        Path dst = tmp.resolve("missing");
        Served served = serve(dst, SyncOptions.defaults());
        SluiceSyncTest.Run r = remote(src, served.port, "--dry-run");

        assertEquals(0, r.code(), r.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        assertFalse(Files.exists(dst), "DST created by a dry run");
    }

    /*
     * DST as an earlier run left it, then changed: 3 extraneous entries, one file of the same size and time with
     * other bytes (only --checksum sees it), one file with only another time.
     */
    private static void prepareStaleCopy(Path src, Path dst) throws IOException {
        SluiceSyncTest.Run copy = SluiceSyncTest.cli(src.toString(), dst.toString(), "--progress", "none");
        assertEquals(0, copy.code(), copy.all());
        Files.writeString(dst.resolve("extra.txt"), "not in SRC");
        Files.createDirectories(dst.resolve("extra-dir"));
        Files.writeString(dst.resolve("extra-dir/inner.txt"), "not in SRC either");
        FileTime fixed = FileTime.from(Instant.parse("2010-10-10T10:10:10Z")); // both copies alike
        Files.setLastModifiedTime(dst.resolve("extra.txt"), fixed);
        Files.setLastModifiedTime(dst.resolve("extra-dir/inner.txt"), fixed);
        List<Path> files;
        try (var walk = Files.walk(dst)) {
            files = walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> !p.toString().contains("extra")).sorted().collect(Collectors.toList());
        }
        Path sameSizeAndTime = files.stream().filter(p -> size(p) > 0).findFirst().orElseThrow();
        byte[] bytes = Files.readAllBytes(sameSizeAndTime);
        bytes[0] ^= 0x55;
        FileTime time = Files.getLastModifiedTime(sameSizeAndTime);
        Files.write(sameSizeAndTime, bytes);
        Files.setLastModifiedTime(sameSizeAndTime, time);
        Path otherTime = files.get(files.size() - 1);
        Files.setLastModifiedTime(otherTime, FileTime.from(Instant.parse("2001-01-01T00:00:00Z")));
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /* The summary's files and dirs lines, without the source/target names. */
    private static String summary(SluiceSyncTest.Run run) {
        return run.out().lines().filter(l -> l.startsWith("  files") || l.startsWith("  dirs"))
                .collect(Collectors.joining("\n"));
    }

    /* ---- names are bytes ---- */

    @Test
    void remote_namesDifferingOnlyInInvalidUtf8Bytes_arriveAsTwoFilesWithTheirBytes() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = tmp.resolve("dst");
        // names that are not valid UTF-8, made with their raw bytes (Java cannot name them from a String)
        python("import os, sys\n"
                + "d = os.fsencode(sys.argv[1])\n"
                + "os.mkdir(d + b'/dir\\xe9')\n"
                + "open(d + b'/a\\xff', 'wb').write(b'one')\n"
                + "open(d + b'/a\\xfe', 'wb').write(b'two')\n"
                + "open(d + b'/dir\\xe9/b\\xc3', 'wb').write(b'three')\n"
                + "os.symlink(b'a\\xff', d + b'/link\\xfa')\n", src.toString());

        Served served = serve(dst, SyncOptions.defaults());
        SluiceSyncTest.Run run = remote(src, served.port);

        assertEquals(0, run.code(), run.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        assertTrue(run.out().contains("files     4 scanned, 4 copied"), run.out());
        String listing = python("import os, sys\n"
                + "d = os.fsencode(sys.argv[1])\n"
                + "for root, dirs, files in sorted(os.walk(d)):\n"
                + "    for n in sorted(dirs + files):\n"
                + "        p = os.path.join(root, n)\n"
                + "        rel = os.path.relpath(p, d).hex()\n"
                + "        if os.path.islink(p): print(rel, 'link', os.readlink(p).hex())\n"
                + "        elif os.path.isdir(p): print(rel, 'dir')\n"
                + "        else: print(rel, open(p, 'rb').read().decode())\n", dst.toString());
        assertEquals(String.join("\n",
                hex("a\u00fe") + " two", // the bytes a\xfe, written as hex of the raw name
                hex("a\u00ff") + " one",
                hex("dir\u00e9") + " dir",
                hex("link\u00fa") + " link " + hex("a\u00ff"),
                hex("dir\u00e9/b\u00c3") + " three"), listing.strip());
    }

    /* The hex of the bytes whose values are the chars of s (all below 256). */
    private static String hex(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) {
            out.append(String.format("%02x", (int) c));
        }
        return out.toString();
    }

    private static String python(String program, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", "-c", program));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "python3 finished");
        assertEquals(0, p.exitValue(), "python3 failed: " + out);
        return out;
    }

    /* ---- a rogue second client, a throttled writer ---- */

    @Test
    void rogueClients_duringARun_refused_theRunCompletesByteIdentical_atTheWritersBwlimit() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = tmp.resolve("dst");
        byte[] big = new byte[2 << 20];
        new Random(3).nextBytes(big);
        Files.write(src.resolve("big.bin"), big);
        Files.writeString(src.resolve("small.txt"), "small");
        Served served = serve(dst, SyncOptions.defaults().withBwlimit(1 << 20)); // --bwlimit 1024 on the writer

        long start = System.nanoTime();
        CompletableFuture<SluiceSyncTest.Run> legit = CompletableFuture.supplyAsync(() -> remote(src, served.port));
        Await.until(() -> Trees.tempFilesUnchecked(dst) > 0, () -> "the writer is in the middle of big.bin");

        // a second client with the token: a consumer of the replies or a producer of entries would steal or mix
        RemoteChannelException refused = assertThrows(RemoteChannelException.class, () -> SluiceClient.connect(
                "127.0.0.1", served.port, ClientOptions.token(TOKEN)));
        assertTrue(refused.getMessage().contains("in use by another connection"), refused.getMessage());
        RemoteChannelException plain = assertThrows(RemoteChannelException.class, () -> SluiceClient.connect(
                "127.0.0.1", served.port, ClientOptions.token(TOKEN).withResumeSession(Duration.ZERO)));
        assertTrue(plain.getMessage().contains("in use by another connection"), plain.getMessage());

        SluiceSyncTest.Run run = legit.get(30, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(0, run.code(), run.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        Trees.assertIdentical(src, dst);
        // 2 MiB at 1 MiB/s: at least about 2 s (before, the writer ignored its --bwlimit: 34 MiB/s)
        assertTrue(millis >= 1800, "2 MiB took only " + millis + " ms at --bwlimit 1024");
        System.out.println("throttled remote run of 2 MiB at 1 MiB/s: " + millis + " ms");
    }

    /* ---- malformed records ---- */

    @Test
    void malformedRecords_thatStreamFailsWithAClearError_theWriterGoesOnAndServesTheNextRun() throws Exception {
        Path src = tmp.resolve("src");
        Path dst = tmp.resolve("dst");
        Trees.sample(src, 13, 64);
        Served served = serve(dst, SyncOptions.defaults());
        Codec<List<byte[]>> fields = Codec.record(f -> f, f -> f);

        try (SluiceClient hostile = SluiceClient.connect("127.0.0.1", served.port, ClientOptions.token(TOKEN))) {
            byte[] start = RemoteWire.TO_WRITER.encode(new RemoteWire.Start(RemoteWire.VERSION, false, false, false,
                    0));
            List<byte[]> fileWithoutMtime = List.of(new byte[] {2}, longBytes(1), new byte[] {1},
                    "f.txt".getBytes(StandardCharsets.UTF_8), longBytes(3), new byte[0], new byte[0], new byte[0]);
            String first = failingSend(hostile, fields, fields.decode(start), fileWithoutMtime);
            assertTrue(first.contains("OFFER 1 (f.txt)") && first.contains("modification time must be 12 bytes"),
                    first);
            List<byte[]> linkWithoutTarget = List.of(new byte[] {2}, longBytes(2), new byte[] {3},
                    "l".getBytes(StandardCharsets.UTF_8), longBytes(0), new byte[12], new byte[0], new byte[0]);
            String second = failingSend(hostile, fields, linkWithoutTarget);
            assertTrue(second.contains("a LINK needs a target"), second);
            List<byte[]> escaping = List.of(new byte[] {2}, longBytes(3), new byte[] {1},
                    "a/../../etc/passwd".getBytes(StandardCharsets.UTF_8), longBytes(0), new byte[12], new byte[0],
                    new byte[0]);
            String third = failingSend(hostile, fields, escaping);
            assertTrue(third.contains("inside DST") && third.contains("'..' component"), third);
        } // the hostile client goes away: the writer cleans up and serves the next run

        Await.until(() -> served.output().contains("waiting for the next run"), () -> "the writer's next run: "
                + served.output());
        SluiceSyncTest.Run run = remote(src, served.port);
        assertEquals(0, run.code(), run.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        Trees.assertIdentical(src, dst);
        assertFalse(Files.exists(dst.resolve("f.txt")));
    }

    /* Sends records on a new entries stream; returns the message of the failure it must end with. */
    @SafeVarargs
    private static String failingSend(SluiceClient client, Codec<List<byte[]>> codec, List<byte[]>... records)
            throws Exception {
        CompletableFuture<Void> unconfirmed = new CompletableFuture<>();
        ChannelSender<List<byte[]>> out = client.sender(RemoteWire.ENTRIES, codec, 4,
                (item, reason) -> unconfirmed.complete(null));
        for (List<byte[]> r : records) {
            out.send(r);
        }
        unconfirmed.get(20, TimeUnit.SECONDS);
        ChannelClosedException closed = assertThrows(ChannelClosedException.class, () -> out.send(List.of()));
        return assertInstanceOf(RemoteChannelException.class, closed.getCause()).getMessage();
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    /* ---- a client killed mid-file ---- */

    @Test
    void clientKilledMidFile_writerNoticesWithinSeconds_cleansUp_andServesTheNextRun() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dst = tmp.resolve("dst");
        byte[] big = new byte[8 << 20];
        new Random(5).nextBytes(big);
        Files.write(src.resolve("big.bin"), big);
        Served served = serve(dst, SyncOptions.defaults().withBwlimit(1 << 20), Duration.ofSeconds(1));

        Path log = tmp.resolve("child.log");
        ProcessBuilder child = new ProcessBuilder(javaCommand(src.toString(), "--remote", "127.0.0.1:" + served.port,
                "--progress", "none")).redirectErrorStream(true).redirectOutput(log.toFile());
        child.environment().put(SluiceSync.TOKEN_ENV, TOKEN);
        Process process = child.start();
        try {
            Await.until(() -> Trees.tempFilesUnchecked(dst) > 0, () -> "the writer is in the middle of big.bin: "
                    + read(log));
            String argv = new String(Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline")),
                    StandardCharsets.UTF_8);
            assertFalse(argv.contains(TOKEN), "the token is in the client's command line");
            assertTrue(argv.contains("--remote"), argv);
            long killedAt = System.nanoTime();
            process.destroyForcibly(); // SIGKILL: no BYE, no ABORT
            assertTrue(process.waitFor(10, TimeUnit.SECONDS));
            Await.until(() -> served.output().contains("waiting for the next run"), () -> "the writer notices: "
                    + served.output());
            long noticedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
            System.out.println("killed client noticed after " + noticedMillis + " ms");
            assertTrue(noticedMillis < 10_000, "noticed after " + noticedMillis + " ms");
            assertTrue(served.output().contains("the client went away"), served.output());
            assertEquals(0, Trees.tempFiles(dst), "the writer removed its temporary file");
            assertFalse(Files.exists(dst.resolve("big.bin")), "no partial file under its real name");
        } finally {
            process.destroyForcibly();
        }

        Files.writeString(src.resolve("small.txt"), "the next run");
        Files.delete(src.resolve("big.bin")); // the next run needs no throttled 8 MiB
        SluiceSyncTest.Run next = remote(src, served.port);
        assertEquals(0, next.code(), next.all());
        assertEquals(0, served.code.get(20, TimeUnit.SECONDS), served.output());
        Trees.assertIdentical(src, dst);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static List<String> javaCommand(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(SluiceSync.class.getName());
        command.addAll(List.of(args));
        return command;
    }

    /* ---- tokens ---- */

    @Test
    void remote_wrongToken_exit1AndWriterWritesNothing() throws Exception {
        Path src = tmp.resolve("src");
        Path dst = tmp.resolve("dst");
        Trees.sample(src, 9, 64);
        Served served = serve(dst, SyncOptions.defaults());
        String wrong = SluiceServer.newToken();

        SluiceSyncTest.Run run = cli(name -> SluiceSync.TOKEN_ENV.equals(name) ? wrong : null, src.toString(),
                "--remote", "127.0.0.1:" + served.port, "--progress", "none");

        assertEquals(1, run.code(), run.all());
        assertTrue(run.err().contains("rejected the connection: invalid token"), run.err());
        assertFalse(run.all().contains(wrong), "the token is printed");
        served.server.cancel();
        assertEquals(SyncReport.EXIT_CANCELLED, served.code.get(20, TimeUnit.SECONDS));
        assertFalse(Files.exists(dst), "DST stays untouched (a writer creates it when a run starts)");
    }

    @Test
    void cli_tokenOnTheCommandLine_refusedWithExit2_withoutEchoingIt() {
        String secret = SluiceServer.newToken();
        SluiceSyncTest.Run run = SluiceSyncTest.cli("--serve-writer", tmp.resolve("dst").toString(), "--token",
                secret);

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--token is not accepted") && run.err().contains("/proc/PID/cmdline")
                && run.err().contains("--token-file"), run.err());
        assertFalse(run.all().contains(secret), run.all());
        assertFalse(Files.exists(tmp.resolve("dst")));
    }

    @Test
    void serveWriter_tokenFileMissing_createdWithMode0600_andTheTokenIsNeverPrinted() throws Exception {
        Path tokenFile = tmp.resolve("writer.token");
        Path dst = tmp.resolve("dst");
        PortWatch out = new PortWatch();
        SluiceSync command = SluiceSync.create(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), name -> null);
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> command.commandLine().execute(
                "--serve-writer", dst.toString(), "--port", "0", "--token-file", tokenFile.toString()));
        try {
            int port = out.port.get(20, TimeUnit.SECONDS);
            Await.until(() -> out.text().contains("waiting for a run"), out::text);
            String token = Files.readString(tokenFile).strip();
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
            assertEquals(32, token.length());
            assertFalse(out.text().contains(token), "the token is printed: " + out.text());
            assertTrue(out.text().contains("a new token in " + tokenFile + " (mode 0600)"), out.text());

            Path src = tmp.resolve("src");
            Trees.sample(src, 14, 32);
            SluiceSyncTest.Run run = cli(name -> null, src.toString(), "--remote", "127.0.0.1:" + port,
                    "--token-file", tokenFile.toString(), "--progress", "none");
            assertEquals(0, run.code(), run.all());
            assertEquals(0, code.get(20, TimeUnit.SECONDS), out.text());
            assertFalse(run.all().contains(token));
            Trees.assertIdentical(src, dst);
        } finally {
            command.cancel();
        }
    }

    @Test
    void serveWriter_withoutAnyToken_makesATemporaryTokenFile_removedAtTheEnd() throws Exception {
        PortWatch out = new PortWatch();
        SluiceSync command = SluiceSync.create(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), name -> null);
        CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> command.commandLine().execute(
                "--serve-writer", tmp.resolve("dst").toString(), "--port", "0"));
        out.port.get(20, TimeUnit.SECONDS);
        Await.until(() -> out.text().contains("waiting for a run"), out::text);
        Matcher m = Pattern.compile("a new token in (\\S+) \\(mode 0600").matcher(out.text());
        assertTrue(m.find(), out.text());
        Path file = Path.of(m.group(1));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(out.text().contains(Files.readString(file).strip()), "the token is printed");
        command.cancel();
        assertEquals(SyncReport.EXIT_CANCELLED, code.get(20, TimeUnit.SECONDS));
        assertFalse(Files.exists(file), "the temporary token file is removed");
    }

    @Test
    void serveWriter_weakTokenInTheEnvironment_refusedWithExit2() {
        SluiceSyncTest.Run run = cli(name -> SluiceSync.TOKEN_ENV.equals(name) ? "letmein-please" : null,
                "--serve-writer", tmp.resolve("dst").toString());

        assertEquals(2, run.code());
        assertTrue(run.err().contains("token is too weak"), run.err());
        assertFalse(run.err().contains("letmein-please"), run.err());
    }

    /* ---- command line ---- */

    @Test
    void cli_remoteWithoutToken_exit2() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));

        SluiceSyncTest.Run run = cli(name -> null, src.toString(), "--remote", "127.0.0.1:1");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--remote needs the writer's token"), run.err());
    }

    @Test
    void cli_remoteBadAddress_exit2NamingIt() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));

        SluiceSyncTest.Run run = cli(ENV, src.toString(), "--remote", "localhost");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--remote must be HOST:PORT") && run.err().contains("'localhost'"), run.err());
    }

    @Test
    void cli_remoteWithDst_exit2() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));

        SluiceSyncTest.Run run = cli(ENV, src.toString(), tmp.resolve("dst").toString(), "--remote",
                "127.0.0.1:1");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("--remote takes SRC only"), run.err());
        assertFalse(Files.exists(tmp.resolve("dst")));
    }

    @Test
    void cli_serveWriterWithDelete_exit2() {
        SluiceSyncTest.Run run = cli(ENV, "--serve-writer", tmp.resolve("dst").toString(), "--delete");

        assertEquals(2, run.code());
        assertTrue(run.err().contains("given on the sending side"), run.err());
        assertFalse(Files.exists(tmp.resolve("dst")));
    }

    /* ---- wire format ---- */

    @Test
    void wire_offerRoundTrip_allFieldsKept_namesAsBytes() throws Exception {
        Path invalid = Path.of(java.net.URI.create("file:///a/b%FF%FEc")); // bytes, not valid UTF-8
        Path relative = Path.of("/").relativize(invalid);
        FileJob job = new FileJob(relative, FileJob.Kind.FILE, 42,
                FileTime.from(Instant.parse("2021-05-06T07:08:09.123456789Z")), null, null);
        byte[] sha = new byte[32];
        sha[0] = 7;

        RemoteWire.Offer back = (RemoteWire.Offer) RemoteWire.TO_WRITER.decode(RemoteWire.TO_WRITER.encode(
                new RemoteWire.Offer(5, job, sha)));

        assertEquals(5, back.seq());
        assertEquals(job, back.job());
        assertEquals(relative.toUri().getRawPath(), back.job().relative().toUri().getRawPath());
        assertEquals("a/b\\xff\\xfec", RemoteWire.Names.show(RemoteWire.Names.of(back.job().relative())));
        assertEquals(7, back.sha256()[0]);
        Path target = Path.of("..").resolve(relative);
        FileJob link = FileJob.link(Path.of("l"), target, FileTime.fromMillis(0));
        RemoteWire.Offer linkBack = (RemoteWire.Offer) RemoteWire.TO_WRITER.decode(RemoteWire.TO_WRITER.encode(
                new RemoteWire.Offer(6, link, null)));
        assertEquals("../a/b\\xff\\xfec", RemoteWire.Names.show(RemoteWire.Names.ofLinkTarget(
                linkBack.job().linkTarget())));
    }

    @Test
    void wire_namesOutsideDst_rejectedByDecodeNamingTheName() {
        for (String bad : List.of("../escape", "a/../../b", "/etc/passwd", "a//b", "./a", "a/.", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RemoteWire.Names.relative(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertTrue(e.getMessage().contains("inside DST") && e.getMessage().contains("'" + bad + "'"),
                    e.getMessage());
        }
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
                () -> RemoteWire.Names.relative(new byte[] {'a', 0, 'b'}));
        assertTrue(nul.getMessage().contains("NUL") && nul.getMessage().contains("a\\x00b"), nul.getMessage());
    }

    @Test
    void wire_malformedMessages_rejectedWithTheFieldNamed() {
        Codec<List<byte[]>> fields = Codec.record(f -> f, f -> f);
        List<byte[]> oldVersion = List.of(new byte[] {1}, longBytes(1), new byte[] {0}, longBytes(0));
        IllegalArgumentException v = assertThrows(IllegalArgumentException.class,
                () -> RemoteWire.TO_WRITER.decode(fields.encode(oldVersion)));
        assertTrue(v.getMessage().contains("protocol version 1"), v.getMessage());
        List<byte[]> badStatus = List.of(new byte[] {9}, longBytes(1), new byte[] {99}, longBytes(0), new byte[0]);
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class,
                () -> RemoteWire.REPLIES_CODEC.decode(fields.encode(badStatus)));
        assertTrue(s.getMessage().contains("unknown status 99"), s.getMessage());
        List<byte[]> lastWithoutHash = List.of(new byte[] {7}, longBytes(1), new byte[0], new byte[0], new byte[0],
                new byte[0]);
        IllegalArgumentException h = assertThrows(IllegalArgumentException.class,
                () -> RemoteWire.CHUNKS.decode(fields.encode(lastWithoutHash)));
        assertTrue(h.getMessage().contains("SHA-256"), h.getMessage());
    }

    /* ---- helpers ---- */

    /** A --serve-writer running on its own thread. */
    private record Served(RemoteWriter.Server server, int port, CompletableFuture<Integer> code,
            ByteArrayOutputStream out) {
        String output() {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private Served serve(Path dst, SyncOptions options) throws Exception {
        return serve(dst, options, RemoteWriter.RESUME_SESSION);
    }

    private Served serve(Path dst, SyncOptions options, Duration resumeSession) throws Exception {
        RemoteWriter.Server server = new RemoteWriter.Server(dst, options, "127.0.0.1", 0, TOKEN, null,
                resumeSession);
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

    private static SluiceSyncTest.Run remote(Path src, int port, String... extra) {
        List<String> args = new ArrayList<>(List.of(src.toString(), "--remote", "127.0.0.1:" + port, "--capacity",
                "8", "--progress", "none"));
        args.addAll(List.of(extra));
        return cli(ENV, args.toArray(String[]::new));
    }

    private static SluiceSyncTest.Run cli(Function<String, String> environment, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SluiceSync.create(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), environment).commandLine().execute(args);
        return new SluiceSyncTest.Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Collects a writer's output and completes {@link #port} when it prints the port it listens on. */
    private static final class PortWatch extends OutputStream {
        private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
        final CompletableFuture<Integer> port = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            check();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            check();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        private void check() {
            if (!port.isDone()) {
                Matcher m = LISTENING.matcher(text());
                if (m.find()) {
                    port.complete(Integer.parseInt(m.group(1)));
                }
            }
        }
    }

    /** Waits for a state, bounded in time (no sleeps of fixed length). */
    private static final class Await {
        static void until(java.util.function.BooleanSupplier state, java.util.function.Supplier<String> what) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!state.getAsBoolean()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("timed out waiting for " + what.get());
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
    }
}
