package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import dev.sluice.ChannelIterator;
import dev.sluice.ChannelSender;

/**
 * Stage 3: the "legacy" writer, plain blocking code that knows nothing of Reactor.
 *
 * <p>It is run by {@code ReactorChannels.throughBlocking}: one thread iterates the decisions with a blocking
 * {@link ChannelIterator} and sends one {@link Outcome} per decision with a blocking {@link ChannelSender#send}. A file
 * is written to a temporary file beside its destination (registered in {@code tempFiles} until it is moved), checked
 * against the SHA-256 computed by the hashers, given the source's modification time and permissions, then renamed
 * over the destination with {@link StandardCopyOption#ATOMIC_MOVE}: DST never holds a partial file under a real name.
 * Cancellation is checked before each item and after each 64 KiB chunk, so the writer stops within a chunk's time.
 */
final class LegacyWriter {
    private static final long PARK_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final AtomicLong TEMP_SEQUENCE = new AtomicLong();

    private final Content content;
    private final Path target;
    private final SyncOptions options;
    private final AtomicBoolean cancelled;
    private final Set<Path> tempFiles;
    private final LongAdder createdDirs;
    private long throttleStart;
    private long throttledBytes;

    /**
     * @param createdDirs counts the directories this writer creates, whether for a directory entry or as the parent
     *        of a file (the hashers may hand a file over before its directory: their order is not the walk's)
     */
    LegacyWriter(Path source, Path target, SyncOptions options, AtomicBoolean cancelled, Set<Path> tempFiles,
            LongAdder createdDirs) {
        this(Content.local(source), target, options, cancelled, tempFiles, createdDirs);
    }

    /** A writer whose file contents come from {@code content} (the remote writer's chunks). */
    LegacyWriter(Content content, Path target, SyncOptions options, AtomicBoolean cancelled, Set<Path> tempFiles,
            LongAdder createdDirs) {
        this.content = content;
        this.target = target;
        this.options = options;
        this.cancelled = cancelled;
        this.tempFiles = tempFiles;
        this.createdDirs = createdDirs;
    }

    /** The blocking stage: iterate, write, send the outcome. */
    void run(ChannelIterator<Decision> in, ChannelSender<Outcome> out) throws InterruptedException {
        throttleStart = System.nanoTime();
        while (in.hasNext()) {
            Decision decision = in.next();
            checkCancelled();
            out.send(write(decision)); // blocks while the summary is behind
        }
    }

    Outcome write(Decision decision) {
        FileJob job = decision.job();
        try {
            return switch (decision.action()) {
                case FAIL -> Outcome.failed(job, decision.error());
                case SKIP -> Outcome.skipped(job);
                case TOUCH -> {
                    if (!options.dryRun()) {
                        Files.setLastModifiedTime(target.resolve(job.relative()), job.mtime());
                    }
                    yield Outcome.touched(job);
                }
                case COPY -> options.dryRun() ? dryCopy(job) : copy(decision);
            };
        } catch (IOException | UncheckedIOException e) {
            return Outcome.failed(job, Failures.describe(e));
        }
    }

    private Outcome dryCopy(FileJob job) {
        if (job.isDirectory()) {
            createdDirs.increment(); // would be created
        }
        return Outcome.copied(job, 0);
    }

