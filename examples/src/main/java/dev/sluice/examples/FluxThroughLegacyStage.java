package dev.sluice.examples;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sluice.reactor.ReactorChannels;
import reactor.core.publisher.Flux;

/**
 * A legacy blocking stage in the middle of a {@code Flux}, with {@link ReactorChannels#throughBlocking}.
 *
 * <p>{@link LegacyFormatter} stands for code that cannot be made reactive: stateful, not thread-safe, blocking. The
 * operator runs it on a thread of its own, reading a blocking iterator and writing with a blocking send. The upstream
 * is asked only for free slots of the input channel, so it never runs more than {@code capacity} items ahead of the
 * stage; an exception in the stage reaches the subscriber and cancels the upstream.
 */
public final class FluxThroughLegacyStage {

    private FluxThroughLegacyStage() {
    }

    /**
     * What happened.
     *
     * @param lines the formatted records, in order
     * @param maxAhead the most records emitted upstream but not yet taken by the stage
     */
    public record Result(List<String> lines, int maxAhead) {
    }

    /** The legacy code: a stateful, blocking, single-threaded formatter. */
    static final class LegacyFormatter {
        private int lineNumber;

        String format(String record) {
            if (record.contains("poison")) {
                throw new IllegalArgumentException("cannot format " + record);
            }
            lineNumber++;
            return String.format(Locale.ROOT, "%05d|%s", lineNumber, record.toUpperCase(Locale.ROOT));
        }
    }

    /**
     * Runs both examples and prints the results.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        Result result = run(1_000, 8);
        System.out.println("formatted " + result.lines().size() + " records, last " + result.lines().get(999)
                + "; upstream was at most " + result.maxAhead() + " records ahead of the stage (capacity 8)");
        try {
            runWithPoison(100, 8, 42, new AtomicBoolean());
        } catch (IllegalArgumentException e) {
            System.out.println("the stage threw and the Flux failed with: " + e.getMessage());
        }
    }

    /**
     * Formats {@code count} records through the legacy stage.
     *
     * @param count how many records
     * @param capacity the operator's capacity
     * @return what happened
     */
    public static Result run(int count, int capacity) {
        AtomicInteger emitted = new AtomicInteger();
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger maxAhead = new AtomicInteger();
        List<String> lines = Flux.range(1, count)
                .map(i -> "record-" + i)
                .doOnNext(r -> maxAhead.accumulateAndGet(emitted.incrementAndGet() - taken.get(), Math::max))
                .transform(ReactorChannels.<String, String>throughBlocking(capacity, (in, out) -> {
                    LegacyFormatter legacy = new LegacyFormatter();
                    while (in.hasNext()) {
                        String record = in.next();
                        taken.incrementAndGet();
                        out.send(legacy.format(record));      // blocks while the subscriber is behind
                    }
                }))
                .collectList()
                .block();
        return new Result(lines, maxAhead.get());
    }

    /**
     * As {@link #run}, with a record the legacy code rejects at position {@code poisonAt}.
     *
     * @param count how many records
     * @param capacity the operator's capacity
     * @param poisonAt the 1-based position of the bad record
     * @param upstreamCancelled set when the upstream is cancelled
     * @return the records formatted before the failure (never returns normally when {@code poisonAt <= count})
     * @throws IllegalArgumentException the legacy code's exception, delivered by the {@code Flux}
     */
    public static List<String> runWithPoison(int count, int capacity, int poisonAt, AtomicBoolean upstreamCancelled) {
        return Flux.range(1, count)
                .map(i -> i == poisonAt ? "poison-" + i : "record-" + i)
                .doOnCancel(() -> upstreamCancelled.set(true))
                .transform(ReactorChannels.<String, String>throughBlocking(capacity, (in, out) -> {
                    LegacyFormatter legacy = new LegacyFormatter();
                    while (in.hasNext()) {
                        out.send(legacy.format(in.next()));
                    }
                }))
                .collectList()
                .block();
    }
}
