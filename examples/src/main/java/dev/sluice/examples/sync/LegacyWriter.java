package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.Objects;
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
 * over the destination (rename(2), atomic): DST never holds a partial file under a real name. Cancellation is checked
 * before each item and after each 64 KiB chunk, so the writer stops within a chunk's time.
 *
 * <p>Nothing is written outside DST: every entry path must be a plain relative path ({@link TargetDir#refusal}, else
 * the entry fails and nothing is touched), and every step goes through a {@link TargetDir}, which opens each parent
 * without following a link. Where SRC has a directory and DST has a link or a file (a stale one, or a link a remote
 * client sent just before), that entry is replaced by the directory, as {@code rsync -a} does; a link is never used
 * as a parent.
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
    /*
     * While run() runs (the writer thread only): DST, open, and the parent directory of the last entry copied, kept
     * for the next entry when it is the same and still in place (the walker sends a directory's entries together):
     * opening each parent again costs about seven system calls per level. write() called alone (the remote writer)
     * opens DST and the parent for each entry.
     */
    private TargetDir runRoot;
    private Path cachedParentPath;
    private TargetDir cachedParent;

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
        try {
            runRoot = TargetDir.open(target);
        } catch (IOException e) {
            runRoot = null; // each entry then tries itself, and fails with the reason
        }
        try {
            while (in.hasNext()) {
                Decision decision = in.next();
                checkCancelled();
                out.send(write(decision)); // blocks while the summary is behind
            }
        } finally {
            dropCachedParent();
            closeQuietly(runRoot);
            runRoot = null;
        }
    }

    Outcome write(Decision decision) {
        FileJob job = decision.job();
        try {
            if (decision.action() != Decision.Action.FAIL && decision.action() != Decision.Action.SKIP) {
                TargetDir.checked(job.relative()); // refused, never normalized: nothing is touched
            }
            return switch (decision.action()) {
                case FAIL -> Outcome.failed(job, decision.error());
                case SKIP -> Outcome.skipped(job);
                case TOUCH -> {
                    if (!options.dryRun()) {
                        touch(job);
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

    private void touch(FileJob job) throws IOException {
        if (runRoot != null) {
            touch(runRoot, job);
            return;
        }
        try (TargetDir dst = TargetDir.open(target)) {
            touch(dst, job);
        }
    }

    private void touch(TargetDir dst, FileJob job) throws IOException {
        try (TargetDir parent = dst.find(job.relative().getParent())) {
            if (parent == null) {
                throw new NoSuchFileException(target.resolve(job.relative()).toString());
            }
            parent.setModifiedTime(job.relative().getFileName(), job.mtime());
        }
    }

    private Outcome copy(Decision decision) throws IOException {
        Path parentPath = decision.job().relative().getParent();
        if (runRoot == null) {
            try (TargetDir dst = TargetDir.open(target); TargetDir parent = dst.makeDirs(parentPath, createdDirs)) {
                return copy(decision, parent);
            }
        }
        if (cachedParent == null || !Objects.equals(cachedParentPath, parentPath) || !cachedParent.stillInPlace()) {
            dropCachedParent();
            cachedParent = runRoot.makeDirs(parentPath, createdDirs);
            cachedParentPath = parentPath;
        }
        try {
            return copy(decision, cachedParent);
        } catch (IOException | RuntimeException e) {
            dropCachedParent(); // the next entry walks down from DST again
            throw e;
        }
    }

    /* In parent: only children of parent are replaced or deleted, so a kept parent stays valid. */
    private Outcome copy(Decision decision, TargetDir parent) throws IOException {
        FileJob job = decision.job();
        Path name = job.relative().getFileName(); // a Path, not a String: the name's bytes exactly
        switch (job.kind()) {
            case DIR -> {
                parent.makeDirs(job.relative().getFileName(), createdDirs).close(); // replaces a link or file
                return Outcome.copied(job, 0);
            }
            case LINK -> {
                clearDirectory(parent, name);
                Path tmp = temporaryName(parent, name);
                try {
                    parent.createLink(tmp, job.linkTarget(), job.mtime());
                    parent.rename(tmp, name);
                } finally {
                    discard(parent, tmp);
                }
                return Outcome.copied(job, 0);
            }
            case FILE -> {
                clearDirectory(parent, name);
                Path tmp = temporaryName(parent, name);
                try {
                    long written = copyVerified(job, parent, tmp, decision.sha256());
                    // the time first: both open the file, and new permissions may no longer let it be read
                    parent.setModifiedTime(tmp, job.mtime());
                    parent.setPermissions(tmp, content.permissions(job));
                    parent.rename(tmp, name); // rename(2): replaces a file or link at name atomically
                    return Outcome.copied(job, written);
                } finally {
                    discard(parent, tmp);
                }
            }
            default -> throw new IllegalStateException("cannot copy " + job);
        }
    }

    private void dropCachedParent() {
        closeQuietly(cachedParent);
        cachedParent = null;
        cachedParentPath = null;
    }

    private static void closeQuietly(TargetDir dir) {
        if (dir != null) {
            try {
                dir.close();
            } catch (IOException e) {
                // a directory descriptor: nothing was written through close
            }
        }
    }

    /*
     * Registers a fresh temporary name beside the destination: unique by its number, so the name's text (where bytes
     * that are not valid in the platform charset read as U+FFFD) is only there for people.
     */
    private Path temporaryName(TargetDir parent, Path name) {
        Path tmp = name.getFileSystem().getPath("." + name + ".sluice-" + TEMP_SEQUENCE.incrementAndGet() + ".tmp");
        tempFiles.add(parent.pathOf(tmp));
        return tmp;
    }

    private void discard(TargetDir parent, Path tmp) throws IOException {
        try {
            parent.deleteFileIfExists(tmp); // nothing left after a successful rename
        } finally {
            tempFiles.remove(parent.pathOf(tmp));
        }
    }

    /*
     * A directory where SRC has a file or link: only --delete may remove it (rsync needs --delete or --force too).
     * A link to a directory is not a directory here: the rename replaces the link itself.
     */
    private void clearDirectory(TargetDir parent, Path name) throws IOException {
        BasicFileAttributes attrs = parent.stat(name);
        if (attrs == null || !attrs.isDirectory()) {
            return;
        }
        if (!options.delete()) {
            throw new IOException("a directory is in the way in DST (use --delete to replace it)");
        }
        Deletion.deleteTree(parent, name);
    }

    /**
     * Deletes a temporary file registered in {@code tempFiles} (a path below {@code target}) without following a
     * link: the cleanup after a cancel or a failure.
     */
    static void removeTempFile(Path target, Path tmp) throws IOException {
        try (TargetDir dst = TargetDir.open(target)) {
            dst.deleteFileIfExists(target.relativize(tmp));
        }
    }

    private long copyVerified(FileJob job, TargetDir parent, Path tmp, byte[] expected) throws IOException {
        MessageDigest digest = Sha256.newDigest();
        byte[] chunk = new byte[Sha256.CHUNK];
        long written = 0;
        try (InputStream in = content.open(job);
             OutputStream out = parent.createFile(tmp)) { // O_CREAT | O_EXCL | O_NOFOLLOW
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
