package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stage 2, the work of one hashing task: decides what to do with a {@link FileJob}.
 *
 * <p>Like rsync: without {@code --checksum} a file whose size and modification time match DST is skipped without
 * reading it (the "quick check"); otherwise the source is hashed with SHA-256, which the writer checks its copy
 * against. With {@code --checksum} a file of equal size is hashed on both sides and copied only if the digests differ.
 * Runs on the hashing scheduler, many at once; it blocks on disk reads, so that scheduler is a bounded-elastic one,
 * never Reactor's non-blocking {@code parallel()} threads. I/O errors become {@link Decision.Action#FAIL} decisions:
 * one unreadable file never stops the run.
 *
 * <p>DST is read through a {@link TargetDir}, never following a link in a parent: an entry below a link or a file in
 * DST is absent (so it is copied, and the writer replaces that link or file by a directory), however up to date the
 * file the link leads to may look. A path that is not a plain relative path fails without DST being read.
 */
final class Planner {
    private final Path source;
    private final Path target;
    private final SyncOptions options;
    private final AtomicBoolean cancelled;

    Planner(Path source, Path target, SyncOptions options, AtomicBoolean cancelled) {
        this.source = source;
        this.target = target;
        this.options = options;
        this.cancelled = cancelled;
    }

    /**
     * A planner whose DST is in another process ({@code --remote}): it cannot see DST, so every entry is offered as a
     * copy and the remote writer decides with {@link #atTarget}. Files are hashed only with {@code --checksum} (the
     * writer compares the hash with its copy's); otherwise the content is hashed once, while it is sent, and only if
     * the writer asks for it.
     */
    static Planner remote(Path source, SyncOptions options, AtomicBoolean cancelled) {
        return new Planner(source, null, options, cancelled);
    }

    Decision decide(FileJob job) {
        try {
            if (job.kind() != FileJob.Kind.UNREADABLE) {
                TargetDir.checked(job.relative());
            }
            if (target == null) {
                return switch (job.kind()) {
                    case UNREADABLE -> Decision.fail(job, job.error());
                    case DIR, LINK -> Decision.copy(job, null);
                    case FILE -> Decision.copy(job, options.checksum()
                            ? Sha256.of(source.resolve(job.relative()), cancelled::get) : null);
                };
            }
            return switch (job.kind()) {
                case UNREADABLE -> Decision.fail(job, job.error());
                case DIR -> decideDirectory(job);
                case LINK -> decideLink(job);
                case FILE -> decideFile(job);
            };
        } catch (IOException | UncheckedIOException e) {
            return Decision.fail(job, Failures.describe(e));
        }
    }

    /**
     * The remote writer's decision (rsync's generator) for an entry offered by a {@code --remote} sender, against DST
     * in this process. A file of equal size and modification time is skipped; with {@code --checksum} a file of equal
     * size is compared by SHA-256 with the one the sender computed ({@code remote.sha256()}) and skipped or touched
     * when equal. Anything else is the offered copy. Directories and links are decided as in a local run.
     *
     * @param target DST, in this process
     * @param options the run's options (the sender's {@code --checksum}, {@code --dry-run}, {@code --delete})
     * @param remote the offer as a copy decision, with the source's SHA-256 if the sender sent one
     * @param cancelled stops a long hash
     */
    static Decision atTarget(Path target, SyncOptions options, Decision remote, AtomicBoolean cancelled) {
        FileJob job = remote.job();
        if (remote.action() != Decision.Action.COPY) {
            return remote;
        }
        Planner planner = new Planner(null, target, options, cancelled);
        try {
            if (job.kind() != FileJob.Kind.UNREADABLE) {
                TargetDir.checked(job.relative());
            }
            return switch (job.kind()) {
                case DIR -> planner.decideDirectory(job);
                case LINK -> planner.decideLink(job);
                case FILE -> {
                    BasicFileAttributes attrs = planner.destination(job);
                    if (attrs == null || !attrs.isRegularFile() || attrs.size() != job.size()) {
                        yield remote;
                    }
                    if (!options.checksum()) {
                        yield sameTime(attrs.lastModifiedTime(), job.mtime()) ? Decision.skip(job) : remote;
                    }
                    if (remote.sha256() == null || !MessageDigest.isEqual(remote.sha256(),
                            planner.targetHash(job))) {
                        yield remote;
                    }
                    yield sameTime(attrs.lastModifiedTime(), job.mtime()) ? Decision.skip(job) : Decision.touch(job);
                }
                case UNREADABLE -> Decision.fail(job, job.error());
            };
        } catch (IOException | UncheckedIOException e) {
            return Decision.fail(job, Failures.describe(e));
        }
    }

    private Decision decideDirectory(FileJob job) throws IOException {
        BasicFileAttributes dest = destination(job);
        return dest != null && dest.isDirectory() ? Decision.skip(job) : Decision.copy(job, null);
    }

    private Decision decideLink(FileJob job) throws IOException {
        BasicFileAttributes dest = destination(job);
        if (dest != null && dest.isSymbolicLink() && TargetDir.readLink(target, job.relative())
                .equals(job.linkTarget())) {
            return Decision.skip(job);
        }
        return Decision.copy(job, null);
    }

    /* What DST has at the entry's path, not following links (a parent that is a link means: nothing). */
    private BasicFileAttributes destination(FileJob job) throws IOException {
        return TargetDir.lookup(target, job.relative());
    }

    private Decision decideFile(FileJob job) throws IOException {
        Path src = source.resolve(job.relative());
        BasicFileAttributes dest = destination(job);
        if (dest == null || !dest.isRegularFile() || dest.size() != job.size()) {
            return Decision.copy(job, hashForCopy(src));
        }
        if (!options.checksum()) {
            return sameTime(dest.lastModifiedTime(), job.mtime())
                    ? Decision.skip(job) : Decision.copy(job, hashForCopy(src));
        }
        byte[] srcHash = Sha256.of(src, cancelled::get);
        if (!MessageDigest.isEqual(srcHash, targetHash(job))) {
            return Decision.copy(job, srcHash);
        }
        return sameTime(dest.lastModifiedTime(), job.mtime()) ? Decision.skip(job) : Decision.touch(job);
    }

    /* The SHA-256 of the entry's file in DST, read without following links. */
    private byte[] targetHash(FileJob job) throws IOException {
        try (TargetDir dst = TargetDir.open(target); InputStream in = dst.openFile(job.relative())) {
            return Sha256.of(in, job.relative(), cancelled::get);
        }
    }

    /* A dry run copies nothing, so it has nothing to verify: it reads the source only to hash with --checksum. */
    private byte[] hashForCopy(Path src) throws IOException {
        return options.dryRun() ? null : Sha256.of(src, cancelled::get);
    }

    /* Millisecond precision: what every file system we copy between can store. */
    static boolean sameTime(FileTime a, FileTime b) {
        return a.toMillis() == b.toMillis();
    }
}
