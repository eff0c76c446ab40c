package dev.sluice.examples;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import dev.sluice.ChannelStats;
import dev.sluice.reactor.ReactorChannels;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A blocking producer as a {@code Flux}, with real backpressure: the producer's {@code send} blocks while the
 * subscriber has not asked for more, so it can never run more than the channel's capacity ahead.
 *
 * <p>The producer is ordinary blocking code (think of a JDBC cursor or a file reader) run by
 * {@link ReactorChannels#fromBlocking}. The subscriber is deliberately slow. The example measures how far the producer
 * ever got ahead of the subscriber: at most the capacity (plus the one item being handed over).
 */
public final class SyncToFlux {

    private SyncToFlux() {
    }

    /**
     * What happened.
     *
     * @param received the items, in order
     * @param maxLead the most items ever produced but not yet delivered, seen by the producer after each send
     * @param stats the channel's counters when the producer finished
     */
    public record Result(List<Integer> received, int maxLead, ChannelStats stats) {
    }

    /**
     * Runs the example with 2,000 items through a channel of 16 and prints the result.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        Result result = run(2_000, 16);
        System.out.println("received " + result.received().size() + " items in order; the producer was at most "
                + result.maxLead() + " items ahead (capacity 16); it spent "
                + TimeUnit.NANOSECONDS.toMillis(result.stats().senderBlockedNanos())
                + " ms blocked in send(): that is the backpressure");
    }

    /**
     * Produces {@code count} numbers on a blocking thread and consumes them slowly as a {@code Flux}.
     *
     * @param count how many items
     * @param capacity the channel's capacity
     * @return what happened
     */
    public static Result run(int count, int capacity) {
        AtomicInteger produced = new AtomicInteger();
        AtomicInteger delivered = new AtomicInteger();
        AtomicInteger maxLead = new AtomicInteger();
        AtomicReference<ChannelStats> stats = new AtomicReference<>();

        Flux<Integer> numbers = ReactorChannels.fromBlocking(capacity, out -> {
            for (int i = 0; i < count; i++) {
                out.send(i);                                  // blocks while 'capacity' items wait
                int lead = produced.incrementAndGet() - delivered.get();
                maxLead.accumulateAndGet(lead, Math::max);
            }
            stats.set(out.stats());
        });

        List<Integer> received = numbers
                .doOnNext(i -> delivered.incrementAndGet())       // the item has left the channel
                .publishOn(Schedulers.boundedElastic(), 1)        // a slow consumer asking for one at a time
                .doOnNext(i -> LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50)))
                .collectList()
                .block();
        return new Result(received, maxLead.get(), stats.get());
    }
}
