package dev.sluice.examples.sync;

import java.io.File;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.sluice.rsocket.Codec;

/**
 * The wire format of {@code --remote} / {@code --serve-writer} (protocol version {@value #VERSION}): three channels of
 * the writer's {@link dev.sluice.rsocket.SluiceServer} and their messages. The sending side offers entries, the
 * writer answers with what it needs, as rsync's generator does, so an unchanged file sends no bytes.
 *
 * <pre>
 *  sender (--remote)                                              writer (--serve-writer)
 *  "entries" (send-only)   START(options) OFFER(seq, entry)... END(walk errors) BYE | ABORT   -> decides per entry
 *  "content" (send-only)   CHUNK(seq, bytes)... LAST(seq, bytes, SHA-256, mode, error)       -> writes wanted files
 *  "replies" (receive-only) WANT(seq) DONE(seq, status) NOTICE(text) FAILURE(text) DELETED(n) <- in the writer's order
 * </pre>
 *
 * <p>Names travel as their exact bytes ({@link Names}): on Linux a file name is a byte string, not text, and two
 * names that differ only in bytes that are not valid UTF-8 must stay two files. Every decoder checks what it reads and
 * throws {@link IllegalArgumentException} naming the field: the bridge then ends that one stream with the message,
 * and the writer goes on.
 */
final class RemoteWire {

    /** The protocol version both sides must speak. */
    static final int VERSION = 2;
    /** Client to writer: the run's options, the entries, the end. */
    static final String ENTRIES = "entries";
    /** Client to writer: the content of the files the writer asked for. */
    static final String CONTENT = "content";
    /** Writer to client: requests for content, the outcomes, notices. */
    static final String REPLIES = "replies";
    /** The content bytes per chunk message. */
    static final int CHUNK_BYTES = 64 * 1024;
    /** The writer's frame limit: a chunk, or an entry with two names of up to 4096 bytes, with room to spare. */
    static final int MAX_FRAME = 2 * CHUNK_BYTES;

    private RemoteWire() {
    }

    /* ---- entries ---- */

    /** A message of the entries channel. */
    sealed interface ToWriter permits Start, Offer, End, Control {
    }

    /**
     * The first message of a run: the sending side's options.
     *
     * @param version the protocol version
     * @param delete delete entries of DST that are not in SRC
     * @param checksum compare files by SHA-256 (the offers then carry the source's)
     * @param dryRun change nothing, report what would be done
     * @param bwlimit the sending side's --bwlimit in bytes per second, 0 for none
     */
    record Start(int version, boolean delete, boolean checksum, boolean dryRun, long bwlimit) implements ToWriter {
    }

    /**
     * One entry of SRC.
     *
     * @param seq the sender's number for it (from 1), used by WANT, the content and DONE
     * @param job the entry (a FILE, DIR or LINK)
     * @param sha256 the source file's SHA-256 with {@code --checksum}, else {@code null}
     */
    record Offer(long seq, FileJob job, byte[] sha256) implements ToWriter {
    }

    /**
     * Every entry was offered.
     *
     * @param walkErrors how many entries of SRC could not be read ({@code --delete} is skipped when not 0)
     */
    record End(long walkErrors) implements ToWriter {
    }

    /** BYE: the sender has every reply; ABORT: the sender was cancelled. */
    record Control(boolean abort) implements ToWriter {
    }

    /* ---- content ---- */

    /**
     * Some bytes of a wanted file, in the order of the WANTs.
     *
     * @param seq the entry they belong to
     * @param data the bytes
     * @param last whether this is the file's last chunk
     * @param sha256 the SHA-256 of all the bytes sent for the file (last chunk only)
     * @param permissions the file's mode as {@code rwxr-x---} (last chunk only), or {@code null}
     * @param error why the rest of the file could not be read (last chunk only), or {@code null}
     */
    record Chunk(long seq, byte[] data, boolean last, byte[] sha256, String permissions, String error) {
    }

    /* ---- replies ---- */

