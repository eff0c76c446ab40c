package dev.sluice.rsocket;

import java.security.SecureRandom;
import java.util.Base64;

/*
 * Shared secrets: generation, and a strength estimate that refuses short or low-variety tokens.
 *
 * The estimate is length x log2(min(pool, 3 x distinct characters)), where pool is the size of the character classes
 * the token uses (lower case 26, upper case 26, digits 10, anything else 33). It is a heuristic, not a proof: it
 * rejects "secret", "remote-sync-test" or 40 times "a" and accepts 32 random hex digits (`openssl rand -hex 16`, about
 * 150 bits) or 24 random base64 characters (`openssl rand -base64 16`, about 140); it cannot see that a long phrase
 * of dictionary words is weak. A token from newToken() (24 random bytes, 32 base64url characters) estimates at about
 * 190 bits.
 */
final class Tokens {

    /** The least estimated strength accepted for a user-chosen token. */
    static final int MIN_BITS = 128;

    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {
    }

    static String newToken() {
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The estimated strength of {@code token} in bits (see the class comment). */
    static int estimatedBits(String token) {
        boolean lower = false;
        boolean upper = false;
        boolean digit = false;
        boolean other = false;
        long distinct = token.codePoints().distinct().count();
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c >= 'a' && c <= 'z') {
                lower = true;
            } else if (c >= 'A' && c <= 'Z') {
                upper = true;
            } else if (c >= '0' && c <= '9') {
                digit = true;
            } else {
                other = true;
            }
        }
        int pool = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (other ? 33 : 0);
        double perChar = Math.log(Math.min(pool, 3 * distinct)) / Math.log(2);
        return (int) Math.floor(token.codePointCount(0, token.length()) * perChar);
    }
}
