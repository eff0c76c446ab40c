package dev.sluice.examples.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.TreeMap;

/** Small test trees and a byte-level comparison of two trees. */
final class Trees {
    private Trees() {
    }

    /** A deterministic tree of about {@code kib} KiB: nested directories, mixed sizes, links, an empty directory. */
    static SampleTree.Summary sample(Path root, long seed, long kib) throws IOException {
        return SampleTree.generate(root, seed, kib * 1024, () -> false);
    }

    /**
     * Describes every entry under {@code root} (not following links): "dir", "link -> target", or
     * "file size sha256 mtime-millis".
     */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (!dir.equals(root)) {
                    entries.put(root.relativize(dir).toString(), "dir");
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String key = root.relativize(file).toString();
                if (attrs.isSymbolicLink()) {
                    entries.put(key, "link -> " + Files.readSymbolicLink(file));
                } else {
                    entries.put(key, "file " + attrs.size() + " " + Sha256.hex(Sha256.of(file, () -> false)) + " "
                            + attrs.lastModifiedTime().toMillis());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return entries;
    }

    /** Same relative paths, same kinds, same bytes, same link targets, same modification times. */
    static void assertIdentical(Path expected, Path actual) throws IOException {
        assertEquals(describe(expected), describe(actual), "trees differ: " + expected + " vs " + actual);
    }

    /** Regular files whose name marks them as the writer's temporary files. */
    static long tempFiles(Path root) throws IOException {
        try (var entries = Files.walk(root)) {
            return entries.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS))
                    .filter(p -> p.getFileName().toString().matches("\\..*\\.sluice-\\d+\\.tmp"))
                    .count();
        }
    }

    /** {@link #tempFiles}, 0 if {@code root} does not exist (yet), for polling. */
    static long tempFilesUnchecked(Path root) {
        try {
            return Files.isDirectory(root) ? tempFiles(root) : 0;
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0; // a file vanished during the walk: ask again
        }
    }

    /** Every regular file of {@code partial} is complete: equal to the file at the same path in {@code source}. */
    static int assertOnlyCompleteFiles(Path source, Path partial) throws IOException {
        Map<String, String> src = describe(source);
        Map<String, String> dst = describe(partial);
        int files = 0;
        for (Map.Entry<String, String> e : dst.entrySet()) {
            if (e.getValue().startsWith("file ")) {
                assertEquals(src.get(e.getKey()), e.getValue(), "incomplete or foreign file " + e.getKey());
                files++;
            }
        }
        return files;
    }
}
