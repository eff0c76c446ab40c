package dev.sluice.examples.sync;

import java.util.Objects;

/**
 * What the writer did with one entry: the item of the last channel, counted by the summary.
 *
 * @param job the entry
 * @param status the result
 * @param bytesWritten bytes written into DST (0 unless a file was copied)
 * @param error why it failed ({@link Status#FAILED} only)
 */
record Outcome(FileJob job, Status status, long bytesWritten, String error) {

    /** The result for one entry. */
    enum Status {
        /** Created or replaced in DST (or, with {@code --dry-run}, would have been). */
        COPIED,
        /** Already up to date. */
        SKIPPED,
        /** Content already equal; only the modification time was set. Counted as skipped. */
        TOUCHED,
        /** Could not be read, compared or written. */
        FAILED
    }

    Outcome {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(status, "status");
    }

    static Outcome copied(FileJob job, long bytes) {
        return new Outcome(job, Status.COPIED, bytes, null);
    }

    static Outcome skipped(FileJob job) {
        return new Outcome(job, Status.SKIPPED, 0, null);
    }

    static Outcome touched(FileJob job) {
        return new Outcome(job, Status.TOUCHED, 0, null);
    }

    static Outcome failed(FileJob job, String error) {
        return new Outcome(job, Status.FAILED, 0, error);
    }
}
