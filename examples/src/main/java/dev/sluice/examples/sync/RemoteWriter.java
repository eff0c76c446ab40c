package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelSender;
import dev.sluice.reactor.BlockingStage;
import dev.sluice.rsocket.Codec;
import dev.sluice.rsocket.Delivery;
import dev.sluice.rsocket.SluiceClient;
import dev.sluice.rsocket.SluiceServer;
import io.netty.handler.ssl.SslContext;

/**
 * {@code --serve-writer} and {@code --remote}: the writer stage of the pipeline in another process, over the RSocket
 * bridge.
 *
 * <pre>
 *  sluice-sync SRC --remote HOST:PORT                          sluice-sync --serve-writer DST
 *  walker ─▶ hashers ─▶ throughBlocking(stage below)           SluiceServer
 *                        decisions + file bytes ──"jobs"──────▶ Channel ─▶ LegacyWriter (quick check, temp file,
 *                        summary ◀─────────────"outcomes"────── Channel ◀─  SHA-256 check, ATOMIC_MOVE)
 * </pre>
 *
 * <p>The job carries the file's bytes, so SRC and DST need not share a file system. A file is sent as one decision
 * message followed by its content in chunks of {@value #CHUNK_BYTES} bytes (the last one marked), so a file of any
 * size crosses in frames far below the bridge's 1 MiB limit, and memory holds at most about {@code capacity} chunks on
 * each side. The sender is a blocking {@link ChannelSender} of the bridge: when the remote writer (or its disk) is
 * slow, its channel fills, the server stops asking for items, the local {@code send} blocks, and the walk slows down:
 * the backpressure crosses the network.
 *
 * <p>The sending side cannot see DST, so it hashes every file and sends it; the writer makes rsync's quick check
 * (size and modification time) against its DST and skips an up-to-date file's chunks unwritten. Unchanged files are
 * therefore not rewritten, but their bytes still cross the wire. One server serves one run, then exits.
 *
 * <p>With {@code --tls-keystore} on the writer and {@code --tls-trust} on the sender, the connection is TLS
 * ({@link TlsFiles}); the token is then no longer visible on the wire.
 */
final class RemoteWriter {

    /** The channel of decisions and file chunks, client to server. */
    static final String JOBS = "jobs";
    /** The channel of outcomes, server to client. */
    static final String OUTCOMES = "outcomes";
    /** The content bytes per chunk message. */
    static final int CHUNK_BYTES = 64 * 1024;
    /** How long the writer waits for the next message before it gives up on a vanished client. */
    static final Duration IDLE_TIMEOUT = Duration.ofMinutes(5);
    /** How long the writer waits, after the last outcome, for the client to say it has them all. */
    static final Duration BYE_TIMEOUT = Duration.ofSeconds(10);

    private RemoteWriter() {
    }

    /* ---- messages ---- */

    /** The kinds of message on the jobs channel. */
    enum Type {
        /** A decision of the hashers; a COPY of a FILE is followed by its chunks. */
        DECISION,
        /** Some bytes of the file being sent. */
        CHUNK,
        /** The last bytes of the file being sent (maybe none), or why it could not be read. */
        LAST_CHUNK,
        /** Every decision is sent: the writer closes the outcomes channel. */
        END,
        /** The client has all outcomes: the writer may stop. */
        BYE,
        /** The client was cancelled: the writer removes its temporary file and stops. */
        ABORT
    }

    /**
     * One item of the jobs channel.
     *
     * @param type what it is
     * @param decision the decision ({@link Type#DECISION} only)
     * @param permissions the file's POSIX permissions as {@code rwxr-x---}, or {@code null}
     * @param data chunk bytes ({@link Type#CHUNK}, {@link Type#LAST_CHUNK}), else empty
     * @param error why the file could not be read (a {@link Type#LAST_CHUNK}), or why the writer refuses the entry (a
     *        {@link Type#DECISION} whose path is not a plain relative path: set by the decoder, never read from the
     *        wire), or {@code null}
     */
    record Message(Type type, Decision decision, String permissions, byte[] data, String error) {

