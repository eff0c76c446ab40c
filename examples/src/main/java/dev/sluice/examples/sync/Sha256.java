package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/** SHA-256 of a file, streamed in 64 KiB chunks, stopping early when the run is cancelled. */
final class Sha256 {
    static final int CHUNK = 64 * 1024;

    private Sha256() {
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    static byte[] of(Path file, BooleanSupplier cancelled) throws IOException {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            return of(in, file, cancelled);
        }
    }

    /** The SHA-256 of what {@code in} holds (read to its end, not closed); {@code name} is for the message. */
    static byte[] of(InputStream in, Path name, BooleanSupplier cancelled) throws IOException {
        MessageDigest digest = newDigest();
        byte[] chunk = new byte[CHUNK];
        for (int n; (n = in.read(chunk)) >= 0; ) {
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("cancelled while hashing " + name);
            }
            digest.update(chunk, 0, n);
        }
        return digest.digest();
    }

    static String hex(byte[] sha256) {
        return sha256 == null ? "-" : HexFormat.of().formatHex(sha256);
    }
}