    /** A message of the replies channel. */
    sealed interface Reply permits Want, Done, Notice, Failure, Deleted {
    }

    /** Send the content of entry {@code seq}. */
    record Want(long seq) implements Reply {
    }

    /** What the writer did with entry {@code seq}. */
    record Done(long seq, Outcome.Status status, long bytesWritten, String error) implements Reply {
    }

    /** A line for the sender to print (e.g. "deleted x" with {@code --delete}). */
    record Notice(String text) implements Reply {
    }

    /** An entry of DST that could not be handled, not one the sender offered (e.g. a failed deletion). */
    record Failure(String text) implements Reply {
    }

    /** {@code --delete} removed (or, in a dry run, would remove) this many entries. */
    record Deleted(long count) implements Reply {
    }

    /* ---- codecs ---- */

    private static final byte START = 1;
    private static final byte OFFER = 2;
    private static final byte END = 3;
    private static final byte BYE = 4;
    private static final byte ABORT = 5;
    private static final byte CHUNK = 6;
    private static final byte LAST = 7;
    private static final byte WANT = 8;
    private static final byte DONE = 9;
    private static final byte NOTICE = 10;
    private static final byte FAILURE = 11;
    private static final byte DELETED = 12;

    private static final byte KIND_FILE = 1;
    private static final byte KIND_DIR = 2;
    private static final byte KIND_LINK = 3;

    /** The entries channel's codec. */
    static final Codec<ToWriter> TO_WRITER = Codec.record(RemoteWire::toWriterFields, RemoteWire::toWriter);
    /** The content channel's codec. */
    static final Codec<Chunk> CHUNKS = Codec.record(RemoteWire::chunkFields, RemoteWire::chunk);
    /** The replies channel's codec. */
    static final Codec<Reply> REPLIES_CODEC = Codec.record(RemoteWire::replyFields, RemoteWire::reply);

    private static List<byte[]> toWriterFields(ToWriter m) {
        List<byte[]> f = new ArrayList<>(9);
        if (m instanceof Start s) {
            f.add(new byte[] {START});
            f.add(longBytes(s.version()));
            f.add(new byte[] {(byte) ((s.delete() ? 1 : 0) | (s.checksum() ? 2 : 0) | (s.dryRun() ? 4 : 0))});
            f.add(longBytes(s.bwlimit()));
        } else if (m instanceof Offer o) {
            FileJob job = o.job();
            f.add(new byte[] {OFFER});
            f.add(longBytes(o.seq()));
            f.add(new byte[] {switch (job.kind()) {
                case FILE -> KIND_FILE;
                case DIR -> KIND_DIR;
                case LINK -> KIND_LINK;
                case UNREADABLE -> throw new IllegalArgumentException("an unreadable entry is not offered: " + job);
            }});
            f.add(Names.of(job.relative()));
            f.add(longBytes(job.size()));
            f.add(timeBytes(job.mtime()));
            f.add(job.linkTarget() == null ? new byte[0] : Names.ofLinkTarget(job.linkTarget()));
            f.add(o.sha256() == null ? new byte[0] : o.sha256());
        } else if (m instanceof End e) {
            f.add(new byte[] {END});
            f.add(longBytes(e.walkErrors()));
        } else if (m instanceof Control c) {
            f.add(new byte[] {c.abort() ? ABORT : BYE});
        }
        return f;
    }

