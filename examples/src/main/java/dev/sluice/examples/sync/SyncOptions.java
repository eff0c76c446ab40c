package dev.sluice.examples.sync;

/**
 * The settings of one sync run, checked by {@link SluiceSync} before a pipeline is built.
 *
 * @param capacity the capacity of each channel, at least 1
 * @param parallelism how many files are hashed at once, at least 1
 * @param checksum compare by SHA-256 instead of the size-and-mtime quick check
 * @param dryRun decide and report, but write and delete nothing
 * @param delete remove entries of DST that are not in SRC
 * @param bwlimitBytesPerSecond the writer's bandwidth limit, 0 for none
 * @param progress how progress is shown
 * @param progressIntervalMillis how often progress is shown
 */
record SyncOptions(int capacity, int parallelism, boolean checksum, boolean dryRun, boolean delete,
        long bwlimitBytesPerSecond, Progress.Mode progress, long progressIntervalMillis) {

    SyncOptions {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 but was " + capacity);
        }
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be >= 1 but was " + parallelism);
        }
        if (bwlimitBytesPerSecond < 0) {
            throw new IllegalArgumentException("bwlimit must be >= 0 but was " + bwlimitBytesPerSecond);
        }
        if (progressIntervalMillis < 1) {
            throw new IllegalArgumentException("progressIntervalMillis must be >= 1 but was "
                    + progressIntervalMillis);
        }
    }

    /** Defaults for tests: capacity 64, parallelism 2, quick check, no progress output. */
    static SyncOptions defaults() {
        return new SyncOptions(64, 2, false, false, false, 0, Progress.Mode.NONE, 1000);
    }

    SyncOptions withCapacity(int newCapacity) {
        return new SyncOptions(newCapacity, parallelism, checksum, dryRun, delete, bwlimitBytesPerSecond, progress,
                progressIntervalMillis);
    }

    SyncOptions withChecksum(boolean newChecksum) {
        return new SyncOptions(capacity, parallelism, newChecksum, dryRun, delete, bwlimitBytesPerSecond, progress,
                progressIntervalMillis);
    }

    SyncOptions withDelete(boolean newDelete) {
        return new SyncOptions(capacity, parallelism, checksum, dryRun, newDelete, bwlimitBytesPerSecond, progress,
                progressIntervalMillis);
    }

    SyncOptions withDryRun(boolean newDryRun) {
        return new SyncOptions(capacity, parallelism, checksum, newDryRun, delete, bwlimitBytesPerSecond, progress,
                progressIntervalMillis);
    }

    SyncOptions withBwlimit(long bytesPerSecond) {
        return new SyncOptions(capacity, parallelism, checksum, dryRun, delete, bytesPerSecond, progress,
                progressIntervalMillis);
    }

    String describe() {
        return "capacity " + capacity + ", parallelism " + parallelism + ", " + (checksum ? "checksum" : "quick check")
                + (dryRun ? ", dry run" : "") + (delete ? ", delete" : "")
                + (bwlimitBytesPerSecond > 0 ? ", bwlimit " + Units.bytes(bwlimitBytesPerSecond) + "/s" : "");
    }
}
