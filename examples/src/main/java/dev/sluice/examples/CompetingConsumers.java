package dev.sluice.examples;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;
import dev.sluice.reactor.ReactorChannels;
import reactor.core.Disposable;

/**
 * Blocking workers and a {@code Flux} sharing one channel: every item goes to exactly one of them.
 *
 * <p>Two platform threads iterate the channel with blocking iterators; a {@code Flux} from
 * {@link ReactorChannels#flux} consumes it too, four items at a time. All three wait in the channel's one FIFO queue
 * of receivers, so none starves the others, and an item never reaches two of them.
 */
public final class CompetingConsumers {

    private CompetingConsumers() {
    }

    /**
     * What happened.
     *
     * @param perConsumer how many items each consumer got
     * @param duplicates items that reached more than one consumer (always 0)
     * @param distinct how many distinct items were consumed
     */
    public record Result(Map<String, Integer> perConsumer, int duplicates, int distinct) {
    }

    /**
     * Runs the example with 20,000 items and prints who got how many.
     *
     * @param args ignored
     * @throws InterruptedException if interrupted while waiting
     */
    public static void main(String[] args) throws InterruptedException {
        Result result = run(20_000, 32);
        System.out.println("consumed " + result.distinct() + " distinct items, " + result.duplicates()
                + " duplicates; shares: " + result.perConsumer());
    }

    /**
     * Sends {@code count} items from one producer thread to three competing consumers.
     *
     * @param count how many items
     * @param capacity the channel's capacity
     * @return what happened
     * @throws InterruptedException if interrupted while waiting
     */
    public static Result run(int count, int capacity) throws InterruptedException {
        Channel<Integer> channel = Channel.bounded(capacity);
        Map<Integer, String> owner = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> shares = new ConcurrentHashMap<>();
        AtomicInteger duplicates = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();

        CountDownLatch fluxDone = new CountDownLatch(1);
        Disposable flux = ReactorChannels.flux(channel.receiver())
                .limitRate(4)
                .doFinally(signal -> fluxDone.countDown())
                .subscribe(item -> take("flux", item, owner, shares, duplicates), failure::set);

        Thread[] workers = new Thread[2];
        for (int w = 0; w < workers.length; w++) {
            String name = "worker-" + w;
            workers[w] = new Thread(() -> {
                try (ChannelIterator<Integer> it = channel.iterator()) {
                    while (it.hasNext()) {
                        take(name, it.next(), owner, shares, duplicates);
                    }
                } catch (RuntimeException e) {
                    failure.set(e);
                }
            }, name);
            workers[w].start();
        }

        Thread producer = new Thread(() -> {
            try (channel) {
                for (int i = 0; i < count; i++) {
                    channel.send(i);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "producer");
        producer.start();

        producer.join();
        for (Thread worker : workers) {
            worker.join();
        }
        if (!fluxDone.await(10, TimeUnit.SECONDS)) {
            flux.dispose();
            throw new IllegalStateException("the Flux consumer did not complete");
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a consumer failed", failure.get());
        }
        Map<String, Integer> perConsumer = new TreeMap<>();
        shares.forEach((name, n) -> perConsumer.put(name, n.get()));
        return new Result(perConsumer, duplicates.get(), owner.size());
    }

    private static void take(String consumer, Integer item, Map<Integer, String> owner,
            Map<String, AtomicInteger> shares, AtomicInteger duplicates) {
        if (owner.putIfAbsent(item, consumer) != null) {
            duplicates.incrementAndGet();
        }
        shares.computeIfAbsent(consumer, c -> new AtomicInteger()).incrementAndGet();
        Thread.onSpinWait(); // a little work per item
    }
}
