package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Generates the demo's source tree: a few thousand files of mixed sizes in nested directories, plus a few symbolic
 * links and empty files, all deterministic from a seed (names, sizes, contents and modification times).
 *
 * <p>Sizes: three in four files are small (up to 16 KiB), most others medium (16 to 256 KiB), a few large (1 to 2 MiB), scaled so
 * the tree holds about {@code targetBytes}. Contents are slices of one random 1 MiB block, each file with its own
 * header, so the files differ without costing much to make.
 */
final class SampleTree {
    static final long MIB = 1024 * 1024;
    /* the mean of pickSize at scale 1: 0.75 * 8.25 KiB + 0.23 * 136 KiB + 0.02 * 1536 KiB */
    private static final long MEAN_SIZE = 68 * 1024;

    private SampleTree() {
    }

    /** What was generated. */
    record Summary(int files, int links, int dirs, long bytes) {
    }

    static Summary generate(Path root, long seed, long targetBytes, BooleanSupplier cancelled) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] block = new byte[(int) MIB];
        random.nextBytes(block);
        int files = (int) Math.max(20, Math.min(20_000, targetBytes / MEAN_SIZE));
        long budget = targetBytes;
        int dirs;
        int links = 0;
        long bytes = 0;
        Instant base = Instant.parse("2024-01-01T00:00:00Z");
        Files.createDirectories(root);
        for (int i = 0; i < files; i++) {
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("sample generation cancelled");
            }
            Path dir = root.resolve("d" + (i % 17)).resolve("s" + (i % 5));
            if (i % 7 == 0) {
                dir = dir.resolve("deep" + (i % 3));
            }
            Files.createDirectories(dir);
            long remainingFiles = files - i;
            long size = pickSize(random, budget / remainingFiles);
            size = Math.max(0, Math.min(size, budget));
            if (i % 97 == 0) {
                size = 0; // a few empty files
            }
            Path file = dir.resolve(String.format("file-%04d.%s", i, i % 3 == 0 ? "bin" : i % 3 == 1 ? "dat" : "txt"));
            write(file, i, size, block, random);
            Files.setLastModifiedTime(file, FileTime.from(base.plusSeconds(random.nextLong(365L * 24 * 3600))));
            budget -= size;
            bytes += size;
            if (i % 211 == 5) {
                Path link = dir.resolve("link-" + i);
                Files.createSymbolicLink(link, file.getFileName()); // relative link into the same directory
                links++;
            }
        }
        Files.createDirectories(root.resolve("empty-dir"));
        try (var entries = Files.walk(root)) {
            dirs = (int) entries.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).count() - 1;
        }
        return new Summary(files, links, dirs, bytes);
    }

    /* Small most of the time, sometimes medium, rarely large; 'average' keeps the total near the budget. */
    private static long pickSize(SplittableRandom random, long average) {
        int roll = random.nextInt(100);
        double scale = Math.max(0.05, average / (double) MEAN_SIZE);
        long size;
        if (roll < 75) {
            size = 512 + random.nextLong(16 * 1024 - 512);
        } else if (roll < 98) {
            size = 16 * 1024 + random.nextLong(240 * 1024);
        } else {
            size = MIB + random.nextLong(MIB);
        }
        return (long) (size * scale);
    }

    private static void write(Path file, int index, long size, byte[] block, SplittableRandom random)
            throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            byte[] header = ("sluice sample file " + index + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            long left = size;
            int h = (int) Math.min(header.length, left);
            out.write(header, 0, h);
            left -= h;
            int offset = random.nextInt(block.length);
            while (left > 0) {
                int n = (int) Math.min(left, block.length - offset);
                out.write(block, offset, n);
                left -= n;
                offset = 0;
            }
        }
    }
}