        static Message decision(Decision decision, String permissions) {
            return new Message(Type.DECISION, decision, permissions, new byte[0], null);
        }

        static Message chunk(byte[] data, boolean last) {
            return new Message(last ? Type.LAST_CHUNK : Type.CHUNK, null, null, data, null);
        }

        static Message unreadable(String error) {
            return new Message(Type.LAST_CHUNK, null, null, new byte[0], error);
        }

        static Message of(Type type) {
            return new Message(type, null, null, new byte[0], null);
        }

        /** Whether chunks follow this message. */
        boolean carriesFile() {
            return type == Type.DECISION && decision.action() == Decision.Action.COPY
                    && decision.job().kind() == FileJob.Kind.FILE;
        }
    }

    /** The jobs channel's codec: a {@link Codec#record} of the message's fields. */
    static final Codec<Message> MESSAGES = Codec.record(RemoteWriter::messageFields, RemoteWriter::message);

    /** The outcomes channel's codec. */
    static final Codec<Outcome> OUTCOME_CODEC = Codec.record(o -> List.of(
                    utf8(o.job().relative().toString()), utf8(o.job().kind().name()), longBytes(o.job().size()),
                    utf8(o.status().name()), longBytes(o.bytesWritten()), utf8(o.error())),
            f -> new Outcome(new FileJob(Path.of(string(f, 0)), FileJob.Kind.valueOf(string(f, 1)), longOf(f, 2), null,
                    null, null), Outcome.Status.valueOf(string(f, 3)), longOf(f, 4), nullIfEmpty(string(f, 5))));

    private static List<byte[]> messageFields(Message m) {
        List<byte[]> f = new ArrayList<>(12);
        f.add(utf8(m.type().name()));
        f.add(m.data());
        f.add(utf8(m.error()));
        if (m.type() == Type.DECISION) {
            Decision d = m.decision();
            FileJob job = d.job();
            Instant mtime = job.mtime() == null ? null : job.mtime().toInstant();
            f.add(utf8(d.action().name()));
            f.add(d.sha256() == null ? new byte[0] : d.sha256());
            f.add(utf8(d.error()));
            f.add(utf8(job.relative().toString()));
            f.add(utf8(job.kind().name()));
            f.add(longBytes(job.size()));
            f.add(mtime == null ? new byte[0] : ByteBuffer.allocate(12).putLong(mtime.getEpochSecond())
                    .putInt(mtime.getNano()).array());
            f.add(utf8(job.linkTarget() == null ? null : job.linkTarget().toString()));
            f.add(utf8(job.error()));
            f.add(utf8(m.permissions()));
        }
        return f;
    }

