package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

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
 * bridge, with the protocol of {@link RemoteWire}.
 *
 * <pre>
 *  sluice-sync SRC --remote HOST:PORT                      sluice-sync --serve-writer DST
 *  walker ─▶ hashers ─▶ throughBlocking(stage below)       SluiceServer (exclusive: one connection per run)
 *                        offers ───────"entries"──────────▶ generator: quick check / checksum against DST,
 *                        file bytes ───"content"──────────▶ receiver:  LegacyWriter (temp file, SHA-256, rename)
 *                        outcomes ◀────"replies"─────────── WANT / DONE / NOTICE / DELETED
 * </pre>
 *
 * <p>The sending side cannot see DST, so it offers every entry (name, kind, size, modification time, link target;
 * with {@code --checksum} also the file's SHA-256) and the writer decides, like rsync's generator: an up-to-date file
 * is skipped and its bytes never cross the network; a file the writer needs is asked for with WANT and sent in
 * chunks of {@value RemoteWire#CHUNK_BYTES} bytes, hashed on the way (the writer checks the SHA-256 of what it
 * received against the sender's). {@code --delete}, {@code --checksum}, {@code --dry-run} and {@code --bwlimit} given
 * on the sending side apply to the run; the writer's own {@code --bwlimit} caps it too. Every hand-off is a bounded
 * channel: when the writer (or its disk) is slow, its channels fill, the server stops asking for items, the local
 * {@code send} blocks, and the walk slows down.
 *
 * <p>Runs. The writer's server is exclusive: the first connection owns it, other connections are refused (a second
 * consumer could otherwise steal the outcomes or a second producer mix its bytes into a file). A run ends when the
 * client confirms it has every outcome (BYE): the writer then exits. A run whose client aborts, breaks the protocol
 * or vanishes (its connection closes, or goes silent past the keepalive timeout and the {@link #RESUME_SESSION})
 * is cleaned up (temporary files removed) and the writer serves the next run on the same port and token.
 *
 * <p>With {@code --tls-keystore} on the writer and {@code --tls-trust} on the sender, the connection is TLS
 * ({@link TlsFiles}); the token and the files are then no longer visible on the wire.
 */
final class RemoteWriter {

    /** The content bytes per chunk message. */
    static final int CHUNK_BYTES = RemoteWire.CHUNK_BYTES;
    /** How long a run waits for the next message of its client before it gives up on it. */
    static final Duration IDLE_TIMEOUT = Duration.ofMinutes(5);
    /** How long the writer waits, after the last reply, for the client to say it has them all. */
    static final Duration BYE_TIMEOUT = Duration.ofSeconds(10);
    /** How long the writer keeps a broken connection's session for the client to resume it. */
    static final Duration RESUME_SESSION = Duration.ofSeconds(5);
    private static final long PARK_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private RemoteWriter() {
    }

    /* ---- the sending side (--remote) ---- */

    /**
     * The write stage of a {@code --remote} run, for {@code ReactorChannels.throughBlocking}: offers each entry to the
     * remote writer, sends the files it asks for, and forwards its outcomes to the stage's output.
     */
    static Function<SyncPipeline.Remote, BlockingStage<Decision, Outcome>> sendingStage(SluiceClient client,
            Path source, SyncOptions options) {
        return hooks -> (in, out) -> new Sending(client, source, options, hooks).run(in, out);
    }

    /** One {@code --remote} run: the offering thread (the stage's), a replies thread and a content thread. */
    private static final class Sending {
        private final SluiceClient client;
        private final Path source;
        private final SyncOptions options;
        private final SyncPipeline.Remote hooks;
        /* entries offered and not yet answered with DONE: what the writer may ask for, and nothing else */
        private final Map<Long, FileJob> offered = new ConcurrentHashMap<>();
        private final Set<Long> wanted = ConcurrentHashMap.newKeySet();
        /* WANTs for the content thread; at most the writer's pending files plus one (it asks before it waits) */
        private final LinkedBlockingQueue<Long> wants = new LinkedBlockingQueue<>();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final LongAdder offerBytes = new LongAdder();
        private final LongAdder contentBytes = new LongAdder();
        private final LongAdder filesSent = new LongAdder();
        private final LongAdder replyBytes = new LongAdder();
        private final LongAdder fileBytes = new LongAdder();
        private volatile boolean byeSent;

        Sending(SluiceClient client, Path source, SyncOptions options, SyncPipeline.Remote hooks) {
            this.client = client;
            this.source = source;
            this.options = options;
            this.hooks = hooks;
        }

        void run(ChannelIterator<Decision> in, ChannelSender<Outcome> out) throws Exception {
            int capacity = options.capacity();
            ChannelSender<RemoteWire.ToWriter> entries = client.sender(RemoteWire.ENTRIES,
                    counting(RemoteWire.TO_WRITER, offerBytes), capacity, (m, reason) -> { });
            ChannelSender<RemoteWire.Chunk> content = client.sender(RemoteWire.CONTENT,
                    counting(RemoteWire.CHUNKS, contentBytes), capacity, (m, reason) -> { });
            ChannelReceiver<Delivery<RemoteWire.Reply>> replies = client.receiver(RemoteWire.REPLIES,
                    counting(RemoteWire.REPLIES_CODEC, replyBytes), capacity);
            Thread replyThread = start("sluice-remote-replies", () -> readReplies(replies, entries, out));
            Thread contentThread = start("sluice-remote-content", () -> sendContent(content));
            boolean complete = false;
            long start = System.nanoTime();
            try {
                entries.send(new RemoteWire.Start(RemoteWire.VERSION, options.delete(), options.checksum(),
                        options.dryRun(), options.bwlimitBytesPerSecond()));
                long seq = 0;
                long count = 0;
                while (in.hasNext()) {
                    Decision decision = in.next();
                    rethrowFailure();
                    FileJob job = decision.job();
                    if (decision.action() == Decision.Action.FAIL) {
                        out.send(Outcome.failed(job, decision.error()));
                        continue;
                    }
                    String refusal = checkNames(job);
                    if (refusal != null) {
                        out.send(Outcome.failed(job, refusal)); // carried exactly or not at all
                        continue;
                    }
                    offered.put(++seq, job);
                    entries.send(new RemoteWire.Offer(seq, job, options.checksum() ? decision.sha256() : null));
                    count++;
                }
                entries.send(new RemoteWire.End(hooks.walkErrors().getAsInt()));
                // the replies thread answers the writer's last reply with BYE; the writer then closes the replies
                replyThread.join();
                rethrowFailure();
                if (!byeSent) {
                    throw new IOException("the remote writer ended the run without its last reply");
                }
                entries.close();
                content.close();
                complete = true;
                hooks.notices().accept(String.format("remote    %d entries offered (%s), %d files sent (%s of "
                        + "file data, %s in chunks), %s of replies in %s", count, Units.bytes(offerBytes.sum()),
                        filesSent.sum(), Units.bytes(fileBytes.sum()), Units.bytes(contentBytes.sum()),
                        Units.bytes(replyBytes.sum()), Units.millis(System.nanoTime() - start)));
            } finally {
                if (!complete) {
                    entries.trySend(new RemoteWire.Control(true)); // best effort: the writer removes its temp file
                    entries.close();
                    content.close();
                    replies.cancel();
                    replyThread.interrupt();
                    replyThread.join(1000);
                }
                wants.add(0L); // ends the content thread
                contentThread.interrupt();
                contentThread.join(1000);
            }
        }

        /* null if the names of the entry can be carried exactly, else why not */
        private static String checkNames(FileJob job) {
            try {
                RemoteWire.Names.of(job.relative());
                if (job.linkTarget() != null) {
                    RemoteWire.Names.ofLinkTarget(job.linkTarget());
                }
                return null;
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }

        private void rethrowFailure() throws IOException {
            Throwable t = failure.get();
            if (t != null) {
                throw new IOException("the remote run failed: " + Failures.describe(t), t);
            }
        }

        private Thread start(String name, ThrowingRunnable body) {
            Thread t = new Thread(() -> {
                try {
                    body.run();
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            }, name);
            t.setDaemon(true);
            t.start();
            return t;
        }

        private void readReplies(ChannelReceiver<Delivery<RemoteWire.Reply>> replies,
                ChannelSender<RemoteWire.ToWriter> entries, ChannelSender<Outcome> out)
                throws InterruptedException, IOException {
            try {
                for (;;) {
                    RemoteWire.Reply reply = replies.receive().item();
                    if (reply instanceof RemoteWire.Want w) {
                        FileJob job = offered.get(w.seq());
                        if (job == null || job.kind() != FileJob.Kind.FILE || !wanted.add(w.seq())) {
                            throw new IOException("protocol error: the writer asked for entry " + w.seq()
                                    + (job == null ? ", which is not on offer" : ", " + job + ", again or wrongly"));
                        }
                        wants.add(w.seq());
                    } else if (reply instanceof RemoteWire.Done d) {
                        FileJob job = offered.remove(d.seq());
                        if (job == null) {
                            throw new IOException("protocol error: an outcome for entry " + d.seq()
                                    + ", which is not on offer");
                        }
                        wanted.remove(d.seq());
                        out.send(new Outcome(job, d.status(), d.bytesWritten(), d.error()));
                    } else if (reply instanceof RemoteWire.Notice n) {
                        hooks.notices().accept("sluice-sync: writer: " + n.text());
                    } else if (reply instanceof RemoteWire.Failure f) {
                        hooks.failure().accept(f.text());
                    } else if (reply instanceof RemoteWire.Deleted d) {
                        // the writer's last reply: every offer must have its outcome; then confirm with BYE
                        hooks.deleted().accept(d.count());
                        if (!offered.isEmpty()) {
                            throw new IOException("protocol error: the writer ended the run without answering "
                                    + offered.size() + " entries");
                        }
                        entries.send(new RemoteWire.Control(false));
                        byeSent = true;
                    }
                }
            } catch (ChannelClosedException end) {
                if (end.getCause() != null) {
                    throw new IOException("the remote writer's replies failed: " + Failures.describe(end.getCause()),
                            end.getCause());
                }
            } finally {
                wants.add(0L);
            }
        }

        /* Sends the files the writer asks for, in the order it asks, hashing them on the way. */
        private void sendContent(ChannelSender<RemoteWire.Chunk> content) throws InterruptedException {
            byte[] buffer = new byte[CHUNK_BYTES];
            for (;;) {
                long seq = wants.take();
                if (seq == 0) {
                    return;
                }
                FileJob job = offered.get(seq);
                if (job == null) {
                    return; // the run failed meanwhile
                }
                sendFile(seq, job, buffer, content);
                filesSent.increment();
            }
        }

        private void sendFile(long seq, FileJob job, byte[] buffer, ChannelSender<RemoteWire.Chunk> content)
                throws InterruptedException {
            Path file = source.resolve(job.relative());
            MessageDigest digest = Sha256.newDigest();
            long sent = 0;
            byte[] last;
            String error = null;
            String permissions = null;
            try (InputStream stream = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                for (;;) {
                    int n = stream.readNBytes(buffer, 0, buffer.length);
                    digest.update(buffer, 0, n);
                    sent += n;
                    fileBytes.add(n);
                    if (n < buffer.length) {
                        last = Arrays.copyOf(buffer, n);
                        break;
                    }
                    content.send(new RemoteWire.Chunk(seq, buffer.clone(), false, null, null, null));
                }
                Set<PosixFilePermission> mode = LegacyWriter.posixPermissions(file);
                permissions = mode == null ? null : PosixFilePermissions.toString(mode);
                FileTime now = Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS);
                if (sent != job.size() || !Planner.sameTime(now, job.mtime())) {
                    error = "source changed while it was sent (" + sent + " bytes read, the walk saw " + job.size()
                            + ")";
                }
            } catch (IOException e) {
                last = new byte[0];
                error = Failures.describe(e);
            }
            content.send(new RemoteWire.Chunk(seq, last, true, error == null ? digest.digest() : null, permissions,
                    error));
        }

        /** A body that may throw, for the helper threads. */
        private interface ThrowingRunnable {
            void run() throws Exception;
        }
    }

    /* A codec that adds the size of every encoded or decoded item to {@code bytes}. */
    private static <T> Codec<T> counting(Codec<T> codec, LongAdder bytes) {
        return new Codec<>() {
            @Override
            public byte[] encode(T item) {
                byte[] b = codec.encode(item);
                bytes.add(b.length);
                return b;
            }

            @Override
            public T decode(byte[] b) {
                bytes.add(b.length);
                return codec.decode(b);
            }

            @Override
            public String toString() {
                return codec.toString();
            }
        };
    }

    /* ---- the writing side (--serve-writer) ---- */

    /**
     * A running {@code --serve-writer}: one exclusive {@link SluiceServer} per run, on the same port and token.
     * {@link #run} serves runs until one is complete.
     */
    static final class Server implements AutoCloseable {
        private final Path target;
        private final SyncOptions options;
        private final String bind;
        private final String token;
        private final SslContext tls;
        private final Duration resumeSession;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final int port;
        private volatile Run current;

        /* tls: a server context (TlsFiles.server), or null for plain TCP; token: null to generate one */
        Server(Path target, SyncOptions options, String bind, int port, String token, SslContext tls) {
            this(target, options, bind, port, token, tls, RESUME_SESSION);
        }

        Server(Path target, SyncOptions options, String bind, int port, String token, SslContext tls,
                Duration resumeSession) {
            this.target = target;
            this.options = options;
            this.bind = bind;
            this.tls = tls;
            this.resumeSession = resumeSession;
            Run first = new Run(port, token);
            this.current = first;
            this.port = first.server.port();
            this.token = first.server.token();
        }

        int port() {
            return port;
        }

        String token() {
            return token;
        }

        /** Stops the run in progress and the writer (the shutdown hook); idempotent. */
        void cancel() {
            cancelled.set(true);
            Run run = current;
            if (run != null) {
                run.stop();
            }
        }

        /**
         * Serves runs until one is complete (its client confirmed every outcome) or the writer is cancelled. A run
         * whose client aborts, breaks the protocol or vanishes is cleaned up, and the next run is served.
         *
         * @return the exit code: 0, 1 if some entries of the complete run failed, 130 if cancelled
         */
        int run(PrintStream out) throws InterruptedException {
            for (;;) {
                Run run = current;
                Result result = run.serve(out);
                if (result.complete()) {
                    run.awaitClientClosed(BYE_TIMEOUT); // it still reads the end of the replies
                }
                run.close();
                if (result.complete() || cancelled.get()) {
                    return cancelled.get() ? SyncReport.EXIT_CANCELLED : result.code();
                }
                current = new Run(port, token); // listening again before it says so: a client may connect at once
                if (cancelled.get()) {
                    current.stop();
                }
                out.println("sluice-sync: writer: cleaned up; waiting for the next run on port " + port);
                out.flush();
            }
        }

        @Override
        public void close() {
            Run run = current;
            if (run != null) {
                run.close();
            }
        }

        /** How a run ended. */
        private record Result(boolean complete, int code) {
        }

        /** One client's run: its own server and channels. */
        private final class Run implements AutoCloseable {
            private final Channel<RemoteWire.ToWriter> entries;
            private final Channel<RemoteWire.Chunk> content;
            private final Channel<RemoteWire.Reply> replies;
            private final Channel<Pending> pending;
            private final SluiceServer server;
            private final AtomicBoolean ownerGone = new AtomicBoolean();
            private final java.util.concurrent.CountDownLatch ownerClosed = new java.util.concurrent.CountDownLatch(1);
            private final AtomicBoolean stopped = new AtomicBoolean(); // the run's own flag for the writers
            private final Set<Path> tempFiles = ConcurrentHashMap.newKeySet();
            private final LongAdder createdDirs = new LongAdder();
            private final Counters counters = new Counters();
            private final AtomicReference<Throwable> receiverFailure = new AtomicReference<>();

            Run(int port, String token) {
                int capacity = options.capacity();
                this.entries = Channel.bounded(capacity);
                this.content = Channel.bounded(capacity);
                this.replies = Channel.bounded(capacity);
                this.pending = Channel.bounded(capacity);
                SluiceServer.Builder builder = SluiceServer.builder()
                        .channel(RemoteWire.ENTRIES, entries, RemoteWire.TO_WRITER, SluiceServer.Direction.SEND_ONLY)
                        .channel(RemoteWire.CONTENT, content, RemoteWire.CHUNKS, SluiceServer.Direction.SEND_ONLY)
                        .channel(RemoteWire.REPLIES, replies, RemoteWire.REPLIES_CODEC,
                                SluiceServer.Direction.RECEIVE_ONLY)
                        .maxFrameSize(RemoteWire.MAX_FRAME)
                        .resumeSession(resumeSession)
                        .exclusive(this::onOwnerClosed);
                if (token != null) {
                    builder.token(token);
                }
                if (tls != null) {
                    builder.tls(tls);
                }
                this.server = builder.bind(bind, port);
            }

            /* on a transport thread: the client's connection has ended (normally or not) */
            private void onOwnerClosed() {
                ownerGone.set(true);
                stop();
                ownerClosed.countDown();
            }

            void awaitClientClosed(Duration timeout) throws InterruptedException {
                ownerClosed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }

            /* ends the run's waits: every channel op throws, the writers stop at the next chunk */
            void stop() {
                stopped.set(true);
                entries.cancel();
                content.cancel();
                replies.cancel();
                pending.cancel();
            }

            Result serve(PrintStream out) throws InterruptedException {
                long startNanos = 0;
                String end = "done";
                boolean complete = false;
                Thread receiver = null;
                try {
                    RemoteWire.ToWriter first = entries.receive(); // waits for a client
                    startNanos = System.nanoTime();
                    if (!(first instanceof RemoteWire.Start start)) {
                        throw new ProtocolException("a run starts with START, not " + first);
                    }
                    long bwlimit = minLimit(options.bwlimitBytesPerSecond(), start.bwlimit());
                    SyncOptions run = options.withDelete(start.delete()).withChecksum(start.checksum())
                            .withDryRun(start.dryRun()).withBwlimit(0); // throttled here, per chunk
                    if (!run.dryRun()) {
                        Files.createDirectories(target);
                    }
                    ChunkStream chunks = new ChunkStream(bwlimit);
                    LegacyWriter files = new LegacyWriter(chunks, target, run, stopped, tempFiles, createdDirs);
                    receiver = new Thread(() -> receive(chunks, files), "sluice-writer-files");
                    receiver.setDaemon(true);
                    receiver.start();
                    complete = generate(run, receiver, out);
                    if (!complete) {
                        end = "the client aborted the run";
                    }
                } catch (ChannelClosedException | java.util.concurrent.CancellationException e) {
                    end = cancelled.get() ? "cancelled" : ownerGone.get() ? "the client went away"
                            : "stopped: " + Failures.describe(e);
                } catch (ProtocolException e) {
                    end = "protocol error: " + e.getMessage();
                } catch (IOException e) {
                    end = "stopped: " + Failures.describe(e);
                } catch (RuntimeException e) {
                    end = "stopped by an internal error: " + e; // the run ends, the writer goes on
                } finally {
                    stop();
                    if (receiver != null) {
                        receiver.join(TimeUnit.SECONDS.toMillis(5));
                    }
                    for (Path tmp : List.copyOf(tempFiles)) {
                        try {
                            LegacyWriter.removeTempFile(target, tmp); // not through a link
                        } catch (IOException e) {
                            out.println("sluice-sync: could not remove temporary file " + tmp + ": "
                                    + Failures.describe(e));
                        }
                    }
                }
                Throwable failed = receiverFailure.get();
                if (failed != null) {
                    complete = false;
                    end = (failed instanceof ProtocolException ? "protocol error: " + failed.getMessage()
                            : "stopped: " + Failures.describe(failed));
                }
                if (startNanos != 0 || !end.equals("done")) {
                    out.printf("sluice-sync: writer: %s; %d files copied, %d skipped, %d failed, %d directories "
                            + "created, %s written in %s%n", end, counters.copiedFiles.sum(),
                            counters.skippedFiles.sum(), counters.failedFiles.sum(), createdDirs.sum(),
                            Units.bytes(counters.copiedBytes.sum()),
                            Units.millis(startNanos == 0 ? 0 : System.nanoTime() - startNanos));
                }
                int code = counters.failedFiles.sum() > 0 ? 1 : 0;
                return new Result(complete, code);
            }

            /* The generator: decides for each offer; true if the client confirmed the end (BYE). */
            private boolean generate(SyncOptions run, Thread receiver, PrintStream out)
                    throws InterruptedException, IOException {
                Set<Path> seen = run.delete() ? new HashSet<>() : null;
                LegacyWriter direct = new LegacyWriter(NO_CONTENT, target, run, stopped, tempFiles, createdDirs);
                for (;;) {
                    RemoteWire.ToWriter m = next(entries);
                    if (m instanceof RemoteWire.Offer offer) {
                        FileJob job = offer.job();
                        if (seen != null) {
                            seen.add(job.relative());
                        }
                        Decision decision = Planner.atTarget(target, run, Decision.copy(job, offer.sha256()),
                                stopped);
                        if (decision.action() == Decision.Action.COPY && job.kind() == FileJob.Kind.FILE
                                && !run.dryRun()) {
                            pending.send(new Pending(offer.seq(), decision)); // before the WANT: bounded WANTs
                            replies.send(new RemoteWire.Want(offer.seq()));
                        } else {
                            reply(offer.seq(), direct.write(decision));
                        }
                    } else if (m instanceof RemoteWire.End endOfRun) {
                        pending.close();
                        receiver.join(); // after the last wanted file, or when the run stops
                        if (receiverFailure.get() != null) {
                            return false;
                        }
                        long deleted = 0;
                        if (seen != null) {
                            deleted = deleteExtraneous(seen, run, endOfRun.walkErrors());
                        }
                        replies.send(new RemoteWire.Deleted(deleted)); // the last reply: the client answers BYE
                        RemoteWire.ToWriter bye = entries.receive(BYE_TIMEOUT);
                        if (!(bye instanceof RemoteWire.Control c) || c.abort()) {
                            out.println("sluice-sync: the client did not confirm the outcomes within "
                                    + BYE_TIMEOUT.toSeconds() + " s");
                            return false;
                        }
                        replies.close(); // the client's receiver completes: it may close the connection
                        return true;
                    } else if (m instanceof RemoteWire.Control c && c.abort()) {
                        return false;
                    } else {
                        throw new ProtocolException("unexpected " + m + " in the middle of a run");
                    }
                }
            }

            /* The receiver: writes each wanted file from its chunks, in WANT order. */
            private void receive(ChunkStream chunks, LegacyWriter files) {
                try (ChannelIterator<Pending> it = pending.iterator()) {
                    while (it.hasNext()) {
                        Pending p = it.next();
                        chunks.begin(p.seq());
                        Outcome outcome = files.write(p.decision());
                        chunks.skipRest();
                        reply(p.seq(), outcome);
                    }
                } catch (ChannelClosedException e) {
                    if (!stopped.get()) {
                        receiverFailure.compareAndSet(null, e);
                    }
                } catch (InterruptedException e) {
                    receiverFailure.compareAndSet(null, e);
                } catch (RuntimeException e) {
                    if (!stopped.get()) { // else a cancellation seen by the writer: the run was stopped anyway
                        receiverFailure.compareAndSet(null, e);
                        stop(); // a protocol error in the content: the run cannot go on
                    }
                }
            }

            private void reply(long seq, Outcome outcome) throws InterruptedException {
                counters.record(outcome);
                replies.send(new RemoteWire.Done(seq, outcome.status(), outcome.bytesWritten(), outcome.error()));
            }

            private long deleteExtraneous(Set<Path> seen, SyncOptions run, long walkErrors)
                    throws InterruptedException {
                if (walkErrors > 0) {
                    replies.send(new RemoteWire.Notice("some of SRC could not be read: skipping --delete"));
                    return 0;
                }
                if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    return 0; // a dry run into a DST that does not exist yet
                }
                try {
                    return Deletion.extraneous(target, seen, run.dryRun(), line -> sendQuietly(
                            new RemoteWire.Notice(line)), (path, reason) -> {
                                counters.failedFiles.increment();
                                sendQuietly(new RemoteWire.Failure(SyncPipeline.display(path) + ": " + reason));
                            });
                } catch (IOException e) {
                    counters.failedFiles.increment();
                    sendQuietly(new RemoteWire.Failure("--delete: " + Failures.describe(e)));
                    return 0;
                }
            }

            /* from inside Deletion's callbacks, which cannot throw InterruptedException */
            private void sendQuietly(RemoteWire.Reply reply) {
                try {
                    replies.send(reply);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ChannelClosedException("interrupted", e);
                }
            }

            /* Takes the next message; a client silent for IDLE_TIMEOUT is given up. */
            private <M> M next(Channel<M> channel) throws InterruptedException {
                M m = channel.receive(IDLE_TIMEOUT);
                if (m == null) {
                    throw new ProtocolException("no message for " + IDLE_TIMEOUT.toMinutes() + " minutes: the "
                            + "client is gone");
                }
                return m;
            }

            @Override
            public void close() {
                stop();
                server.close();
            }

            /** The bytes of the file being written, read from the chunks that follow its WANT. */
            private final class ChunkStream implements LegacyWriter.Content {
                private final long bwlimit;
                private final long throttleStart = System.nanoTime();
                private long throttled;
                private long seq;
                private String permissions;
                private byte[] current = new byte[0];
                private int position;
                private boolean last = true;
                private MessageDigest digest;

                ChunkStream(long bwlimit) {
                    this.bwlimit = bwlimit;
                }

                void begin(long newSeq) {
                    seq = newSeq;
                    permissions = null;
                    current = new byte[0];
                    position = 0;
                    last = false;
                    digest = Sha256.newDigest();
                }

                /** Consumes the chunks of the current file not read yet (after a skip or a failed write). */
                void skipRest() throws InterruptedException {
                    while (!last) {
                        pull();
                    }
                }

                /* Takes the next chunk of the current file; an error in it becomes an IOException in the writer. */
                private RemoteWire.Chunk pull() throws InterruptedException {
                    RemoteWire.Chunk c = next(content);
                    if (c.seq() != seq) {
                        throw new ProtocolException("content of entry " + c.seq() + " while entry " + seq
                                + " was expected");
                    }
                    last = c.last();
                    current = c.data();
                    position = 0;
                    digest.update(current);
                    throttle(current.length);
                    if (last) {
                        permissions = c.permissions();
                    }
                    return c;
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
                                RemoteWire.Chunk c;
                                try {
                                    c = pull();
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                    throw new InterruptedIOException("interrupted while receiving a file");
                                }
                                if (c.last()) {
                                    if (c.error() != null) {
                                        throw new IOException("cannot read the source: " + c.error());
                                    }
                                    if (!MessageDigest.isEqual(c.sha256(), digest.digest())) {
                                        throw new IOException("the bytes received differ from the ones sent "
                                                + "(SHA-256 mismatch)");
                                    }
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

                /* --bwlimit: parks until the bytes received so far fit the rate, in slices (the run may stop) */
                private void throttle(int bytes) throws InterruptedException {
                    if (bwlimit <= 0) {
                        return;
                    }
                    throttled += bytes;
                    long due = throttleStart + (long) (throttled * 1e9 / bwlimit);
                    for (long wait; (wait = due - System.nanoTime()) > 0; ) {
                        if (stopped.get()) {
                            throw new ChannelClosedException("the run was stopped", null);
                        }
                        if (Thread.interrupted()) {
                            throw new InterruptedException("interrupted while throttled");
                        }
                        LockSupport.parkNanos(Math.min(wait, PARK_SLICE_NANOS));
                    }
                }
            }
        }
    }

    /** A wanted file, handed from the generator to the receiver. */
    private record Pending(long seq, Decision decision) {
    }

    /** The client broke the protocol: the run ends, the writer goes on. */
    static final class ProtocolException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ProtocolException(String message) {
            super(message);
        }
    }

    /* the smaller of two limits, 0 meaning none */
    private static long minLimit(long a, long b) {
        if (a <= 0) {
            return Math.max(b, 0);
        }
        return b <= 0 ? a : Math.min(a, b);
    }

    /* The generator never copies a file itself: those go to the receiver. */
    private static final LegacyWriter.Content NO_CONTENT = new LegacyWriter.Content() {
        @Override
        public InputStream open(FileJob job) throws IOException {
            throw new IOException("internal error: the generator has no file content");
        }

        @Override
        public Set<PosixFilePermission> permissions(FileJob job) {
            return null;
        }
    };
}
