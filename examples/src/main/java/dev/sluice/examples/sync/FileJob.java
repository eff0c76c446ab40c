package dev.sluice.examples.sync;

import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * One entry of the source tree, as found by the walker: the item of the first channel.
 *
 * @param relative the path relative to SRC (and to DST)
 * @param kind what the walker found
 * @param size the size in bytes (0 for directories and links)
 * @param mtime the last-modified time, {@code null} for {@link Kind#UNREADABLE}
 * @param linkTarget the target of a symbolic link, else {@code null}
 * @param error why the entry could not be read ({@link Kind#UNREADABLE} only), else {@code null}
 */
record FileJob(Path relative, Kind kind, long size, FileTime mtime, Path linkTarget, String error) {

    /** What the walker found at a path. */
    enum Kind {
        /** A regular file. */
        FILE,
        /** A directory (other than the root). */
        DIR,
        /** A symbolic link, copied as a link and never followed. */
        LINK,
        /** An entry the walker could not read (for example a directory without read permission). */
        UNREADABLE
    }

    FileJob {
        Objects.requireNonNull(relative, "relative");
        Objects.requireNonNull(kind, "kind");
    }

    static FileJob file(Path relative, long size, FileTime mtime) {
        return new FileJob(relative, Kind.FILE, size, mtime, null, null);
    }

    static FileJob dir(Path relative, FileTime mtime) {
        return new FileJob(relative, Kind.DIR, 0, mtime, null, null);
    }

    static FileJob link(Path relative, Path target, FileTime mtime) {
        return new FileJob(relative, Kind.LINK, 0, mtime, target, null);
    }

    static FileJob unreadable(Path relative, String error) {
        return new FileJob(relative, Kind.UNREADABLE, 0, null, null, error);
    }

    /** Directories are counted apart from files in the summary. */
    boolean isDirectory() {
        return kind == Kind.DIR;
    }

    @Override
    public String toString() {
        return kind + " " + relative;
    }
}
