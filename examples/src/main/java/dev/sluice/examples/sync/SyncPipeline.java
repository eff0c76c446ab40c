package dev.sluice.examples.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.LongConsumer;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelSender;
import dev.sluice.reactor.BlockingStage;
import dev.sluice.reactor.ReactorChannels;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * One sync run: builds the four-stage pipeline, runs it to the end (or until {@link #cancel()}), reports.
 *
 * <pre>
 *  TreeWalker ──scan──▶ flux(scan).flatMap(Planner, parallelism) ──▶ throughBlocking(LegacyWriter) ──▶ summary
 *  (thread,            (Reactor, hashing on a bounded-elastic        (its own thread: blocking        (counts,
 *   blocking send)      scheduler)                                    iterator in, blocking send out)  progress)
 * </pre>
 *
 * <p>Every arrow is a bounded Sluice channel of {@code --capacity} slots, so the whole run holds at most about
 * {@code 3 × capacity + parallelism} entries in memory however large the tree, and a slow disk writer slows the
 * directory walk instead of filling the heap.
 *
 * <p><b>Cancellation</b> ({@link #cancel()}, called by the shutdown hook on Ctrl-C or SIGTERM) goes through the
 * channels: the scan channel is cancelled (the walker's blocked {@code send} throws at once, buffered jobs go to the
 * undelivered handler), the Reactor subscription is disposed (which cancels the operator's channels, so the writer's
 * {@code hasNext}/{@code send} end), and the shared flag stops a hash or a copy within one 64 KiB chunk. {@link #run()}
 * then waits up to a second for the walker and the writer, and deletes any temporary file still registered: DST is
 * left with complete files only.
 */
final class SyncPipeline {
    private static final long STOP_WAIT_MILLIS = 1000;

    private final Path source;
    private final Path target;
    private final SyncOptions options;
    private final Progress.Mode progressMode;
    private final java.io.PrintStream out;
    private final Counters counters = new Counters();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final Set<Path> tempFiles = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Set<Path> sourcePaths = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private final CountDownLatch writerStopped = new CountDownLatch(1);
    private final AtomicBoolean writerStarted = new AtomicBoolean();
    private final AtomicReference<ChannelSender<Outcome>> writerOut = new AtomicReference<>();
    private final AtomicReference<ChannelIterator<Decision>> writerIn = new AtomicReference<>();
    private final AtomicLong undelivered = new AtomicLong();
    private final Channel<FileJob> scan;
    private volatile Disposable subscription;
    private volatile Progress progress;
    private volatile Consumer<Outcome> listener = o -> { };
    /* --remote: the write stage in another process, made when the run starts */
    private Function<Remote, BlockingStage<Decision, Outcome>> remoteWriter;

    /**
     * What a {@code --remote} write stage gets from the pipeline: the walker's error count (for {@code --delete}),
     * where to print notices, where to report a failure of an entry that is not in SRC (a deletion), and where to
     * add the entries the remote writer deleted.
     */
    record Remote(IntSupplier walkErrors, Consumer<String> notices, Consumer<String> failure, LongConsumer deleted) {
    }

    SyncPipeline(Path source, Path target, SyncOptions options, java.io.PrintStream out) {
        this.source = source;
        this.target = target;
        this.options = options;
        this.progressMode = options.progress();
        this.out = out;
        this.scan = Channel.<FileJob>builder()
                .capacity(options.capacity())
                .onUndelivered((job, reason) -> undelivered.incrementAndGet()) // jobs dropped by a cancel
                .build();
    }

    /** For tests: called with each outcome, on the thread that delivers it. */
    SyncPipeline onOutcome(Consumer<Outcome> newListener) {
        this.listener = newListener;
        return this;
    }

    /**
     * Replaces the local writer with a stage that hands the decisions to a writer in another process
     * ({@code --remote}); the hashers then plan without seeing DST ({@link Planner#remote}), and {@code --delete}
     * is the remote writer's.
     */
    SyncPipeline writeRemotely(Function<Remote, BlockingStage<Decision, Outcome>> stage) {
        this.remoteWriter = stage;
        return this;
    }

    /** Cancels the run through the channels; idempotent, callable from any thread (the shutdown hook). */
    void cancel() {
        if (!cancelled.compareAndSet(false, true)) {
            return;
        }
        scan.cancel();
        Disposable d = subscription;
        if (d != null) {
            d.dispose();
        }
        finished.completeExceptionally(new CancellationException("sync cancelled"));
    }

    boolean isCancelled() {
        return cancelled.get();
    }

    /** Runs the sync; returns when it is complete or, after a cancel, once the stages have stopped. */
    SyncReport run() throws IOException {
        long start = System.nanoTime();
        if (remoteWriter == null) {
            Files.createDirectories(target);
        }
        Progress display = new Progress(progressMode, out, counters, options.progressIntervalMillis()).start();
        this.progress = display;
        TreeWalker walker = new TreeWalker(source, scan, counters, cancelled, options.delete() ? sourcePaths : null,
                display::message);
        Thread walkerThread = new Thread(walker, "sluice-walker");
        walkerThread.setDaemon(true);
        Scheduler hashers = Schedulers.newBoundedElastic(options.parallelism(), Integer.MAX_VALUE, "sluice-hash",
                60, true);
        String abort = null;
        long deleted = 0;
        try {
            Planner planner = remoteWriter != null ? Planner.remote(source, options, cancelled)
                    : new Planner(source, target, options, cancelled);
            LegacyWriter writer = new LegacyWriter(source, target, options, cancelled, tempFiles,
                    counters.createdDirs);
            BlockingStage<Decision, Outcome> write = remoteWriter != null
                    ? remoteWriter.apply(new Remote(walker::errors, display::message, this::remoteFailure,
                            counters.deleted::add))
                    : writer::run;

            Flux<Outcome> outcomes = ReactorChannels.flux(scan.receiver())                       // 1 -> 2
                    .flatMap(job -> Mono.fromCallable(() -> planner.decide(job)).subscribeOn(hashers),
                            options.parallelism(), 1)                                            // 2: hash
                    .transform(ReactorChannels.<Decision, Outcome>throughBlocking(options.capacity(),
                            (in, writerSends) -> {                                               // 3: write
                                writerStarted.set(true);
                                writerOut.set(writerSends);
                                writerIn.set(in);
                                try {
                                    write.run(in, writerSends);
                                } finally {
                                    writerStopped.countDown();
                                }
                            }));

            walkerThread.start();
            subscription = outcomes.subscribe(this::record,                                      // 4: summary
                    finished::completeExceptionally, () -> finished.complete(null));
            if (cancelled.get()) {
                subscription.dispose(); // cancel() ran before the subscription existed
            }
            abort = await();
            stop(walkerThread);
            if (abort == null && options.delete() && remoteWriter == null) {
                deleted = deleteExtraneous(walker);
            }
        } finally {
            removeTempFiles();
            hashers.dispose();
            display.close();
        }
        counters.deleted.add(deleted);
        return report(System.nanoTime() - start, abort);
    }

    /* Waits for the end of the outcomes; returns why the run stopped early, or null. */
    private String await() {
        try {
            finished.get();
            return null;
        } catch (CancellationException e) {
            return null; // cancel(): reported as cancelled
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel();
            return null;
        } catch (ExecutionException e) {
            return cancelled.get() ? null : Failures.describe(e.getCause());
        }
    }

    /* After the end or a cancel: the walker and the writer stop within a second (they check the flag per chunk). */
    private void stop(Thread walkerThread) {
        try {
            walkerThread.join(STOP_WAIT_MILLIS);
            if (walkerThread.isAlive()) {
                walkerThread.interrupt();
                walkerThread.join(STOP_WAIT_MILLIS);
            }
            if (writerStarted.get() && !writerStopped.await(STOP_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                progress.message("sluice-sync: warning: the writer did not stop within "
                        + STOP_WAIT_MILLIS + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void record(Outcome outcome) {
        counters.record(outcome);
        if (remoteWriter != null && outcome.job().isDirectory() && outcome.status() == Outcome.Status.COPIED) {
            counters.createdDirs.increment(); // the remote writer created it (its parents it counts only itself)
        }
        if (outcome.status() == Outcome.Status.FAILED) {
            String line = display(outcome.job().relative()) + ": " + outcome.error();
            failures.add(line);
            progress.message("sluice-sync: failed: " + line);
        }
        listener.accept(outcome);
    }

    /* --remote: the remote writer could not handle an entry of DST (a deletion) */
    private void remoteFailure(String line) {
        counters.failedFiles.increment();
        failures.add(line);
        progress.message("sluice-sync: failed: " + line);
    }

    private long deleteExtraneous(TreeWalker walker) {
        if (walker.errors() > 0) {
            progress.message("sluice-sync: some of SRC could not be read: skipping --delete");
            return 0;
        }
        try {
            return Deletion.extraneous(target, sourcePaths, options.dryRun(), progress::message, (path, reason) -> {
                counters.failedFiles.increment();
                failures.add(display(path) + ": " + reason);
                progress.message("sluice-sync: failed: " + display(path) + ": " + reason);
            });
        } catch (IOException e) {
            counters.failedFiles.increment();
            failures.add("--delete: " + Failures.describe(e));
            return 0;
        }
    }

    private void removeTempFiles() {
        for (Path tmp : List.copyOf(tempFiles)) {
            try {
                LegacyWriter.removeTempFile(target, tmp); // not through a link, even one swapped in meanwhile
                tempFiles.remove(tmp);
            } catch (IOException e) {
                progress.message("sluice-sync: could not remove temporary file " + tmp + ": "
                        + Failures.describe(e));
            }
        }
    }

    private SyncReport report(long elapsed, String abort) {
        ChannelSender<Outcome> done = writerOut.get();
        ChannelIterator<Decision> write = writerIn.get();
        List<SyncReport.ChannelReport> channels = List.of(
                new SyncReport.ChannelReport("scan", "walker->hashers", options.capacity(), scan.stats()),
                new SyncReport.ChannelReport("write", "hashers->writer", options.capacity(),
                        write == null ? null : write.stats()),
                new SyncReport.ChannelReport("done", "writer->summary", options.capacity(),
                        done == null ? null : done.stats()));
        return new SyncReport(source, target, options, counters.scannedFiles.sum(), counters.scannedDirs.sum(),
                counters.scannedBytes.sum(), counters.copiedFiles.sum(), counters.copiedBytes.sum(),
                counters.skippedFiles.sum(), counters.touchedFiles.sum(), counters.failedFiles.sum(),
                counters.createdDirs.sum(), counters.deleted.sum(), counters.ignored.sum(), elapsed,
                cancelled.get(), abort, channels, List.copyOf(failures));
    }

    static String display(Path relative) {
        String s = relative.toString();
        return s.isEmpty() ? "." : s;
    }

    /** For tests: temporary files still registered (empty once {@link #run()} returned). */
    Set<Path> pendingTempFiles() {
        return Set.copyOf(tempFiles);
    }
}
