package dev.sluice.examples.sync;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.FileVisitor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;

/**
 * Stage 1: a plain blocking directory walker ({@link Files#walkFileTree}) that sends one {@link FileJob} per entry.
 *
 * <p>It runs on its own platform thread and blocks in {@link Channel#send} whenever the pipeline is full: that is the
 * backpressure of the whole sync reaching the disk scan. Symbolic links are reported as links, never followed. When
 * the walk ends the channel is closed (the hashers drain it, then complete); when the root itself cannot be walked it
 * is failed. A cancelled channel makes {@code send} throw, which ends the walk at once.
 */
final class TreeWalker implements Runnable {
    private final Path root;
    private final Channel<FileJob> out;
    private final Counters counters;
    private final AtomicBoolean cancelled;
    private final Set<Path> seen;
    private final Consumer<String> notices;
    private final AtomicInteger errors = new AtomicInteger();

    /**
     * @param seen where to record every relative path found (for {@code --delete}), or {@code null}
     * @param notices where to report entries that are skipped (sockets, devices, FIFOs)
     */
    TreeWalker(Path root, Channel<FileJob> out, Counters counters, AtomicBoolean cancelled, Set<Path> seen,
            Consumer<String> notices) {
        this.root = root;
        this.out = out;
        this.counters = counters;
        this.cancelled = cancelled;
        this.seen = seen;
        this.notices = notices;
    }

    /** How many entries could not be read: {@code --delete} is skipped when this is not 0, as rsync does. */
    int errors() {
        return errors.get();
    }

    @Override
    public void run() {
        try {
            Files.walkFileTree(root, EnumSet.noneOf(java.nio.file.FileVisitOption.class), Integer.MAX_VALUE,
                    new Visitor());
            counters.scanComplete = true;
            out.close(); // graceful: the hashers drain what is buffered, then complete
        } catch (Stop stop) {
            // cancelled: the channel is already cancelled, nothing to close
        } catch (IOException | RuntimeException e) {
            errors.incrementAndGet();
            out.fail(e); // receivers drain, then see the failure
        }
    }

    private void send(FileJob job) {
        if (seen != null) {
            seen.add(job.relative());
        }
        try {
            out.send(job); // blocks while the pipeline is full
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stop();
        } catch (ChannelClosedException e) {
            throw new Stop();
        }
        if (job.isDirectory()) {
            counters.scannedDirs.increment();
        } else {
            counters.scannedFiles.increment();
            counters.scannedBytes.add(job.size());
        }
    }

    private FileVisitResult next() {
        return cancelled.get() ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
    }

    /** Unwinds the walk when the run is cancelled. */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super("walk cancelled", null, false, false);
        }
    }

    private final class Visitor implements FileVisitor<Path> {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (!dir.equals(root)) {
                send(FileJob.dir(root.relativize(dir), attrs.lastModifiedTime()));
            }
            return next();
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            Path relative = root.relativize(file);
            if (attrs.isSymbolicLink()) {
                Path target;
                try {
                    target = Files.readSymbolicLink(file);
                } catch (IOException e) {
                    return visitFileFailed(file, e);
                }
                send(FileJob.link(relative, target, attrs.lastModifiedTime()));
            } else if (attrs.isRegularFile()) {
                send(FileJob.file(relative, attrs.size(), attrs.lastModifiedTime()));
            } else {
                counters.ignored.increment();
                notices.accept("skipping non-regular file " + relative);
            }
            return next();
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) {
            errors.incrementAndGet();
            send(FileJob.unreadable(root.relativize(file), Failures.describe(exc)));
            return next();
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) {
            if (exc != null) {
                errors.incrementAndGet();
                send(FileJob.unreadable(root.relativize(dir), Failures.describe(exc)));
            }
            return next();
        }
    }
}