    private Outcome copy(Decision decision) throws IOException {
        FileJob job = decision.job();
        Path dest = target.resolve(job.relative());
        switch (job.kind()) {
            case DIR -> {
                if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)
                        && !Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
                    clearWay(dest);
                }
                makeDirectories(dest);
                return Outcome.copied(job, 0);
            }
            case LINK -> {
                Path tmp = prepare(dest);
                try {
                    Files.createSymbolicLink(tmp, job.linkTarget());
                    setLinkTime(tmp, job);
                    Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    discard(tmp);
                }
                return Outcome.copied(job, 0);
            }
            case FILE -> {
                Path tmp = prepare(dest);
                try {
                    long written = copyVerified(job, tmp, decision.sha256());
                    setPermissions(content.permissions(job), tmp);
                    Files.setLastModifiedTime(tmp, job.mtime());
                    Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces dest atomically
                    return Outcome.copied(job, written);
                } finally {
                    discard(tmp);
                }
            }
            default -> throw new IllegalStateException("cannot copy " + job);
        }
    }

    /* Makes the parent directory, clears a directory in the way and registers a fresh temporary name. */
    private Path prepare(Path dest) throws IOException {
        makeDirectories(dest.getParent());
        if (Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
            clearWay(dest);
        }
        Path tmp = dest.resolveSibling("." + dest.getFileName() + ".sluice-" + TEMP_SEQUENCE.incrementAndGet()
                + ".tmp");
        tempFiles.add(tmp);
        return tmp;
    }

    /* Files.createDirectories, counting what it creates. */
    private void makeDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            makeDirectories(parent);
        }
        try {
            Files.createDirectory(dir);
            createdDirs.increment();
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private void discard(Path tmp) throws IOException {
        try {
            Files.deleteIfExists(tmp); // nothing left after a successful move
        } finally {
            tempFiles.remove(tmp);
        }
    }

    /* An entry of another type is in the way: only --delete may remove it (rsync needs --delete or --force too). */
    private void clearWay(Path dest) throws IOException {
        if (!options.delete()) {
            throw new IOException(Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)
                    ? "a directory is in the way in DST (use --delete to replace it)"
                    : "a file is in the way in DST (use --delete to replace it)");
        }
        Deletion.deleteTree(dest);
    }

    private long copyVerified(FileJob job, Path tmp, byte[] expected) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        byte[] chunk = new byte[Sha256.CHUNK];
        long written = 0;
        try (InputStream in = content.open(job);
             OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int n; (n = in.read(chunk)) >= 0; ) {
                checkCancelled();
                digest.update(chunk, 0, n);
                out.write(chunk, 0, n);
                written += n;
                throttle(n);
            }
        }
        if (expected != null && !MessageDigest.isEqual(expected, digest.digest())) {
            throw new IOException("source changed while it was copied (SHA-256 differs from the one hashed)");
        }
        return written;
    }

    private static void setPermissions(Set<PosixFilePermission> permissions, Path tmp) throws IOException {
        PosixFileAttributeView to = Files.getFileAttributeView(tmp, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        if (permissions != null && to != null) {
            to.setPermissions(permissions);
        }
    }

    /** Where a copied file's bytes and permissions come from: SRC in this process, or a remote sender's chunks. */
    interface Content {

        /** The bytes of a file entry, read once from start to end. */
        InputStream open(FileJob job) throws IOException;

        /** Its POSIX permissions, or {@code null} to leave the new file's defaults. */
        Set<PosixFilePermission> permissions(FileJob job) throws IOException;

        /** SRC in this process. */
        static Content local(Path source) {
            return new Content() {
                @Override
                public InputStream open(FileJob job) throws IOException {
                    return Files.newInputStream(source.resolve(job.relative()), LinkOption.NOFOLLOW_LINKS);
                }

                @Override
                public Set<PosixFilePermission> permissions(FileJob job) throws IOException {
                    return posixPermissions(source.resolve(job.relative()));
                }
            };
        }
    }

    /** The POSIX permissions of a file, or {@code null} on a file system without them. */
    static Set<PosixFilePermission> posixPermissions(Path file) throws IOException {
        PosixFileAttributeView from = Files.getFileAttributeView(file, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        return from == null ? null : from.readAttributes().permissions();
    }

    private static void setLinkTime(Path link, FileJob job) {
        try {
            Files.getFileAttributeView(link, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(job.mtime(), null, null);
        } catch (IOException | UnsupportedOperationException e) {
            // a link's own time cannot be set on every platform: the link itself is what matters
        }
    }

    /* --bwlimit: parks until the bytes written so far fit the rate, in slices so that cancellation is seen. */
    private void throttle(int bytes) {
        long rate = options.bwlimitBytesPerSecond();
        if (rate <= 0) {
            return;
        }
        throttledBytes += bytes;
        long due = throttleStart + (long) (throttledBytes * 1e9 / rate);
        for (long wait; (wait = due - System.nanoTime()) > 0; ) {
            checkCancelled();
            LockSupport.parkNanos(Math.min(wait, PARK_SLICE_NANOS));
        }
    }

    private void checkCancelled() {
        if (cancelled.get() || Thread.currentThread().isInterrupted()) {
            throw new CancellationException("sync cancelled");
        }
    }
}
