package dev.sluice.examples.sync;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * One directory of DST, opened so that nothing below DST is ever reached through a symbolic link: every write of the
 * writer and every deletion of {@code --delete} goes through one of these, and the planner reads DST through its
 * static look-ups (below).
 *
 * <p>Not thread-safe as a handle (one thread opens, uses and closes it); the static methods are. Closing releases
 * the directory descriptor.
 *
 * <h2>Why descriptors, not checked paths</h2>
 *
 * A path such as {@code DST/a/f} is resolved by the kernel component by component, following every link on the way:
 * once {@code a} is a link (a stale one from an earlier run, or one a remote client has just sent), {@code f} lands
 * wherever it points. Checking each component with {@code NOFOLLOW_LINKS} first and then using the path leaves a
 * window between the check and the use in which a directory can be swapped for a link. So, where Java has it, this
 * class holds an open descriptor of the directory ({@link SecureDirectoryStream}; on Linux {@code openat},
 * {@code renameat}, {@code unlinkat}, {@code fstatat}, {@code futimens}) and descends one name at a time with
 * {@code O_NOFOLLOW}: a link in place of a directory fails the open instead of being followed, and every create,
 * rename, delete, chmod and utimes is made relative to the directory actually opened, with no window.
 *
 * <p>java.nio has no {@code mkdirat} or {@code symlinkat}, and setting a link's own time has no descriptor form
 * either. Those three steps use the directory's path, but only right after checking that the path still names the
 * very directory that is open (same device and inode): in the microseconds between that check and the call, a
 * concurrent swap can at worst create an empty directory or a new link at a fresh name through the swapped path (or
 * set the time of that new link); it can never replace, modify or delete an existing entry outside DST, and the new
 * entry is then not found through the descriptor, so the entry fails. Without {@link SecureDirectoryStream} (platforms
 * without {@code openat}) every operation takes that checked-path form.
 *
 * <p>The planner's quick check ({@link #lookup(Path, Path)}, {@link #readLink(Path, Path)}) only reads, and runs once
 * per entry of the tree: it checks each parent with {@code lstat} instead of opening it (an open costs about seven
 * system calls, an {@code lstat} one; measured on a 20,000-file re-run). A parent that is a link means the entry is
 * absent. A concurrent swap in the window can at most make it copy or skip one entry wrongly, like any quick check
 * racing a change; every write is made through descriptors regardless of what the planner saw.
 *
 * <h2>Names</h2>
 *
 * Only plain relative paths are accepted ({@link #refusal(Path)}): no absolute path, no empty, {@code .} or {@code ..}
 * component. They are refused, never normalized: {@code x/../y} is not {@code y} once {@code x} is a link.
 */
final class TargetDir implements Closeable {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    /** How often {@link #makeDirs} walks down again after another writer changed the same directories meanwhile. */
    static final int MAKE_DIRS_ATTEMPTS = 3;

    private final Path root;                         // DST as given: links in its own path are followed, as rsync does
    private final Path relative;                     // this directory below root; the empty path for root itself
    private final Path path;                         // root.resolve(relative), for messages and the path-only steps
    private final SecureDirectoryStream<Path> dir;   // the open directory, or null without openat
    private final boolean owner;                     // false: a borrowed view of another handle's descriptor
    private Object key;                              // its identity (device and inode), null if unknown; with a
                                                     // descriptor read (fstat) when first needed: it never changes

    private TargetDir(Path root, Path relative, SecureDirectoryStream<Path> dir, Object key, boolean owner) {
        this.root = root;
        this.relative = relative;
        this.path = root.resolve(relative);
        this.dir = dir;
        this.key = key;
        this.owner = owner;
    }

    /**
     * Opens DST itself. Links in {@code root}'s own path are followed (DST is the user's argument); nothing below it
     * is.
     */
    static TargetDir open(Path root) throws IOException {
        return open(root, true);
    }

    /** {@code descriptors == false}: the checked-path form only, as on a platform without openat (for tests). */
    static TargetDir open(Path root, boolean descriptors) throws IOException {
        Path empty = root.getFileSystem().getPath("");
        if (descriptors) {
            DirectoryStream<Path> stream = Files.newDirectoryStream(root);
            if (stream instanceof SecureDirectoryStream<Path> secure) {
                return new TargetDir(root, empty, secure, null, true);
            }
            stream.close();
        }
        BasicFileAttributes attrs = Files.readAttributes(root, BasicFileAttributes.class);
        if (!attrs.isDirectory()) {
            throw new NotDirectoryException(root.toString());
        }
        return new TargetDir(root, empty, null, attrs.fileKey(), true);
    }

    /**
     * What DST has at {@code relative} (a plain relative path), for the planner: each parent is checked with
     * {@code lstat} and must be a real directory, else the entry is absent ({@code null}); the entry itself is not
     * followed either. See the class comment for why this read does not open the parents.
     */
    static BasicFileAttributes lookup(Path root, Path relative) throws IOException {
        Path parent = realParent(root, checked(relative));
        if (parent == null) {
            return null;
        }
        try {
            return Files.readAttributes(parent.resolve(relative.getFileName()), BasicFileAttributes.class, NOFOLLOW);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The target of the link at {@code relative}, for the planner: parents checked as by {@link #lookup}. */
    static Path readLink(Path root, Path relative) throws IOException {
        Path parent = realParent(root, checked(relative));
        if (parent == null) {
            throw new NoSuchFileException(root.resolve(relative).toString());
        }
        return Files.readSymbolicLink(parent.resolve(relative.getFileName()));
    }

    /* root/parent-of-relative if every component of it is a real directory (lstat, a link is not), else null. */
    private static Path realParent(Path root, Path relative) throws IOException {
        Path walked = root;
        Path parent = relative.getParent();
        if (parent == null) {
            return root;
        }
        for (Path name : parent) {
            walked = walked.resolve(name);
            try {
                if (!Files.readAttributes(walked, BasicFileAttributes.class, NOFOLLOW).isDirectory()) {
                    return null;
                }
            } catch (NoSuchFileException e) {
                return null;
            }
        }
        return walked;
    }

    /* ---- names ---- */

    /**
     * Why {@code relative} is not a plain relative path ("is absolute", "is empty", "has a '..' component"...), or
     * {@code null} if it is one.
     */
    static String refusal(Path relative) {
        if (relative.isAbsolute() || relative.getRoot() != null) {
            return "is absolute";
        }
        if (relative.toString().isEmpty()) {
            return "is empty";
        }
        for (Path name : relative) {
            String s = name.toString();
            if (s.isEmpty()) {
                return "has an empty component";
            }
            if (s.equals(".") || s.equals("..")) {
                return "has a '" + s + "' component";
            }
        }
        return null;
    }

    /**
     * {@link #refusal(Path)} for a path as it arrives on the wire, before {@link Path#of} could drop the empty
     * components of {@code a//b} or {@code a/}: those are refused too, and so is a NUL byte.
     */
    static String refusal(String wire) {
        if (wire.isEmpty()) {
            return "is empty";
        }
        if (wire.startsWith("/")) {
            return "is absolute";
        }
        if (wire.indexOf('\0') >= 0) {
            return "has a NUL byte";
        }
        for (String name : wire.split("/", -1)) {
            if (name.isEmpty()) {
                return "has an empty component";
            }
            if (name.equals(".") || name.equals("..")) {
                return "has a '" + name + "' component";
            }
        }
        return null;
    }

    /** Throws unless {@code relative} is a plain relative path; the message names it and why. */
    static Path checked(Path relative) throws IOException {
        String refusal = refusal(relative);
        if (refusal != null) {
            throw new IOException(refusedMessage(relative.toString(), refusal));
        }
        return relative;
    }

    /** The failure reported for a refused entry path: it names the path and why. */
    static String refusedMessage(String path, String refusal) {
        return "refused: the entry path '" + path + "' " + refusal
                + " (only plain relative paths are written into DST)";
    }

    /* ---- walking down ---- */

    /**
     * Opens the existing directory {@code relativeDir} below this one (this one again if {@code null}), or returns
     * {@code null} if a component is missing or is not a directory (a link, a file): then nothing exists below it.
     */
    TargetDir find(Path relativeDir) throws IOException {
        TargetDir current = borrow();
        if (relativeDir == null) {
            return current;
        }
        try {
            for (Path name : checked(relativeDir)) {
                BasicFileAttributes attrs = current.stat(name);
                if (attrs == null || !attrs.isDirectory()) {
                    current.close();
                    return null;
                }
                TargetDir next = current.openDir(name);
                current.close();
                current = next;
            }
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /**
     * Opens directory {@code relativeDir} below this one (this one again if {@code null}), creating each missing
     * component and replacing each that is not a directory, as {@code rsync -a} does where SRC has a directory: a
     * link there (even one to a directory) is removed, never followed, and so is a file.
     *
     * <p>Two writers of one run may replace the same link at once (the remote writer's generator makes directories
     * and links while its receiver writes the files it asked for; the hashers do not keep the walk's order): one of
     * them then finds the link gone, or a directory where it saw the link. Such a failure is taken as a change made
     * meanwhile and the walk down is tried again from this directory, at most {@value #MAKE_DIRS_ATTEMPTS} times.
     *
     * @param created counts the directories created (replacements included)
     */
    TargetDir makeDirs(Path relativeDir, LongAdder created) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return makeDirsOnce(relativeDir, created);
            } catch (FileSystemException e) { // NoSuchFile, "Is a directory", DirectoryNotEmpty, NotDirectory...
                if (attempt == MAKE_DIRS_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private TargetDir makeDirsOnce(Path relativeDir, LongAdder created) throws IOException {
        TargetDir current = borrow();
        if (relativeDir == null) {
            return current;
        }
        try {
            for (Path name : checked(relativeDir)) {
                BasicFileAttributes attrs = current.stat(name);
                if (attrs != null && !attrs.isDirectory()) {
                    current.deleteFile(name); // a link or a file where SRC has a directory: unlinkat, not followed
                    attrs = null;
                }
                if (attrs == null) {
                    try {
                        current.createDirectory(name);
                        created.increment();
                    } catch (java.nio.file.FileAlreadyExistsException e) {
                        // made meanwhile: openDir below checks that it is a directory
                    }
                }
                TargetDir next = current.openDir(name);
                current.close();
                current = next;
            }
            return current;
        } catch (IOException | RuntimeException e) {
            current.close();
            throw e;
        }
    }

    /** Reads the regular file at {@code relative} below this directory (a link there fails, it is not followed). */
    InputStream openFile(Path relative) throws IOException {
        TargetDir parent = find(checked(relative).getParent());
        if (parent == null) {
            throw new NoSuchFileException(root.resolve(relative).toString());
        }
        try {
            InputStream in = parent.openHere(relative.getFileName());
            return new java.io.FilterInputStream(in) {
                @Override
                public void close() throws IOException {
                    try {
                        super.close();
                    } finally {
                        parent.close();
                    }
                }
            };
        } catch (IOException | RuntimeException e) {
            parent.close();
            throw e;
        }
    }

    /**
     * Deletes the file or link at {@code relative} below this directory if it is there (for temporary files); a
     * directory there, or a parent that is not a directory, is left alone.
     */
    boolean deleteFileIfExists(Path relative) throws IOException {
        try (TargetDir parent = find(checked(relative).getParent())) {
            return parent != null && parent.deleteHereIfExists(relative.getFileName());
        }
    }

    /* ---- one name in this directory ----
     *
     * A name is a Path of one component (from Path.getFileName(), a listing, or Path.of for a name made here), never
     * a String: on Linux a name is bytes, and a String loses those that are not valid in the platform charset (two
     * names differing only in such bytes would become one).
     */

    /** The path of {@code name} in this directory, for messages and for registering temporary files. */
    Path pathOf(Path name) {
        return path.resolve(name);
    }

    /** What {@code name} is, not following a link; {@code null} if there is nothing. */
    BasicFileAttributes stat(Path name) throws IOException {
        try {
            if (dir != null) {
                return dir.getFileAttributeView(name(name), BasicFileAttributeView.class, NOFOLLOW).readAttributes();
            }
            return Files.readAttributes(checkedPath().resolve(name(name)), BasicFileAttributes.class, NOFOLLOW);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Opens the directory {@code name}; fails if it is a link (never followed) or not a directory. */
    TargetDir openDir(Path name) throws IOException {
        Path child = relative.resolve(name(name));
        if (dir != null) {
            SecureDirectoryStream<Path> sub;
            try {
                sub = dir.newDirectoryStream(name(name), NOFOLLOW); // openat(O_NOFOLLOW): a link fails here
            } catch (FileSystemException e) {
                throw notADirectory(name, e);
            }
            return new TargetDir(root, child, sub, null, true);
        }
        BasicFileAttributes attrs = stat(name);
        if (attrs == null) {
            throw new NoSuchFileException(pathOf(name).toString());
        }
        if (!attrs.isDirectory()) {
            throw new NotDirectoryException(pathOf(name) + (attrs.isSymbolicLink() ? " (a link, not followed)" : ""));
        }
        return new TargetDir(root, child, null, attrs.fileKey(), true);
    }

    /** Creates the directory {@code name}. */
    void createDirectory(Path name) throws IOException {
        Files.createDirectory(checkedPath().resolve(name(name))); // no mkdirat in java.nio: see the class comment
    }

    /** Creates the new regular file {@code name} for writing; fails if anything (a link too) is there. */
    OutputStream createFile(Path name) throws IOException {
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS);
        if (dir != null) {
            return Channels.newOutputStream(dir.newByteChannel(name(name), options));
        }
        return Channels.newOutputStream(Files.newByteChannel(checkedPath().resolve(name(name)), options));
    }

    /** Reads the regular file {@code name}; a link there fails (O_NOFOLLOW). */
    private InputStream openHere(Path name) throws IOException {
        Set<OpenOption> options = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        if (dir != null) {
            return Channels.newInputStream(dir.newByteChannel(name(name), options));
        }
        return Channels.newInputStream(Files.newByteChannel(checkedPath().resolve(name(name)), options));
    }

    /** Sets the modification time of the file or directory {@code name} (a link there fails: O_NOFOLLOW). */
    void setModifiedTime(Path name, FileTime mtime) throws IOException {
        basicView(name).setTimes(mtime, null, null);
    }

    /** Sets the POSIX permissions of {@code name}, where the file system has them; {@code null} leaves them. */
    void setPermissions(Path name, Set<PosixFilePermission> permissions) throws IOException {
        if (permissions == null) {
            return;
        }
        PosixFileAttributeView view = dir != null
                ? dir.getFileAttributeView(name(name), PosixFileAttributeView.class, NOFOLLOW)
                : Files.getFileAttributeView(checkedPath().resolve(name(name)), PosixFileAttributeView.class, NOFOLLOW);
        if (view != null) {
            view.setPermissions(permissions);
        }
    }

    /**
     * Creates the link {@code name -> target} and tries to give it {@code mtime} (not every platform can set a
     * link's own time; the link is what matters).
     */
    void createLink(Path name, Path target, FileTime mtime) throws IOException {
        Path link = checkedPath().resolve(name(name));
        Files.createSymbolicLink(link, target); // no symlinkat in java.nio: see the class comment
        try {
            Files.getFileAttributeView(link, BasicFileAttributeView.class, NOFOLLOW).setTimes(mtime, null, null);
        } catch (IOException | UnsupportedOperationException e) {
            // see above
        }
    }

    /** Renames {@code from} to {@code to} in this directory, atomically replacing a file or link at {@code to}. */
    void rename(Path from, Path to) throws IOException {
        if (dir != null) {
            dir.move(name(from), dir, name(to)); // renameat(2)
        } else {
            Path here = checkedPath();
            Files.move(here.resolve(name(from)), here.resolve(name(to)), StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Deletes the file or link {@code name} (never what a link points to); fails on a directory. */
    void deleteFile(Path name) throws IOException {
        if (dir != null) {
            dir.deleteFile(name(name)); // unlinkat(2) without AT_REMOVEDIR
            return;
        }
        BasicFileAttributes attrs = stat(name);
        if (attrs != null && attrs.isDirectory()) {
            throw new FileSystemException(pathOf(name).toString(), null, "is a directory");
        }
        Files.delete(checkedPath().resolve(name(name)));
    }

    /** {@link #deleteFile} if something is there. */
    private boolean deleteHereIfExists(Path name) throws IOException {
        try {
            deleteFile(name);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Deletes the empty directory {@code name}. */
    void deleteDirectory(Path name) throws IOException {
        if (dir != null) {
            dir.deleteDirectory(name(name)); // unlinkat(2) with AT_REMOVEDIR: a link there is not a directory
            return;
        }
        BasicFileAttributes attrs = stat(name);
        if (attrs != null && !attrs.isDirectory()) {
            throw new NotDirectoryException(pathOf(name).toString());
        }
        Files.delete(checkedPath().resolve(name(name)));
    }

    /** The names in this directory; call it once per handle. */
    List<Path> list() throws IOException {
        List<Path> names = new ArrayList<>();
        if (dir != null) {
            for (Path entry : dir) {
                names.add(entry.getFileName());
            }
            return names;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(checkedPath())) {
            for (Path entry : entries) {
                names.add(entry.getFileName());
            }
        }
        return names;
    }

    /**
     * Whether this directory is still where it was opened: its path still names it (same device and inode), so it
     * was neither removed nor moved. A handle kept from one entry to the next is checked with this first.
     */
    boolean stillInPlace() {
        try {
            checkedPath();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Closes the directory descriptor (a borrowed view leaves it open). */
    @Override
    public void close() throws IOException {
        if (dir != null && owner) {
            dir.close();
        }
    }

    /* ---- internals ---- */

    /* This same directory, as a handle whose close() leaves the descriptor open: find/makeDirs always return one
     * that the caller closes, whether they went down or not. */
    private TargetDir borrow() {
        return new TargetDir(root, relative, dir, key, false);
    }

    private BasicFileAttributeView basicView(Path name) throws IOException {
        return dir != null ? dir.getFileAttributeView(name(name), BasicFileAttributeView.class, NOFOLLOW)
                : Files.getFileAttributeView(checkedPath().resolve(name(name)), BasicFileAttributeView.class,
                        NOFOLLOW);
    }

    /*
     * The path of this directory, for the steps java.nio has only in path form, once it is checked to still name the
     * directory opened: the same device and inode (reached through whatever: identity is what counts), or, where the
     * platform has no file keys, a chain of real directories from root with no link in it.
     */
    private Path checkedPath() throws IOException {
        if (dir != null && key == null) {
            key = dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey(); // fstat
        }
        if (key != null) {
            Object now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            if (!key.equals(now)) {
                throw new FileSystemException(path.toString(), null,
                        "changed while it was being written (replaced by a link?): refusing to write through it");
            }
            return path;
        }
        Path walked = root;
        for (Path name : relative.toString().isEmpty() ? List.<Path>of() : relative) {
            walked = walked.resolve(name);
            if (!Files.isDirectory(walked, NOFOLLOW)) {
                throw new NotDirectoryException(walked + " (not a directory, or a link: not followed)");
            }
        }
        return path;
    }

    /* A single, plain name of this directory (checked when assertions are on: the callers pass such names). */
    private Path name(Path name) {
        assert name.getNameCount() == 1 && !name.isAbsolute() && !name.toString().isEmpty()
                && !name.toString().equals(".") && !name.toString().equals("..") : name;
        return name;
    }

    private IOException notADirectory(Path name, FileSystemException e) throws IOException {
        BasicFileAttributes attrs = stat(name);
        if (attrs != null && attrs.isSymbolicLink()) {
            return new NotDirectoryException(pathOf(name) + " (a link, not followed)");
        }
        return e;
    }
}