    private static ToWriter toWriter(List<byte[]> f) {
        byte type = type(f, "entries");
        switch (type) {
            case START -> {
                count(f, 4, "START");
                long version = longOf(f, 1, "START version");
                if (version != VERSION) {
                    throw new IllegalArgumentException("protocol version " + version + ", but this writer speaks "
                            + VERSION + " (use the same sluice-sync on both sides)");
                }
                int flags = oneByte(f, 2, "START options");
                long bwlimit = longOf(f, 3, "START bwlimit");
                if (bwlimit < 0 || (flags & ~7) != 0) {
                    throw new IllegalArgumentException("START has bad options " + flags + " / bwlimit " + bwlimit);
                }
                return new Start(VERSION, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, bwlimit);
            }
            case OFFER -> {
                count(f, 8, "OFFER");
                long seq = seq(f, 1, "OFFER");
                Path relative = Names.relative(f.get(3));
                String what = "OFFER " + seq + " (" + Names.show(f.get(3)) + ")";
                long size = longOf(f, 4, what + " size");
                FileTime mtime = time(f.get(5), what);
                byte[] link = f.get(6);
                byte[] sha = f.get(7);
                if (sha.length != 0 && sha.length != 32) {
                    throw new IllegalArgumentException(what + ": a SHA-256 has 32 bytes, not " + sha.length);
                }
                FileJob job = switch (oneByte(f, 2, what + " kind")) {
                    case KIND_FILE -> {
                        if (size < 0 || link.length != 0) {
                            throw new IllegalArgumentException(what + ": a FILE has a size >= 0 (" + size
                                    + ") and no link target");
                        }
                        yield FileJob.file(relative, size, mtime);
                    }
                    case KIND_DIR -> {
                        if (size != 0 || link.length != 0 || sha.length != 0) {
                            throw new IllegalArgumentException(what + ": a DIR has size 0, no link target, no hash");
                        }
                        yield FileJob.dir(relative, mtime);
                    }
                    case KIND_LINK -> {
                        if (size != 0 || sha.length != 0) {
                            throw new IllegalArgumentException(what + ": a LINK has size 0 and no hash");
                        }
                        if (link.length == 0) {
                            throw new IllegalArgumentException(what + ": a LINK needs a target");
                        }
                        yield FileJob.link(relative, Names.linkTarget(link), mtime);
                    }
                    default -> throw new IllegalArgumentException(what + ": unknown kind " + f.get(2)[0]);
                };
                return new Offer(seq, job, sha.length == 0 ? null : sha);
            }
            case END -> {
                count(f, 2, "END");
                long errors = longOf(f, 1, "END walk errors");
                if (errors < 0) {
                    throw new IllegalArgumentException("END: walk errors " + errors + " < 0");
                }
                return new End(errors);
            }
            case BYE, ABORT -> {
                count(f, 1, type == BYE ? "BYE" : "ABORT");
                return new Control(type == ABORT);
            }
            default -> throw new IllegalArgumentException("unknown message type " + type + " on the entries channel");
        }
    }

    private static List<byte[]> chunkFields(Chunk c) {
        List<byte[]> f = new ArrayList<>(6);
        f.add(new byte[] {c.last() ? LAST : CHUNK});
        f.add(longBytes(c.seq()));
        f.add(c.data());
        if (c.last()) {
            f.add(c.sha256() == null ? new byte[0] : c.sha256());
            f.add(utf8(c.permissions()));
            f.add(utf8(c.error()));
        }
        return f;
    }

    private static Chunk chunk(List<byte[]> f) {
        byte type = type(f, "content");
        if (type == CHUNK) {
            count(f, 3, "CHUNK");
            return new Chunk(seq(f, 1, "CHUNK"), f.get(2), false, null, null, null);
        }
        if (type != LAST) {
            throw new IllegalArgumentException("unknown message type " + type + " on the content channel");
        }
        count(f, 6, "LAST");
        long seq = seq(f, 1, "LAST");
        byte[] sha = f.get(3);
        String permissions = nullIfEmpty(string(f, 4, "LAST mode"));
        String error = nullIfEmpty(string(f, 5, "LAST error"));
        if (error == null && sha.length != 32) {
            throw new IllegalArgumentException("LAST " + seq + ": needs the 32-byte SHA-256 of the content, has "
                    + sha.length + " bytes");
        }
        if (permissions != null) {
            try {
                PosixFilePermissions.fromString(permissions);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("LAST " + seq + ": bad mode '" + permissions + "'", e);
            }
        }
        return new Chunk(seq, f.get(2), true, sha.length == 0 ? null : sha, permissions, error);
    }

