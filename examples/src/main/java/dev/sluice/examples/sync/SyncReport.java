package dev.sluice.examples.sync;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import dev.sluice.ChannelStats;

/**
 * The summary of one run: counts, bytes, time, and each channel's {@link ChannelStats}.
 *
 * @param source SRC
 * @param target DST
 * @param options the settings
 * @param filesScanned files and links found in SRC (directories apart)
 * @param dirsScanned directories found in SRC (the root apart)
 * @param bytesScanned the bytes of the files found
 * @param copied files and links copied (or that would be, in a dry run)
 * @param bytesCopied their bytes
 * @param skipped files already up to date
 * @param touched of the skipped, those whose modification time was set (content equal by checksum)
 * @param failed entries that could not be read, compared, written or deleted
 * @param dirsCreated directories created in DST
 * @param deleted entries deleted from DST by {@code --delete}
 * @param ignored sockets, FIFOs and devices skipped
 * @param elapsedNanos wall time of the run
 * @param cancelled whether the run was cancelled
 * @param abort why the run stopped early (other than a cancel), or {@code null}
 * @param channels one line per channel of the pipeline
 * @param failures one line per failed entry
 */
record SyncReport(Path source, Path target, SyncOptions options, long filesScanned, long dirsScanned,
        long bytesScanned, long copied, long bytesCopied, long skipped, long touched, long failed, long dirsCreated,
        long deleted, long ignored, long elapsedNanos, boolean cancelled, String abort, List<ChannelReport> channels,
        List<String> failures) {

    /** Exit code 130 after a cancel (as after SIGINT), 1 if anything failed, else 0. */
    static final int EXIT_CANCELLED = 130;

    /**
     * One channel of the pipeline.
     *
     * @param name a short name
     * @param arrow which stages it joins
     * @param capacity its capacity
     * @param stats its counters, or {@code null} when the channel is internal to an operator and not exposed
     */
    record ChannelReport(String name, String arrow, int capacity, ChannelStats stats) {
    }

    SyncReport {
        channels = List.copyOf(channels);
        failures = List.copyOf(failures);
    }

    int exitCode() {
        if (cancelled) {
            return EXIT_CANCELLED;
        }
        return failed > 0 || abort != null ? 1 : 0;
    }

    void print(PrintStream out) {
        double seconds = elapsedNanos / 1e9;
        out.println("summary: " + source + " -> " + target + " (" + options.describe() + ")"
                + (cancelled ? "  ** CANCELLED **" : ""));
        out.printf(Locale.ROOT, "  files     %d scanned, %d %s, %d skipped, %d failed%s%n", filesScanned, copied,
                options.dryRun() ? "to copy (dry run)" : "copied", skipped, failed,
                touched > 0 ? " (" + touched + " skipped only had their mtime set)" : "");
        out.printf(Locale.ROOT, "  dirs      %d scanned, %d created%s%s%n", dirsScanned, dirsCreated,
                options.delete() ? ", " + deleted + (options.dryRun() ? " entries to delete" : " entries deleted")
                        : "",
                ignored > 0 ? ", " + ignored + " non-regular files ignored" : "");
        out.printf(Locale.ROOT, "  bytes     %s scanned, %s copied in %.2f s: %s%n", Units.bytes(bytesScanned),
                Units.bytes(bytesCopied), seconds, Units.rate(bytesCopied, elapsedNanos));
        out.printf(Locale.ROOT, "  %-7s %-16s %8s %6s %16s %22s%n", "channel", "joins", "capacity", "peak",
                "senders blocked", "sent/received/undeliv.");
        for (ChannelReport c : channels) {
            ChannelStats s = c.stats();
            if (s == null) {
                out.printf(Locale.ROOT, "  %-7s %-16s %8d %6s %16s %22s%n", c.name(), c.arrow(), c.capacity(), "-",
                        "-", "(stage not started)");
            } else {
                out.printf(Locale.ROOT, "  %-7s %-16s %8d %6d %16s %22s%n", c.name(), c.arrow(), s.capacity(),
                        s.peakSize(), Units.millis(s.senderBlockedNanos()),
                        s.sent() + "/" + s.received() + "/" + s.undelivered());
            }
        }
        if (abort != null) {
            out.println("  aborted: " + abort);
        }
        if (!failures.isEmpty()) {
            out.println("  failed entries:");
            failures.stream().limit(20).forEach(f -> out.println("    " + f));
            if (failures.size() > 20) {
                out.println("    ... and " + (failures.size() - 20) + " more");
            }
        }
    }

    String toJson() {
        StringBuilder json = new StringBuilder(512);
        json.append("{\"source\":").append(quote(source.toString()))
                .append(",\"destination\":").append(quote(target.toString()))
                .append(",\"capacity\":").append(options.capacity())
                .append(",\"parallelism\":").append(options.parallelism())
                .append(",\"checksum\":").append(options.checksum())
                .append(",\"dryRun\":").append(options.dryRun())
                .append(",\"delete\":").append(options.delete())
                .append(",\"cancelled\":").append(cancelled)
                .append(",\"exitCode\":").append(exitCode())
                .append(",\"files\":{\"scanned\":").append(filesScanned)
                .append(",\"copied\":").append(copied)
                .append(",\"skipped\":").append(skipped)
                .append(",\"touched\":").append(touched)
                .append(",\"failed\":").append(failed)
                .append(",\"deleted\":").append(deleted)
                .append(",\"ignored\":").append(ignored)
                .append("},\"directories\":{\"scanned\":").append(dirsScanned)
                .append(",\"created\":").append(dirsCreated)
                .append("},\"bytes\":{\"scanned\":").append(bytesScanned)
                .append(",\"copied\":").append(bytesCopied)
                .append("},\"elapsedNanos\":").append(elapsedNanos)
                .append(",\"bytesPerSecond\":").append(elapsedNanos > 0 ? (long) (bytesCopied * 1e9 / elapsedNanos) : 0)
                .append(",\"abort\":").append(abort == null ? "null" : quote(abort))
                .append(",\"channels\":[");
        for (int i = 0; i < channels.size(); i++) {
            ChannelReport c = channels.get(i);
            ChannelStats s = c.stats();
            json.append(i == 0 ? "" : ",").append("{\"name\":").append(quote(c.name()))
                    .append(",\"joins\":").append(quote(c.arrow()))
                    .append(",\"capacity\":").append(c.capacity());
            if (s != null) {
                json.append(",\"peakSize\":").append(s.peakSize())
                        .append(",\"senderBlockedNanos\":").append(s.senderBlockedNanos())
                        .append(",\"sent\":").append(s.sent())
                        .append(",\"received\":").append(s.received())
                        .append(",\"undelivered\":").append(s.undelivered());
            }
            json.append('}');
        }
        json.append("],\"failures\":[");
        for (int i = 0; i < failures.size(); i++) {
            json.append(i == 0 ? "" : ",").append(quote(failures.get(i)));
        }
        return json.append("]}").toString();
    }

    static String quote(String s) {
        StringBuilder q = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                case '\n' -> q.append("\\n");
                case '\r' -> q.append("\\r");
                case '\t' -> q.append("\\t");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }
}
