package dev.sluice.examples.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * {@code --delete}: removes from DST what the walker did not find in SRC. Never follows links: it walks DST through
 * {@link TargetDir} handles, so a link in DST (to a directory outside DST, say) is deleted as a link and never
 * entered, and a directory swapped for a link while it runs is not entered either.
 */
final class Deletion {
    private Deletion() {
    }

    /**
     * Deletes every entry under {@code target} whose relative path is not in {@code keep}.
     *
     * @param notices receives one line per deleted (or, in a dry run, deletable) entry
     * @param failures receives the path and reason of each entry that could not be deleted
     * @return how many entries were (or would be) deleted, directories' contents included
     */
    static long extraneous(Path target, Set<Path> keep, boolean dryRun, Consumer<String> notices,
            BiConsumer<Path, String> failures) throws IOException {
        try (TargetDir root = TargetDir.open(target)) {
            return extraneous(root, null, keep, dryRun, notices, failures);
        }
    }

    private static long extraneous(TargetDir dir, Path relativeDir, Set<Path> keep, boolean dryRun,
            Consumer<String> notices, BiConsumer<Path, String> failures) {
        long deleted = 0;
        java.util.List<Path> names; // as Paths: a name's bytes exactly, so that keep.contains finds it
        try {
            names = dir.list();
        } catch (IOException e) {
            failures.accept(relativeDir == null ? Path.of("") : relativeDir, Failures.describe(e));
            return 0;
        }
        for (Path name : names) {
            Path relative = relativeDir == null ? name : relativeDir.resolve(name);
            try {
                BasicFileAttributes attrs = dir.stat(name);
                if (attrs == null) {
                    continue; // vanished
                }
                if (!keep.contains(relative)) {
                    long n = dryRun ? count(dir, name, attrs) : deleteTree(dir, name);
                    deleted += n;
                    notices.accept((dryRun ? "would delete " : "deleted ") + relative
                            + (n > 1 ? " (" + n + " entries)" : ""));
                } else if (attrs.isDirectory()) {
                    try (TargetDir sub = dir.openDir(name)) { // O_NOFOLLOW: a link is never entered
                        deleted += extraneous(sub, relative, keep, dryRun, notices, failures);
                    }
                }
            } catch (IOException e) {
                failures.accept(relative, "cannot delete: " + Failures.describe(e));
            }
        }
        return deleted;
    }

    /**
     * Deletes {@code name} in {@code parent}: a file, a link (never what it points to) or a whole directory tree.
     *
     * @return how many entries were deleted
     */
    static long deleteTree(TargetDir parent, Path name) throws IOException {
        BasicFileAttributes attrs = parent.stat(name);
        if (attrs == null) {
            return 0;
        }
        if (!attrs.isDirectory()) {
            parent.deleteFile(name);
            return 1;
        }
        long deleted = 0;
        try (TargetDir dir = parent.openDir(name)) {
            for (Path child : dir.list()) {
                deleted += deleteTree(dir, child);
            }
        }
        parent.deleteDirectory(name);
        return deleted + 1;
    }

    /**
     * Deletes a file, a link or a whole directory tree, without following links below {@code root} (for the demo's
     * own temporary directory).
     *
     * @return how many entries were deleted
     */
    static long deleteTree(Path root) throws IOException {
        Path absolute = root.toAbsolutePath();
        try (TargetDir parent = TargetDir.open(absolute.getParent())) {
            return deleteTree(parent, absolute.getFileName());
        }
    }

    private static long count(TargetDir parent, Path name, BasicFileAttributes attrs) throws IOException {
        if (!attrs.isDirectory()) {
            return 1;
        }
        long n = 1;
        try (TargetDir dir = parent.openDir(name)) {
            for (Path child : dir.list()) {
                BasicFileAttributes childAttrs = dir.stat(child);
                if (childAttrs != null) {
                    n += count(dir, child, childAttrs);
                }
            }
        }
        return n;
    }
}
