package dev.sluice.examples.sync;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** {@code --delete}: removes from DST what the walker did not find in SRC. Never follows links. */
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
        long[] deleted = {0};
        Files.walkFileTree(target, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                Path relative = target.relativize(dir);
                if (dir.equals(target) || keep.contains(relative)) {
                    return FileVisitResult.CONTINUE;
                }
                remove(dir, relative);
                return FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                Path relative = target.relativize(file);
                if (!keep.contains(relative)) {
                    remove(file, relative);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                failures.accept(target.relativize(file), Failures.describe(exc));
                return FileVisitResult.CONTINUE;
            }

            private void remove(Path path, Path relative) {
                try {
                    long n = dryRun ? count(path) : deleteTree(path);
                    deleted[0] += n;
                    notices.accept((dryRun ? "would delete " : "deleted ") + relative
                            + (n > 1 ? " (" + n + " entries)" : ""));
                } catch (IOException e) {
                    failures.accept(relative, "cannot delete: " + Failures.describe(e));
                }
            }
        });
        return deleted[0];
    }

    /**
     * Deletes a file, a link or a whole directory tree, without following links.
     *
     * @return how many entries were deleted
     */
    static long deleteTree(Path root) throws IOException {
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return Files.deleteIfExists(root) ? 1 : 0;
        }
        long[] deleted = {0};
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                deleted[0]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                deleted[0]++;
                return FileVisitResult.CONTINUE;
            }
        });
        return deleted[0];
    }

    private static long count(Path root) throws IOException {
        try (var entries = Files.walk(root)) {
            return entries.count();
        }
    }
}
