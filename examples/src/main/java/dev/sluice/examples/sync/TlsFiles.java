package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.function.Function;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

/**
 * TLS for {@code --serve-writer} and {@code --remote}: Netty {@link SslContext}s for the bridge's
 * {@code SluiceServer.Builder.tls} and {@code ClientOptions.withTls}, built from PKCS12 files. The password comes from
 * an environment variable (never from the command line, where {@code ps} would show it).
 *
 * <p>The client verifies the server's certificate chain against the certificates of {@code --tls-trust} only, as the
 * bridge's own TLS test does: the trust store pins the certificate. The host name is checked too: Netty 4.2's client
 * contexts enable HTTPS endpoint identification by default and the bridge's transport passes the host it connects
 * to, so the writer's certificate must name the {@code HOST} of {@code --remote HOST:PORT} (SAN {@code dns:} or
 * {@code ip:}).
 */
final class TlsFiles {

    /** The environment variable read for the password when {@code --tls-password-env} is not given. */
    static final String DEFAULT_PASSWORD_ENV = "SLUICE_TLS_PASSWORD";

    private TlsFiles() {
    }

    /** A keystore or trust store that cannot be used; the message names the option, the file and why. */
    static final class BadStoreException extends Exception {
        private static final long serialVersionUID = 1L;

        BadStoreException(String message) {
            super(message);
        }
    }

    /**
     * The server context of {@code --tls-keystore FILE}: the private key and certificate chain in FILE.
     *
     * @param keystore the PKCS12 keystore
     * @param passwordEnv the environment variable holding its password
     * @param env the environment lookup ({@code System::getenv} outside tests)
     */
    static SslContext server(Path keystore, String passwordEnv, Function<String, String> env)
            throws BadStoreException {
        String what = "--tls-keystore " + keystore;
        String password = env.apply(passwordEnv);
        if (password == null || password.isEmpty()) {
            throw new BadStoreException(what + ": the keystore password is read from the environment variable "
                    + passwordEnv + ", which is " + (password == null ? "not set" : "empty")
                    + " (--tls-password-env NAME picks another variable)");
        }
        char[] secret = password.toCharArray();
        KeyStore store = load(what, keystore, secret, passwordEnv);
        boolean hasKey = false;
        try {
            for (String alias : Collections.list(store.aliases())) {
                hasKey |= store.isKeyEntry(alias);
            }
        } catch (KeyStoreException e) {
            throw new BadStoreException(what + ": cannot list its entries: " + Failures.describe(e));
        }
        if (!hasKey) {
            throw new BadStoreException(what + ": holds no private key (a trust store? the writer needs a keystore "
                    + "made with keytool -genkeypair)");
        }
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, secret);
            return SslContextBuilder.forServer(kmf).build();
        } catch (UnrecoverableKeyException e) {
            throw new BadStoreException(what + ": the private key's password differs from the keystore password in "
                    + passwordEnv + " (give both the same password)");
        } catch (GeneralSecurityException | IOException e) {
            throw new BadStoreException(what + ": cannot use it for TLS: " + Failures.describe(e));
        }
    }

    /**
     * The client context of {@code --tls-trust FILE}: the server is trusted if its certificate chain ends in one of
     * FILE's certificates (trusted certificates, or the certificates of key entries, so the writer's keystore works
     * too).
     *
     * @param trustStore the PKCS12 trust store or keystore
     * @param passwordEnv the environment variable holding its password; unset or empty for a store without one
     * @param env the environment lookup ({@code System::getenv} outside tests)
     */
    static SslContext client(Path trustStore, String passwordEnv, Function<String, String> env)
            throws BadStoreException {
        String what = "--tls-trust " + trustStore;
        String password = env.apply(passwordEnv);
        char[] secret = password == null || password.isEmpty() ? null : password.toCharArray();
        KeyStore store = load(what, trustStore, secret, passwordEnv);
        int certificates = 0;
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (store.getCertificate(alias) != null) {
                    certificates++;
                }
            }
        } catch (KeyStoreException e) {
            throw new BadStoreException(what + ": cannot list its entries: " + Failures.describe(e));
        }
        if (certificates == 0) {
            throw new BadStoreException(what + ": holds no certificate to trust" + (secret == null
                    ? " that can be read without a password (is " + passwordEnv + " set? --tls-password-env NAME "
                            + "picks another variable)"
                    : ""));
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            return SslContextBuilder.forClient().trustManager(tmf).build();
        } catch (GeneralSecurityException | IOException e) {
            throw new BadStoreException(what + ": cannot use it for TLS: " + Failures.describe(e));
        }
    }

    private static KeyStore load(String what, Path file, char[] password, String passwordEnv)
            throws BadStoreException {
        if (!Files.exists(file)) {
            throw new BadStoreException(what + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new BadStoreException(what + ": not a file");
        }
        KeyStore store;
        try {
            store = KeyStore.getInstance("PKCS12");
        } catch (KeyStoreException e) {
            throw new BadStoreException(what + ": this JDK has no PKCS12 support: " + Failures.describe(e));
        }
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new BadStoreException(what + ": wrong password (read from the environment variable "
                        + passwordEnv + ")");
            }
            throw new BadStoreException(what + ": cannot read it as a PKCS12 keystore: " + Failures.describe(e));
        } catch (GeneralSecurityException e) {
            throw new BadStoreException(what + ": cannot load it: " + Failures.describe(e));
        }
        return store;
    }
}