    private static List<byte[]> replyFields(Reply r) {
        List<byte[]> f = new ArrayList<>(5);
        if (r instanceof Want w) {
            f.add(new byte[] {WANT});
            f.add(longBytes(w.seq()));
        } else if (r instanceof Done d) {
            f.add(new byte[] {DONE});
            f.add(longBytes(d.seq()));
            f.add(new byte[] {(byte) d.status().ordinal()});
            f.add(longBytes(d.bytesWritten()));
            f.add(utf8(d.error()));
        } else if (r instanceof Notice n) {
            f.add(new byte[] {NOTICE});
            f.add(utf8(n.text()));
        } else if (r instanceof Failure x) {
            f.add(new byte[] {FAILURE});
            f.add(utf8(x.text()));
        } else if (r instanceof Deleted d) {
            f.add(new byte[] {DELETED});
            f.add(longBytes(d.count()));
        }
        return f;
    }

    private static Reply reply(List<byte[]> f) {
        byte type = type(f, "replies");
        switch (type) {
            case WANT -> {
                count(f, 2, "WANT");
                return new Want(seq(f, 1, "WANT"));
            }
            case DONE -> {
                count(f, 5, "DONE");
                long seq = seq(f, 1, "DONE");
                int status = oneByte(f, 2, "DONE status");
                Outcome.Status[] all = Outcome.Status.values();
                if (status >= all.length) {
                    throw new IllegalArgumentException("DONE " + seq + ": unknown status " + status);
                }
                long written = longOf(f, 3, "DONE bytes");
                if (written < 0) {
                    throw new IllegalArgumentException("DONE " + seq + ": " + written + " bytes written");
                }
                return new Done(seq, all[status], written, nullIfEmpty(string(f, 4, "DONE error")));
            }
            case NOTICE -> {
                count(f, 2, "NOTICE");
                return new Notice(string(f, 1, "NOTICE"));
            }
            case FAILURE -> {
                count(f, 2, "FAILURE");
                return new Failure(string(f, 1, "FAILURE"));
            }
            case DELETED -> {
                count(f, 2, "DELETED");
                long n = longOf(f, 1, "DELETED");
                if (n < 0) {
                    throw new IllegalArgumentException("DELETED " + n + " < 0");
                }
                return new Deleted(n);
            }
            default -> throw new IllegalArgumentException("unknown message type " + type + " on the replies channel");
        }
    }

    /* ---- field helpers ---- */

    private static byte type(List<byte[]> f, String channel) {
        if (f.isEmpty() || f.get(0).length != 1) {
            throw new IllegalArgumentException("a message of the " + channel + " channel starts with a 1-byte type");
        }
        return f.get(0)[0];
    }

    private static void count(List<byte[]> f, int n, String what) {
        if (f.size() != n) {
            throw new IllegalArgumentException(what + " has " + n + " fields but this one has " + f.size());
        }
    }

    private static int oneByte(List<byte[]> f, int i, String what) {
        if (f.get(i).length != 1) {
            throw new IllegalArgumentException(what + " must be 1 byte but was " + f.get(i).length);
        }
        return f.get(i)[0] & 0xFF;
    }

