package dev.sluice.examples.sync;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import dev.sluice.reactor.BlockingStage;
import dev.sluice.rsocket.ClientOptions;
import dev.sluice.rsocket.RemoteChannelException;
import dev.sluice.rsocket.SluiceClient;
import dev.sluice.rsocket.SluiceServer;
import io.netty.handler.ssl.SslContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice-sync SRC DST}: a one-way directory sync (a small rsync) built on bounded Sluice channels.
 *
 * <p>A blocking directory walker feeds a Reactor stage that hashes files in parallel and decides what changed, which
 * feeds a legacy blocking writer through {@code ReactorChannels.throughBlocking}; every hand-off is a bounded channel,
 * so the walk is paced by the disk writes. Without arguments it runs a demo: it generates a sample tree in a
 * temporary directory, syncs it, syncs it again (nothing is copied the second time) and removes both trees.
 *
 * <p>Exit codes: 0 success; 1 some entries failed (the rest was synced); 2 bad arguments; 130 cancelled (Ctrl-C or
 * SIGTERM: the shutdown hook cancels the pipeline through its channels and waits for it to stop, so DST holds no
 * partial file).
 */
@Command(name = "sluice-sync", mixinStandardHelpOptions = true, version = "sluice-sync 0.1.0-SNAPSHOT",
        sortOptions = false, usageHelpAutoWidth = true,
        description = {"One-way sync of SRC into DST through bounded Sluice channels:",
            "  walker -> Reactor hashing (SHA-256) -> blocking writer -> summary",
            "Files of equal size and modification time are skipped",
            "(--checksum compares contents instead).",
            "No SRC and DST: a demo on a generated tree, synced twice.",
            "The writer can run in another process: 'sluice-sync --serve-writer DST",
            "--token-file T' there, then 'sluice-sync SRC --remote HOST:PORT",
            "--token-file T' here (T: a file with the shared secret, mode 0600;",
            "the writer creates it if missing; or set $SLUICE_TOKEN on both sides).",
            "--delete, --checksum, --dry-run and --bwlimit go on the SRC side.",
            "TLS: '--serve-writer DST --tls-keystore writer.p12' there and",
            "'SRC --remote HOST:PORT --tls-trust writer.p12' here, the",
            "password in $SLUICE_TLS_PASSWORD on both sides. The client trusts",
            "only the certificates in --tls-trust (this pins the writer's",
            "certificate), and the certificate must also name the HOST of",
            "--remote (SAN dns: or ip:). A self-signed keystore:",
            "  keytool -genkeypair -alias sluice -keyalg EC -groupname secp256r1",
            "    -dname CN=localhost -ext SAN=dns:localhost,ip:127.0.0.1",
            "    -validity 365 -storetype PKCS12 -keystore writer.p12",
            "    -storepass \"$SLUICE_TLS_PASSWORD\""},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:success", "1:some entries failed", "2:bad arguments", "130:cancelled (Ctrl-C, SIGTERM)"})
public final class SluiceSync implements Callable<Integer> {

    /** The exit code for bad arguments and refused paths. */
    static final int EXIT_USAGE = 2;
    /** The environment variable that may hold the token of --remote / --serve-writer. */
    static final String TOKEN_ENV = "SLUICE_TOKEN";

    @Parameters(index = "0", arity = "0..1", paramLabel = "SRC", description = "the directory to copy from")
    private Path source;

    @Parameters(index = "1", arity = "0..1", paramLabel = "DST",
            description = "the directory to copy into (created if missing)")
    private Path target;

    @Option(names = "--capacity", paramLabel = "N", defaultValue = "64",
            description = "capacity of each channel (default: ${DEFAULT-VALUE})")
    private int capacity;

    @Option(names = "--parallelism", paramLabel = "N",
            description = "how many files are hashed at once (default: the number of CPUs)")
    private Integer parallelism;

    @Option(names = {"-c", "--checksum"}, description = "compare files by SHA-256, not by size and time")
    private boolean checksum;

    @Option(names = {"-n", "--dry-run"}, description = "show what would be done; write and delete nothing")
    private boolean dryRun;

    @Option(names = "--delete", description = "delete entries of DST that are not in SRC")
    private boolean delete;

    @Option(names = "--stats-json", paramLabel = "FILE", description = "also write the summary as JSON to FILE")
    private Path statsJson;

    @Option(names = "--bwlimit", paramLabel = "KIB", defaultValue = "0",
            description = "limit the writer to KIB KiB/s (default: no limit)")
    private long bwlimitKib;

    @Option(names = "--remote", paramLabel = "HOST:PORT",
            description = "send the writes to a 'sluice-sync --serve-writer' at HOST:PORT instead of DST")
    private String remote;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "the file holding the shared secret of --remote / --serve-writer (--serve-writer: created "
                    + "with a new random token, mode 0600, if missing; default: $" + SluiceSync.TOKEN_ENV
                    + ", else the writer makes a temporary one)")
    private Path tokenFile;

    /* refused with an explanation: a secret in argv is readable by every local user */
    @Option(names = "--token", paramLabel = "T", hidden = true)
    private String tokenInArgv;

    @Option(names = "--serve-writer", paramLabel = "DST",
            description = "run only the writer stage into DST, for one 'sluice-sync SRC --remote' run")
    private Path serveWriter;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "--serve-writer: the address to listen on (default: ${DEFAULT-VALUE})")
    private String bind;

    @Option(names = "--port", paramLabel = "N", defaultValue = "0",
            description = "--serve-writer: the TCP port (default: any free port, printed at start)")
    private int port;

    @Option(names = "--tls-keystore", paramLabel = "FILE",
            description = "--serve-writer: serve TLS with the private key and certificate in this PKCS12 keystore")
    private Path tlsKeystore;

    @Option(names = "--tls-trust", paramLabel = "FILE",
            description = "--remote: connect with TLS, trusting only the certificates in this PKCS12 file (a trust "
                    + "store, or the writer's keystore); the writer's certificate must name HOST")
    private Path tlsTrust;

    @Option(names = "--tls-password-env", paramLabel = "NAME",
            description = "the environment variable holding the password of --tls-keystore or --tls-trust (default: "
                    + TlsFiles.DEFAULT_PASSWORD_ENV + "; never a password on the command line; may be unset for a "
                    + "trust store without password)")
    private String tlsPasswordEnv;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "demo only: seed of the generated tree (default: ${DEFAULT-VALUE})")
    private long seed;

    @Option(names = "--sample-mb", paramLabel = "MB", defaultValue = "200", hidden = true,
            description = "demo only: size of the generated tree in MiB")
    private long sampleMb;

    @Option(names = "--progress", paramLabel = "MODE", hidden = true,
            description = "auto, bar, plain or none (default: bar on a terminal, else plain lines)")
    private String progressMode = "auto";

    @Option(names = "--progress-interval-ms", paramLabel = "MS", defaultValue = "1000", hidden = true)
    private long progressIntervalMs;

    private final PrintStream out;
    private final PrintStream err;
    private final Function<String, String> env;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile SyncPipeline current;
    private volatile RemoteWriter.Server serving;

    private SluiceSync(PrintStream out, PrintStream err, Function<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    /**
     * Runs {@code sluice-sync} and exits with its exit code. A shutdown hook turns Ctrl-C and SIGTERM into a cancel of
     * the running pipeline and exit code 130.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        SluiceSync command = new SluiceSync(System.out, System.err, System::getenv);
        Thread hook = new Thread(command::onSignal, "sluice-sync-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        int code;
        try {
            code = command.commandLine().execute(args);
        } finally {
            command.done.countDown();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            // a signal arrived: the hook is running and ends the JVM with 130 once we are done
        }
        System.exit(code);
    }

    /**
     * Runs the command in this JVM without a shutdown hook and without exiting (for tests).
     *
     * @return the exit code
     */
    static int execute(PrintStream out, PrintStream err, String... args) {
        return create(out, err, System::getenv).commandLine().execute(args);
    }

    /**
     * A command for tests: {@code env} stands for the environment (the TLS password is read through it);
     * {@link #commandLine()} runs it, {@link #cancel()} stops it.
     */
    static SluiceSync create(PrintStream out, PrintStream err, Function<String, String> env) {
        return new SluiceSync(out, err, env);
    }

    CommandLine commandLine() {
        CommandLine cl = new CommandLine(this);
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setParameterExceptionHandler((ex, args) -> {
            err.println("sluice-sync: " + ex.getMessage());
            err.println("Try 'sluice-sync --help' for more information.");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            err.println("sluice-sync: error: " + Failures.describe(ex));
            return 1;
        });
        return cl;
    }

    /* The shutdown hook: cancel through the channels, wait for the main thread to report, exit 130. */
    private void onSignal() {
        cancel();
        try {
            done.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.flush();
        err.flush();
        Runtime.getRuntime().halt(SyncReport.EXIT_CANCELLED);
    }

    /** Cancels the run in progress (sample generation or a pipeline); idempotent. */
    void cancel() {
        cancelled.set(true);
        SyncPipeline pipeline = current;
        if (pipeline != null) {
            pipeline.cancel();
        }
        RemoteWriter.Server server = serving;
        if (server != null) {
            server.cancel();
        }
    }

    /** Parses nothing more: validates, then syncs or runs the demo. */
    @Override
    public Integer call() throws IOException {
        SyncOptions options;
        try {
            options = options();
        } catch (IllegalArgumentException e) {
            return usage(e.getMessage());
        }
        String tlsRefusal = checkTlsOptions();
        if (tlsRefusal != null) {
            return usage(tlsRefusal);
        }
        if (tokenInArgv != null) {
            return usage("--token is not accepted: a secret on the command line is visible to every local user "
                    + "(ps, /proc/PID/cmdline). Put it in a file only you can read and give --token-file FILE, or "
                    + "set " + TOKEN_ENV);
        }
        if (serveWriter != null) {
            return serveWriter(options);
        }
        if (remote != null) {
            return remote(options);
        }
        if (tokenFile != null) {
            return usage("--token-file needs --remote or --serve-writer");
        }
        if (source == null && target == null) {
            return demo(options);
        }
        if (target == null) {
            return usage("missing DST (give both SRC and DST, or neither for the demo)");
        }
        String refusal = checkPaths(source, target, options.delete());
        if (refusal != null) {
            return usage(refusal);
        }
        List<SyncReport> reports = new ArrayList<>();
        int code = sync(source, target, options, reports);
        writeJson(reports);
        return code;
    }

    /* The TLS options belong to one side each: --tls-keystore to the writer, --tls-trust to the sender. */
    private String checkTlsOptions() {
        if (tlsKeystore != null && serveWriter == null) {
            return "--tls-keystore " + tlsKeystore + " needs --serve-writer (the --remote side takes --tls-trust)";
        }
        if (tlsTrust != null && remote == null) {
            return "--tls-trust " + tlsTrust + " needs --remote (the --serve-writer side takes --tls-keystore)";
        }
        if (tlsPasswordEnv != null) {
            if (tlsKeystore == null && tlsTrust == null) {
                return "--tls-password-env " + tlsPasswordEnv + " needs --tls-keystore or --tls-trust";
            }
            if (!tlsPasswordEnv.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                return "--tls-password-env must name an environment variable (letters, digits, _) but was '"
                        + tlsPasswordEnv + "'; the password itself goes into that variable";
            }
        }
        return null;
    }

    private String passwordEnv() {
        return tlsPasswordEnv == null ? TlsFiles.DEFAULT_PASSWORD_ENV : tlsPasswordEnv;
    }

    private SyncOptions options() {
        if (capacity < 1) {
            throw new IllegalArgumentException("--capacity must be >= 1 but was " + capacity);
        }
        int threads = parallelism == null ? Runtime.getRuntime().availableProcessors() : parallelism;
        if (threads < 1) {
            throw new IllegalArgumentException("--parallelism must be >= 1 but was " + threads);
        }
        if (bwlimitKib < 0) {
            throw new IllegalArgumentException("--bwlimit must be >= 0 but was " + bwlimitKib);
        }
        if (progressIntervalMs < 1) {
            throw new IllegalArgumentException("--progress-interval-ms must be >= 1 but was " + progressIntervalMs);
        }
        if (sampleMb < 1) {
            throw new IllegalArgumentException("--sample-mb must be >= 1 but was " + sampleMb);
        }
        Progress.Mode mode = switch (progressMode) {
            case "auto" -> Progress.Mode.auto();
            case "bar" -> Progress.Mode.BAR;
            case "plain" -> Progress.Mode.PLAIN;
            case "none" -> Progress.Mode.NONE;
            default -> throw new IllegalArgumentException(
                    "--progress must be auto, bar, plain or none but was " + progressMode);
        };
        return new SyncOptions(capacity, threads, checksum, dryRun, delete, bwlimitKib * 1024, mode,
                progressIntervalMs);
    }

    /**
     * Checks SRC and DST before anything is written.
     *
     * @return why the pair is refused, or {@code null}
     */
    static String checkPaths(Path source, Path target, boolean delete) {
        if (!Files.exists(source)) {
            return "SRC does not exist: " + source;
        }
        if (!Files.isDirectory(source)) {
            return "SRC is not a directory: " + source;
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target)) {
            return "DST exists and is not a directory: " + target;
        }
        Path src;
        Path dst;
        try {
            src = source.toRealPath();
            dst = realPathOfMaybeMissing(target);
        } catch (IOException e) {
            return "cannot resolve " + source + " or " + target + ": " + Failures.describe(e);
        }
        if (dst.equals(src)) {
            return "SRC and DST are the same directory: " + src;
        }
        if (dst.startsWith(src)) {
            return "DST " + target + " is inside SRC " + source + ": refusing to sync a tree into itself";
        }
        if (delete && src.startsWith(dst)) {
            return "SRC " + source + " is inside DST " + target + ": --delete would delete the source";
        }
        return null;
    }

    /* DST may not exist yet: resolve its deepest existing ancestor, then append the rest. */
    private static Path realPathOfMaybeMissing(Path path) throws IOException {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        return existing.toRealPath().resolve(existing.relativize(absolute));
    }

    /* --serve-writer DST: the writer stage alone, behind an exclusive SluiceServer, until one run is complete. */
    private int serveWriter(SyncOptions options) throws IOException {
        if (source != null || remote != null) {
            return usage("--serve-writer takes no SRC, DST or --remote: it writes what a remote sluice-sync sends");
        }
        if (options.delete() || options.checksum() || options.dryRun()) {
            return usage("--delete, --checksum and --dry-run are given on the sending side ('SRC --remote'): the "
                    + "writer takes them from there, they are not supported with --serve-writer");
        }
        if (port < 0 || port > 65535) {
            return usage("--port must be in [0, 65535] but was " + port);
        }
        if (Files.exists(serveWriter, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(serveWriter)) {
            return usage("DST exists and is not a directory: " + serveWriter);
        }
        SslContext tls = null;
        if (tlsKeystore != null) {
            try {
                tls = TlsFiles.server(tlsKeystore, passwordEnv(), env);
            } catch (TlsFiles.BadStoreException e) {
                return usage(e.getMessage());
            }
        }
        Path madeTokenFile = null;
        String token;
        String tokenSource;
        try {
            if (tokenFile != null && !Files.exists(tokenFile, LinkOption.NOFOLLOW_LINKS)) {
                token = SluiceServer.newToken();
                writeTokenFile(tokenFile, token, false);
                tokenSource = "a new token in " + tokenFile + " (mode 0600)";
            } else if (tokenFile != null) {
                token = readTokenFile(tokenFile);
                tokenSource = "the token in " + tokenFile;
            } else if (env.apply(TOKEN_ENV) != null) {
                token = env.apply(TOKEN_ENV).strip();
                tokenSource = "the token in $" + TOKEN_ENV;
            } else {
                token = SluiceServer.newToken();
                madeTokenFile = Files.createTempFile("sluice-token-", "", PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
                writeTokenFile(madeTokenFile, token, true);
                tokenSource = "a new token in " + madeTokenFile + " (mode 0600, removed when the writer ends; copy "
                        + "it to the sending side)";
            }
        } catch (TokenException e) {
            return usage(e.getMessage());
        }
        RemoteWriter.Server bound;
        try {
            bound = new RemoteWriter.Server(serveWriter, options, bind, port, token, tls);
        } catch (IllegalArgumentException e) {
            if (madeTokenFile != null) {
                Files.deleteIfExists(madeTokenFile);
            }
            return usage(e.getMessage()); // a weak token: the bridge says why, never the token itself
        }
        try (RemoteWriter.Server server = bound) {
            serving = server;
            if (cancelled.get()) {
                server.cancel();
            }
            out.printf("sluice-sync: writer into %s listening on %s:%d%s%n", serveWriter, bind, server.port(),
                    tls == null ? "" : " (TLS, key from " + tlsKeystore + ")");
            if (tls == null && !isLoopback(bind)) {
                err.println("sluice-sync: warning: listening on " + bind + " without TLS: the token and every file "
                        + "cross the network in the clear (give --tls-keystore)");
            }
            out.println("sluice-sync: clients must present " + tokenSource);
            out.println("sluice-sync: waiting for a run: sluice-sync SRC --remote HOST:" + server.port()
                    + " --token-file FILE" + (tls == null ? "" : " --tls-trust FILE"));
            out.flush();
            int code = server.run(out);
            out.flush();
            return code;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return SyncReport.EXIT_CANCELLED;
        } finally {
            serving = null;
            if (madeTokenFile != null) {
                Files.deleteIfExists(madeTokenFile);
            }
        }
    }

    /** A token file that cannot be used. */
    private static final class TokenException extends Exception {
        private static final long serialVersionUID = 1L;

        TokenException(String message) {
            super(message);
        }
    }

    private static String readTokenFile(Path file) throws TokenException {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new TokenException("cannot read --token-file " + file + ": " + Failures.describe(e));
        }
        if (token.isEmpty()) {
            throw new TokenException("--token-file " + file + " is empty");
        }
        return token;
    }

    /* Writes a token to a new file only its owner can read (0600). */
    private static void writeTokenFile(Path file, String token, boolean exists) throws TokenException {
        try {
            if (exists) {
                Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
            } else {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                        "rw-------")));
                Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new TokenException("cannot create --token-file " + file + ": " + Failures.describe(e));
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /* SRC --remote HOST:PORT: walker and hashers here, the writer in a --serve-writer process. */
    private int remote(SyncOptions options) throws IOException {
        if (source == null || target != null) {
            return usage("--remote takes SRC only (DST is the --serve-writer's)");
        }
        String token;
        try {
            token = tokenFile != null ? readTokenFile(tokenFile) : env.apply(TOKEN_ENV);
        } catch (TokenException e) {
            return usage(e.getMessage());
        }
        if (token == null || token.isBlank()) {
            return usage("--remote needs the writer's token: --token-file FILE (the file the --serve-writer names "
                    + "at start) or the environment variable " + TOKEN_ENV);
        }
        token = token.strip();
        int colon = remote.lastIndexOf(':');
        int remotePort;
        try {
            remotePort = colon <= 0 ? -1 : Integer.parseInt(remote.substring(colon + 1));
        } catch (NumberFormatException e) {
            remotePort = -1;
        }
        if (remotePort < 1 || remotePort > 65535) {
            return usage("--remote must be HOST:PORT with a port in [1, 65535] but was '" + remote + "'");
        }
        if (!Files.isDirectory(source)) {
            return usage(Files.exists(source) ? "SRC is not a directory: " + source : "SRC does not exist: " + source);
        }
        String host = remote.substring(0, colon);
        ClientOptions clientOptions = ClientOptions.token(token);
        if (tlsTrust != null) {
            try {
                clientOptions = clientOptions.withTls(TlsFiles.client(tlsTrust, passwordEnv(), env));
            } catch (TlsFiles.BadStoreException e) {
                return usage(e.getMessage());
            }
        }
        SluiceClient connected;
        try {
            connected = SluiceClient.connect(host, remotePort, clientOptions);
        } catch (RemoteChannelException e) {
            err.println("sluice-sync: error: " + e.getMessage());
            if (!e.getMessage().contains(" rejected the connection")) {
                err.println(tlsTrust == null
                        ? "sluice-sync: (if the writer serves TLS, give --tls-trust with its certificate)"
                        : "sluice-sync: (with --tls-trust " + tlsTrust + ": does the writer serve TLS, with a "
                                + "certificate in that file that names " + host + " in its SAN?)");
            }
            return 1;
        }
        try (SluiceClient client = connected) {
            List<SyncReport> reports = new ArrayList<>();
            int code = sync(source, Path.of(remote), options, reports,
                    RemoteWriter.sendingStage(client, source, options));
            writeJson(reports);
            return code;
        } catch (RemoteChannelException e) {
            err.println("sluice-sync: error: " + e.getMessage());
            return 1;
        }
    }

    private int sync(Path src, Path dst, SyncOptions options, List<SyncReport> reports) throws IOException {
        return sync(src, dst, options, reports, null);
    }

    private int sync(Path src, Path dst, SyncOptions options, List<SyncReport> reports,
            Function<SyncPipeline.Remote, BlockingStage<Decision, Outcome>> remoteWriter) throws IOException {
        if (cancelled.get()) {
            return SyncReport.EXIT_CANCELLED;
        }
        SyncPipeline pipeline = new SyncPipeline(src, dst, options, out);
        if (remoteWriter != null) {
            pipeline.writeRemotely(remoteWriter);
        }
        current = pipeline;
        if (cancelled.get()) {
            pipeline.cancel(); // a signal arrived between the check above and 'current'
        }
        SyncReport report = pipeline.run();
        current = null;
        reports.add(report);
        report.print(out);
        out.flush();
        return report.exitCode();
    }

    private int demo(SyncOptions options) throws IOException {
        Path base = Files.createTempDirectory("sluice-sync-demo-");
        Path src = base.resolve("src");
        Path dst = base.resolve("dst");
        List<SyncReport> reports = new ArrayList<>();
        try {
            out.printf("sluice-sync demo: generating a sample tree (seed %d, about %d MiB) in %s%n", seed, sampleMb,
                    src);
            long t0 = System.nanoTime();
            SampleTree.Summary sample;
            try {
                sample = SampleTree.generate(src, seed, sampleMb * SampleTree.MIB, cancelled::get);
            } catch (CancellationException e) {
                out.println("sluice-sync demo: cancelled");
                return SyncReport.EXIT_CANCELLED;
            }
            out.printf("  %d files, %d links, %d directories, %s in %s%n%n", sample.files(), sample.links(),
                    sample.dirs(), Units.bytes(sample.bytes()), Units.millis(System.nanoTime() - t0));

            out.println("run 1: sluice-sync " + src + " " + dst);
            int first = sync(src, dst, options, reports);
            if (first != 0) {
                return first;
            }
            out.println();
            out.println("run 2: the same again; nothing changed, so nothing is copied");
            int second = sync(src, dst, options, reports);
            if (second == 0) {
                out.println();
                out.println("sluice-sync demo: done; removing " + base);
            }
            return second;
        } finally {
            writeJson(reports);
            try {
                Deletion.deleteTree(base);
            } catch (IOException | UncheckedIOException e) {
                err.println("sluice-sync demo: could not remove " + base + ": " + Failures.describe(e));
            }
        }
    }

    private void writeJson(List<SyncReport> reports) throws IOException {
        if (statsJson == null) {
            return;
        }
        StringBuilder json = new StringBuilder("{\"runs\":[");
        for (int i = 0; i < reports.size(); i++) {
            json.append(i == 0 ? "" : ",").append(reports.get(i).toJson());
        }
        json.append("]}\n");
        Files.writeString(statsJson, json, StandardCharsets.UTF_8);
    }

    private int usage(String message) {
        err.println("sluice-sync: " + message);
        err.println("Try 'sluice-sync --help' for more information.");
        return EXIT_USAGE;
    }
}
