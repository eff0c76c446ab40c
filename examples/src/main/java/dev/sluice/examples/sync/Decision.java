package dev.sluice.examples.sync;

import java.util.Objects;

/**
 * What the hashing stage decided for one {@link FileJob}: the item of the second channel.
 *
 * @param job the entry
 * @param action what the writer must do
 * @param sha256 the SHA-256 of the source file, when it was computed (the writer verifies its copy against it)
 * @param error why the entry failed ({@link Action#FAIL} only)
 */
record Decision(FileJob job, Action action, byte[] sha256, String error) {

    /** What the writer does with an entry. */
    enum Action {
        /** Create or replace the entry in DST. */
        COPY,
        /** DST is up to date. */
        SKIP,
        /** The content is equal (by checksum) but the modification time differs: set it. */
        TOUCH,
        /** The entry could not be read or compared; count it as failed. */
        FAIL
    }

    Decision {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(action, "action");
    }

    static Decision copy(FileJob job, byte[] sha256) {
        return new Decision(job, Action.COPY, sha256, null);
    }

    static Decision skip(FileJob job) {
        return new Decision(job, Action.SKIP, null, null);
    }

    static Decision touch(FileJob job) {
        return new Decision(job, Action.TOUCH, null, null);
    }

    static Decision fail(FileJob job, String error) {
        return new Decision(job, Action.FAIL, null, error);
    }

    @Override
    public String toString() {
        return action + " " + job;
    }
}