    private static long seq(List<byte[]> f, int i, String what) {
        long seq = longOf(f, i, what + " sequence");
        if (seq < 1) {
            throw new IllegalArgumentException(what + ": sequence " + seq + " < 1");
        }
        return seq;
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static long longOf(List<byte[]> f, int i, String what) {
        byte[] b = f.get(i);
        if (b.length != 8) {
            throw new IllegalArgumentException(what + " must be 8 bytes but was " + b.length);
        }
        return ByteBuffer.wrap(b).getLong();
    }

    private static byte[] timeBytes(FileTime time) {
        Instant t = time.toInstant();
        return ByteBuffer.allocate(12).putLong(t.getEpochSecond()).putInt(t.getNano()).array();
    }

    private static FileTime time(byte[] b, String what) {
        if (b.length != 12) {
            throw new IllegalArgumentException(what + ": the modification time must be 12 bytes but was "
                    + b.length);
        }
        ByteBuffer in = ByteBuffer.wrap(b);
        long seconds = in.getLong();
        int nanos = in.getInt();
        if (nanos < 0 || nanos > 999_999_999) {
            throw new IllegalArgumentException(what + ": nanoseconds " + nanos + " out of range");
        }
        try {
            return FileTime.from(Instant.ofEpochSecond(seconds, nanos));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(what + ": time " + seconds + " s out of range", e);
        }
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(List<byte[]> f, int i, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(f.get(i))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid UTF-8", e);
        }
    }

    private static String nullIfEmpty(String s) {
        return s.isEmpty() ? null : s;
    }

    /**
     * File names as bytes, exactly.
     *
     * <p>On Linux (and every Unix file system of the JDK) a {@link Path} read from the file system keeps the raw bytes
     * of its names; what loses them is the conversion to a {@code String} ({@code toString()}, and a {@code String}
     * back to a {@code Path}), which replaces bytes that are not valid in the platform charset. The one public door
     * to the bytes is {@link Path#toUri()}, which percent-encodes every byte, and {@link Path#of(URI)}, which decodes
     * them back into bytes: both are used here. Where the default file system is not such a Unix one (Windows, where
     * names are UTF-16 text), names go as strict UTF-8 and a name that cannot be encoded exactly is refused. Either
     * way a name is carried exactly or refused with an {@link IllegalArgumentException}, never changed.
     */
    static final class Names {
        private static final boolean RAW_BYTES = probeRawBytes();
        private static final Path ROOT = FileSystems.getDefault().getPath("/");

        private Names() {
        }

        /** The exact bytes of a relative name. */
        static byte[] of(Path relative) {
            if (relative.isAbsolute() || relative.toString().isEmpty()) {
                throw new IllegalArgumentException("not a relative name: " + relative);
            }
            return bytes(relative, true);
        }

        /** The exact bytes of a link's target (relative or absolute). */
        static byte[] ofLinkTarget(Path target) {
            return bytes(target, !target.isAbsolute());
        }

        /**
         * A relative name from its bytes, checked: not empty, no NUL, no empty, "." or ".." component, not absolute,
         * at most 4096 bytes.
         */
        static Path relative(byte[] bytes) {
            String problem = null;
            if (bytes.length == 0) {
                problem = "is empty";
            } else if (bytes.length > 4096) {
                problem = "is longer than 4096 bytes";
            } else if (bytes[0] == '/') {
                problem = "is absolute";
            } else {
                int start = 0;
                for (int i = 0; i <= bytes.length && problem == null; i++) {
                    if (i < bytes.length && bytes[i] == 0) {
                        problem = "contains a NUL byte";
                    } else if (i == bytes.length || bytes[i] == '/') {
                        int len = i - start;
                        if (len == 0) {
                            problem = "has an empty component";
                        } else if ((len == 1 && bytes[start] == '.')
                                || (len == 2 && bytes[start] == '.' && bytes[start + 1] == '.')) {
                            problem = "has a '" + (len == 1 ? "." : "..") + "' component";
                        }
                        start = i + 1;
                    }
                }
            }
            if (problem != null) {
                throw new IllegalArgumentException("entry name must be relative and inside DST, but it " + problem
                        + ": '" + show(bytes) + "'");
            }
            return ROOT.relativize(path(concat(new byte[] {'/'}, bytes))); // no dots here: relativize keeps it all
        }

        /** A link target from its bytes: any bytes but NUL, not empty. */
        static Path linkTarget(byte[] bytes) {
            if (bytes.length == 0 || bytes.length > 4096) {
                throw new IllegalArgumentException("a link target has 1 to 4096 bytes, not " + bytes.length);
            }
            for (byte b : bytes) {
                if (b == 0) {
                    throw new IllegalArgumentException("link target contains a NUL byte: '" + show(bytes) + "'");
                }
            }
            if (bytes[0] == '/') {
                return path(bytes);
            }
            // component by component: relativize() would drop the ".." a relative target may well have
            Path target = null;
            int start = 0;
            for (int i = 0; i <= bytes.length; i++) {
                if (i == bytes.length || bytes[i] == '/') {
                    if (i > start) {
                        byte[] name = Arrays.copyOfRange(bytes, start, i);
                        Path part = isDots(name) ? Path.of(name.length == 1 ? "." : "..")
                                : ROOT.relativize(path(concat(new byte[] {'/'}, name)));
                        target = target == null ? part : target.resolve(part);
                    }
                    start = i + 1;
                }
            }
            if (target == null) {
                throw new IllegalArgumentException("link target has no name: '" + show(bytes) + "'");
            }
            return target;
        }

        private static boolean isDots(byte[] name) {
            return (name.length == 1 && name[0] == '.') || (name.length == 2 && name[0] == '.' && name[1] == '.');
        }

        /** Bytes for people: printable ASCII as is, every other byte as \xNN. */
        static String show(byte[] bytes) {
            StringBuilder s = new StringBuilder(bytes.length);
            for (byte b : bytes) {
                if (b >= 0x20 && b < 0x7F && b != '\\') {
                    s.append((char) b);
                } else {
                    s.append(String.format("\\x%02x", b & 0xFF));
                }
            }
            return s.toString();
        }

        /* the exact bytes of a path; relative: without the leading '/' its absolute form has */
        private static byte[] bytes(Path p, boolean relative) {
            if (!RAW_BYTES) {
                return strictUtf8(p.toString().replace(File.separatorChar, '/'));
            }
            Path absolute = relative ? ROOT.resolve(p) : p;
            byte[] all = decodePercent(absolute.toUri().getRawPath());
            int from = relative ? 1 : 0;
            int to = all.length;
            if (to > 1 && all[to - 1] == '/') {
                to--; // toUri() marks an existing directory with a trailing '/'
            }
            return Arrays.copyOfRange(all, from, to);
        }

        private static Path path(byte[] absoluteBytes) {
            if (!RAW_BYTES) {
                return Path.of(fromStrictUtf8(absoluteBytes));
            }
            StringBuilder uri = new StringBuilder("file://");
            for (byte b : absoluteBytes) {
                int c = b & 0xFF;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/'
                        || c == '-' || c == '_' || c == '.' || c == '~') {
                    uri.append((char) c);
                } else {
                    uri.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                }
            }
            return Path.of(URI.create(uri.toString()));
        }

        private static byte[] decodePercent(String raw) {
            byte[] out = new byte[raw.length()];
            int n = 0;
            for (int i = 0; i < raw.length(); i++) {
                char c = raw.charAt(i);
                if (c == '%') {
                    out[n++] = (byte) Integer.parseInt(raw, i + 1, i + 3, 16);
                    i += 2;
                } else {
                    out[n++] = (byte) c;
                }
            }
            return Arrays.copyOf(out, n);
        }

        private static byte[] concat(byte[] a, byte[] b) {
            byte[] out = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }

        private static byte[] strictUtf8(String s) {
            try {
                ByteBuffer b = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
                return Arrays.copyOfRange(b.array(), b.position(), b.limit());
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("name cannot be carried exactly (not valid text): " + s, e);
            }
        }

        private static String fromStrictUtf8(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("name is not valid UTF-8 and this file system stores text: '"
                        + show(bytes) + "'", e);
            }
        }

        /* Whether Path <-> URI keeps raw bytes here (the JDK's Unix file systems): checked once, on a made-up name. */
        private static boolean probeRawBytes() {
            if (File.separatorChar != '/') {
                return false;
            }
            try {
                Path p = Path.of(URI.create("file:///sluice-probe-%ff%fe"));
                String raw = p.toUri().getRawPath();
                return raw.equalsIgnoreCase("/sluice-probe-%ff%fe");
            } catch (RuntimeException e) {
                return false;
            }
        }
    }
}
