package dev.sluice.rsocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns items into bytes and back, for the wire between a {@link SluiceServer} and a {@link SluiceClient}.
 *
 * <p>Implementations must be thread-safe and stateless: one codec serves every connection. {@link #decode} must throw
 * (any {@code RuntimeException}, preferably {@link IllegalArgumentException}) on bytes it cannot read; the bridge then
 * ends that one stream with a {@link RemoteChannelException} and leaves the channel and other clients untouched.
 *
 * <pre>{@code
 * record Job(String id, byte[] body) { }
 * Codec<Job> jobs = Codec.record(
 *         job -> List.of(job.id().getBytes(UTF_8), job.body()),
 *         fields -> new Job(new String(fields.get(0), UTF_8), fields.get(1)));
 * }</pre>
 *
 * @param <T> the item type
 */
public interface Codec<T> {

    /**
     * Encodes an item.
     *
     * @param item the item, never {@code null}
     * @return its bytes; the caller owns the array
     */
    byte[] encode(T item);

    /**
     * Decodes an item.
     *
     * @param bytes the bytes of one item; the codec may keep the array
     * @return the item, never {@code null}
     * @throws IllegalArgumentException (or another {@code RuntimeException}) if the bytes are not a valid item
     */
    T decode(byte[] bytes);

    /**
     * UTF-8 strings. Malformed input is rejected, not replaced.
     *
     * @return the string codec
     */
    static Codec<String> utf8() {
        return Codecs.UTF8;
    }

    /**
     * Raw byte arrays, passed through unchanged.
     *
     * @return the identity codec
     */
    static Codec<byte[]> bytes() {
        return Codecs.BYTES;
    }

    /**
     * A record of byte-array fields, each written as a 4-byte big-endian length followed by its bytes, after a
     * 4-byte field count. Decoding checks every length against the bytes left and fails with a message naming the
     * field.
     *
     * @param fields splits an item into its fields (none {@code null})
     * @param build rebuilds an item from its fields, in the same order
     * @param <T> the item type
     * @return the record codec
     * @throws NullPointerException if an argument is {@code null}
     */
    static <T> Codec<T> record(Function<? super T, List<byte[]>> fields, Function<List<byte[]>, ? extends T> build) {
        Objects.requireNonNull(fields, "fields");
        Objects.requireNonNull(build, "build");
        return new Codec<>() {
            @Override
            public byte[] encode(T item) {
                List<byte[]> parts = fields.apply(item);
                int size = 4;
                for (byte[] part : parts) {
                    size += 4 + part.length;
                }
                ByteBuffer out = ByteBuffer.allocate(size).putInt(parts.size());
                for (byte[] part : parts) {
                    out.putInt(part.length).put(part);
                }
                return out.array();
            }

            @Override
            public T decode(byte[] bytes) {
                return build.apply(Codecs.splitRecord(bytes));
            }

            @Override
            public String toString() {
                return "Codec.record";
            }
        };
    }
}

/** The built-in codecs. */
final class Codecs {

    static final Codec<String> UTF8 = new Codec<>() {
        @Override
        public byte[] encode(String item) {
            return item.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String decode(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalArgumentException("not valid UTF-8: " + bytes.length + " bytes", e);
            }
        }

        @Override
        public String toString() {
            return "Codec.utf8";
        }
    };

    static final Codec<byte[]> BYTES = new Codec<>() {
        @Override
        public byte[] encode(byte[] item) {
            return item;
        }

        @Override
        public byte[] decode(byte[] bytes) {
            return bytes;
        }

        @Override
        public String toString() {
            return "Codec.bytes";
        }
    };

    private Codecs() {
    }

    static List<byte[]> splitRecord(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        if (in.remaining() < 4) {
            throw new IllegalArgumentException("record too short: " + bytes.length + " bytes, need a 4-byte field count");
        }
        int count = in.getInt();
        if (count < 0 || count > in.remaining() / 4) {
            throw new IllegalArgumentException("record field count " + count + " impossible in " + bytes.length
                    + " bytes");
        }
        List<byte[]> parts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            if (in.remaining() < 4) {
                throw new IllegalArgumentException("record truncated: field " + i + " has no length");
            }
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                throw new IllegalArgumentException("record truncated: field " + i + " declares " + length
                        + " bytes but " + in.remaining() + " remain");
            }
            byte[] part = new byte[length];
            in.get(part);
            parts.add(part);
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("record has " + in.remaining() + " trailing bytes after " + count
                    + " fields");
        }
        return parts;
    }
}