    private static Message message(List<byte[]> f) {
        Type type = Type.valueOf(string(f, 0));
        if (type != Type.DECISION) {
            return new Message(type, null, null, f.get(1), nullIfEmpty(string(f, 2)));
        }
        if (f.size() != 13) {
            throw new IllegalArgumentException("a decision has 13 fields but this one has " + f.size());
        }
        byte[] mtimeBytes = f.get(9);
        FileTime mtime = null;
        if (mtimeBytes.length == 12) {
            ByteBuffer b = ByteBuffer.wrap(mtimeBytes);
            mtime = FileTime.from(Instant.ofEpochSecond(b.getLong(), b.getInt()));
        }
        String link = nullIfEmpty(string(f, 10));
        /*
         * The path is checked as sent, before Path.of could drop the empty components of "a//b" (never normalized:
         * "x/../y" is not "y" once x is a link). A refused path is not a protocol error: the entry fails alone (the
         * message keeps the action, so a file's chunks are still consumed) and DST is not touched.
         */
        String wirePath = string(f, 6);
        String refusal = TargetDir.refusal(wirePath);
        Path relative = refusal == null ? Path.of(wirePath) : Path.of("");
        FileJob job = new FileJob(relative, FileJob.Kind.valueOf(string(f, 7)), longOf(f, 8), mtime,
                link == null ? null : Path.of(link), nullIfEmpty(string(f, 11)));
        byte[] sha = f.get(4).length == 0 ? null : f.get(4);
        Decision decision = new Decision(job, Decision.Action.valueOf(string(f, 3)), sha, nullIfEmpty(string(f, 5)));
        String permissions = nullIfEmpty(string(f, 12));
        if (permissions != null) {
            PosixFilePermissions.fromString(permissions); // throws IllegalArgumentException if malformed
        }
        return new Message(type, decision, permissions, new byte[0],
                refusal == null ? null : TargetDir.refusedMessage(wirePath.replace("\0", "\\0"), refusal));
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(List<byte[]> fields, int i) {
        if (i >= fields.size()) {
            throw new IllegalArgumentException("field " + i + " missing: only " + fields.size() + " fields");
        }
        return new String(fields.get(i), StandardCharsets.UTF_8);
    }

    private static String nullIfEmpty(String s) {
        return s.isEmpty() ? null : s;
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static long longOf(List<byte[]> fields, int i) {
        byte[] b = fields.get(i);
        if (b.length != 8) {
            throw new IllegalArgumentException("field " + i + " must be 8 bytes but was " + b.length);
        }
        return ByteBuffer.wrap(b).getLong();
    }

    /* ---- the sending side (--remote) ---- */

    /**
     * The write stage of a {@code --remote} run, for {@code ReactorChannels.throughBlocking}: sends each decision (and
     * a copied file's bytes) with a blocking remote sender, and forwards the remote writer's outcomes to {@code out}
     * from a second thread.
     */
    static BlockingStage<Decision, Outcome> sendingStage(SluiceClient client, Path source, int capacity) {
        return (in, out) -> send(client, source, capacity, in, out);
    }

    private static void send(SluiceClient client, Path source, int capacity, ChannelIterator<Decision> in,
            ChannelSender<Outcome> out) throws Exception {
        ChannelSender<Message> jobs = client.sender(JOBS, MESSAGES, capacity, (m, reason) -> { });
        ChannelReceiver<Delivery<Outcome>> results = client.receiver(OUTCOMES, OUTCOME_CODEC, capacity);
        AtomicReference<Throwable> forwardFailure = new AtomicReference<>();
        Thread forwarder = new Thread(() -> {
            try {
                for (;;) {
                    out.send(results.receive().item());
                }
            } catch (ChannelClosedException end) {
                if (end.getCause() != null) {
                    forwardFailure.set(end.getCause());
                }
            } catch (InterruptedException e) {
                forwardFailure.set(e);
            } catch (RuntimeException e) {
                forwardFailure.set(e);
            }
        }, "sluice-remote-outcomes");
        forwarder.setDaemon(true);
        forwarder.start();
        boolean complete = false;
        try {
            byte[] buffer = new byte[CHUNK_BYTES];
            while (in.hasNext()) {
                Decision decision = in.next();
                FileJob job = decision.job();
                Path file = source.resolve(job.relative());
                Message header = Message.decision(decision, null);
                if (header.carriesFile()) {
                    Set<PosixFilePermission> permissions = null;
                    try {
                        permissions = LegacyWriter.posixPermissions(file);
                    } catch (IOException e) {
                        // the read below reports it
                    }
                    header = Message.decision(decision,
                            permissions == null ? null : PosixFilePermissions.toString(permissions));
                }
                jobs.send(header); // blocks while the remote writer is behind: backpressure across the network
                if (header.carriesFile()) {
                    sendContent(file, buffer, jobs);
                }
            }
            jobs.send(Message.of(Type.END));
            forwarder.join(); // ends when the writer closes the outcomes channel after END
            Throwable failure = forwardFailure.get();
            if (failure != null) {
                throw new IOException("the remote writer's outcomes failed: " + Failures.describe(failure), failure);
            }
            jobs.send(Message.of(Type.BYE));
            jobs.close();
            complete = true;
        } finally {
            if (!complete) {
                jobs.trySend(Message.of(Type.ABORT)); // best effort: the writer removes its temporary file
                jobs.close();
                results.cancel();
                forwarder.interrupt();
                forwarder.join(1000);
            }
        }
    }

    private static void sendContent(Path file, byte[] buffer, ChannelSender<Message> jobs)
            throws InterruptedException {
        try (InputStream stream = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            for (;;) {
                int n = stream.readNBytes(buffer, 0, buffer.length);
                if (n < buffer.length) {
                    jobs.send(Message.chunk(Arrays.copyOf(buffer, n), true));
                    return;
                }
                jobs.send(Message.chunk(buffer.clone(), false));
            }
        } catch (IOException e) {
            jobs.send(Message.unreadable(Failures.describe(e))); // the writer reports the file as failed
        }
    }

    /* ---- the writing side (--serve-writer) ---- */

    /**
     * A running {@code --serve-writer}: a {@link SluiceServer} exposing the jobs and outcomes channels, and the
     * {@link LegacyWriter} on the jobs channel. {@link #run()} serves one sync run.
     */
    static final class Server implements AutoCloseable {
        private final Path target;
        private final SyncOptions options;
        private final Channel<Message> jobs;
        private final Channel<Outcome> outcomes;
        private final SluiceServer server;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final Set<Path> tempFiles = ConcurrentHashMap.newKeySet();
        private final LongAdder createdDirs = new LongAdder();
        private final Counters counters = new Counters();

        /* tls: a server context (TlsFiles.server), or null for plain TCP */
        Server(Path target, SyncOptions options, String bind, int port, String token, SslContext tls)
                throws IOException {
            this.target = target;
            this.options = options;
            Files.createDirectories(target);
            this.jobs = Channel.bounded(options.capacity());
            this.outcomes = Channel.bounded(options.capacity());
            SluiceServer.Builder builder = SluiceServer.builder()
                    .channel(JOBS, jobs, MESSAGES)
                    .channel(OUTCOMES, outcomes, OUTCOME_CODEC);
            if (token != null) {
                builder.token(token);
            }
            if (tls != null) {
                builder.tls(tls);
            }
            this.server = builder.bind(bind, port);
        }

        int port() {
            return server.port();
        }

        String token() {
            return server.token();
        }

        /** Stops a run in progress (the shutdown hook); idempotent. */
        void cancel() {
            cancelled.set(true);
            jobs.cancel();
        }

        /**
         * Writes what one client sends until it ends, aborts or vanishes.
         *
         * @return the exit code: 0, 1 if some entries failed, 130 if cancelled or aborted
         */
        int run(PrintStream out) throws InterruptedException {
            long start = System.nanoTime();
            ChunkStream content = new ChunkStream();
            LegacyWriter writer = new LegacyWriter(content, target, options, cancelled, tempFiles, createdDirs);
            String end = "done";
            int code = 0;
            try {
                for (;;) {
                    Message m = next();
                    if (m == null) {
                        end = "no message for " + IDLE_TIMEOUT.toMinutes() + " minutes: the client is gone";
                        code = 1;
                        break;
                    }
                    if (m.type() == Type.END) {
                        outcomes.close(); // the client's outcome receiver completes once it has them all
                        Message bye = jobs.receive(BYE_TIMEOUT);
                        if (bye == null || bye.type() != Type.BYE) {
                            out.println("sluice-sync: the client did not confirm the outcomes within "
                                    + BYE_TIMEOUT.toSeconds() + " s");
                        }
                        break;
                    }
                    if (m.type() == Type.ABORT || m.type() == Type.BYE) {
                        end = "the client aborted the run";
                        code = SyncReport.EXIT_CANCELLED;
                        break;
                    }
                    if (m.type() != Type.DECISION) {
                        throw new IllegalStateException("protocol error: a " + m.type() + " without a file");
                    }
                    Decision decision = m.error() != null ? Decision.fail(m.decision().job(), m.error())
                            : Planner.atTarget(target, m.decision());
                    if (m.carriesFile()) {
                        content.begin(m.permissions());
                    }
                    Outcome outcome = writer.write(decision);
                    if (m.carriesFile()) {
                        content.skipRest(); // after a skip or a failed write, the file's remaining chunks
                    }
                    counters.record(outcome);
                    outcomes.send(outcome);
                }
            } catch (ChannelClosedException e) {
                end = cancelled.get() ? "cancelled" : "stopped: " + Failures.describe(e);
                code = SyncReport.EXIT_CANCELLED;
            } finally {
                for (Path tmp : List.copyOf(tempFiles)) {
                    try {
                        LegacyWriter.removeTempFile(target, tmp); // not through a link
                    } catch (IOException e) {
                        out.println("sluice-sync: could not remove temporary file " + tmp + ": "
                                + Failures.describe(e));
                    }
                }
                outcomes.close();
            }
            if (code == 0 && counters.failedFiles.sum() > 0) {
                code = 1;
            }
            out.printf("sluice-sync: writer %s: %d files copied, %d skipped, %d failed, %d directories created, "
                    + "%s written in %s%n", end, counters.copiedFiles.sum(), counters.skippedFiles.sum(),
                    counters.failedFiles.sum(), createdDirs.sum(), Units.bytes(counters.copiedBytes.sum()),
                    Units.millis(System.nanoTime() - start));
            return code;
        }

        private Message next() throws InterruptedException {
            return jobs.receive(IDLE_TIMEOUT);
        }

        @Override
        public void close() {
            server.close();
        }

        /** The bytes of the file being written, read from the chunk messages that follow its decision. */
        private final class ChunkStream implements LegacyWriter.Content {
            private String permissions;
            private byte[] current = new byte[0];
            private int position;
            private boolean last = true;

            void begin(String newPermissions) {
                permissions = newPermissions;
                current = new byte[0];
                position = 0;
                last = false;
            }

            /** Consumes the chunks of the current file not read yet. */
            void skipRest() throws InterruptedException {
                while (!last) {
                    pull();
                }
            }

            /* Takes the next chunk; an error in it becomes an IOException in the writer. */
            private String pull() throws InterruptedException {
                Message m = next();
                if (m == null) {
                    throw new ChannelClosedException("no chunk for " + IDLE_TIMEOUT.toMinutes() + " minutes", null);
                }
                if (m.type() != Type.CHUNK && m.type() != Type.LAST_CHUNK) {
                    throw new IllegalStateException("protocol error: " + m.type() + " in the middle of a file");
                }
                last = m.type() == Type.LAST_CHUNK;
                current = m.data();
                position = 0;
                return m.error();
            }

            @Override
            public InputStream open(FileJob job) {
                return new InputStream() {
                    @Override
                    public int read() throws IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        while (position == current.length) {
                            if (last) {
                                return -1;
                            }
                            String error;
                            try {
                                error = pull();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                                throw new java.io.InterruptedIOException("interrupted while receiving a file");
                            }
                            if (error != null) {
                                throw new IOException("cannot read the source: " + error);
                            }
                        }
                        int n = Math.min(len, current.length - position);
                        System.arraycopy(current, position, b, off, n);
                        position += n;
                        return n;
                    }
                };
            }

            @Override
            public Set<PosixFilePermission> permissions(FileJob job) {
                return permissions == null ? null : PosixFilePermissions.fromString(permissions);
            }
        }
    }
}
