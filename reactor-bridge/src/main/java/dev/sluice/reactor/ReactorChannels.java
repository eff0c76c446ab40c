package dev.sluice.reactor;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Function;

import org.reactivestreams.Publisher;

import dev.sluice.ChannelReceiver;
import dev.sluice.ChannelSender;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Project Reactor views of Sluice channels, and the operator that runs legacy blocking code inside a reactive
 * pipeline.
 *
 * <p>All views are thin: they keep no queue of their own, so the channel's capacity is the only buffer, its FIFO the
 * only order and its {@code onUndelivered} handler sees every item that no consumer gets. Items that a view had taken
 * over but could not pass on (the subscriber cancelled at that instant, a send that was withdrawn or refused) also go
 * to Reactor's discard hook ({@code doOnDiscard}) with the subscriber's {@code Context}. Every method is thread-safe,
 * and every returned {@code Flux}/{@code Mono} may be subscribed many times: each subscription is one more competing
 * consumer (or one more send).
 *
 * <p>The blocking calls of a channel refuse to run on Reactor's non-blocking threads ({@code Schedulers.parallel()},
 * {@code single()}): this module installs a {@link dev.sluice.BlockingGuard} that makes them throw
 * {@link IllegalStateException} instead of stalling an event loop. Use these views there, or move the blocking code
 * with {@code publishOn(Schedulers.boundedElastic())} or {@link #throughBlocking}. For BlockHound users on the class
 * path, a BlockHound integration is picked up automatically: the channel's short internal lock holds are not reported,
 * its blocking calls are.
 *
 * <pre>{@code
 * Channel<Path> files = Channel.bounded(256);
 *
 * // a reactive consumer of the channel: items leave only as the pipeline requests them
 * Flux<Checksum> sums = ReactorChannels.flux(files.receiver())
 *         .transform(ReactorChannels.<Path, Checksum>throughBlocking(16, (in, out) -> {
 *             while (in.hasNext()) {
 *                 out.send(legacyChecksum(in.next())); // blocking legacy code, on its own thread
 *             }
 *         }))
 *         .publishOn(Schedulers.parallel());
 *
 * // a reactive producer into the channel, with backpressure
 * Mono<Long> sent = ReactorChannels.sendAll(files.sender(), Flux.fromIterable(paths));
 * Mono<Void> one = ReactorChannels.send(files.sender(), extraPath);     // lazy: sends on subscribe
 * Mono<Path> next = ReactorChannels.receive(files.receiver());          // cancel never loses an item
 * }</pre>
 *
 * <p>To send a {@code Flux}'s items into a channel, {@code flux.doOnNext(channel::send)} does not compile:
 * {@link ChannelSender#send(Object)} throws {@link InterruptedException} (and blocks, which the guard refuses on
 * non-blocking threads). Use {@link #sendAll} for the whole {@code Flux}, or {@link #send} per item where the items
 * go on downstream:
 *
 * <pre>{@code
 * Mono<Long> accepted = ReactorChannels.sendAll(jobs, numbers);          // backpressure; leaves jobs open
 * Flux<Integer> passedOn = numbers
 *         .concatMap(n -> ReactorChannels.send(jobs, n).thenReturn(n)); // each item waits for a free slot
 * }</pre>
 */
public final class ReactorChannels {

    private ReactorChannels() {
    }

    /**
     * A {@code Flux} of the channel's items: each subscriber is a competing consumer of the channel.
     *
     * <p>Items leave the channel only against the subscriber's {@code request(n)}, straight into {@code onNext}: there
     * is no prefetch, so cancelling loses nothing (an item handed over at the very instant of cancellation goes to
     * Reactor's discard hook). The {@code Flux} completes after {@code close()} once the buffer is drained, fails with
     * the cause after {@code fail(cause)}, and fails with {@link dev.sluice.ChannelClosedException} after the
     * channel is cancelled. Signals run on the thread that sent the item or on the thread that requested. The
     * {@code Flux} and its subscriptions are {@link reactor.core.Scannable} ({@code BUFFERED}, {@code CAPACITY},
     * {@code REQUESTED_FROM_DOWNSTREAM}, {@code TERMINATED}, {@code CANCELLED}, {@code PARENT}).
     *
     * <pre>{@code
     * ReactorChannels.flux(channel.receiver())
     *         .limitRate(64)
     *         .subscribe(this::handle);
     * }</pre>
     *
     * @param receiver the channel to consume
     * @param <T> the item type
     * @return a cold {@code Flux}; each subscription competes for items
     * @throws NullPointerException if {@code receiver} is {@code null}
     */
    public static <T> Flux<T> flux(ChannelReceiver<T> receiver) {
        return new ChannelFlux<>(receiver);
    }

    /**
     * A {@code Mono} of the channel's next item.
     *
     * <p>On subscription and request the {@code Mono} waits, without blocking a thread, for one item. It completes
     * empty when the channel completes, fails with the cause when the channel failed, and fails with
     * {@link dev.sluice.ChannelClosedException} when it was cancelled. Cancelling it never loses an item: either the
     * item was delivered to this {@code Mono} or it stays in the channel for the next consumer.
     *
     * <pre>{@code
     * Mono<Job> next = ReactorChannels.receive(jobs.receiver())
     *         .timeout(Duration.ofSeconds(1), Mono.empty()); // a timed-out receive takes nothing
     * }</pre>
     *
     * @param receiver the channel to receive from
     * @param <T> the item type
     * @return a cold {@code Mono}; each subscription receives one item
     * @throws NullPointerException if {@code receiver} is {@code null}
     */
    public static <T> Mono<T> receive(ChannelReceiver<T> receiver) {
        return new ReceiveMono<>(receiver);
    }

    /**
     * A lazy send: offers {@code item} when subscribed and completes once the channel accepted it.
     *
     * <p>The send waits in the channel's FIFO of senders (as {@link ChannelSender#sendAsync(Object)}) without blocking
     * a thread. Cancelling before acceptance withdraws the item: it never enters the channel. The {@code Mono} fails
     * with {@link dev.sluice.ChannelClosedException} if the channel closes first. An item that was not accepted
     * (withdrawn or refused) is passed to Reactor's discard hook. Each subscription sends {@code item} once more.
     *
     * <pre>{@code
     * ReactorChannels.send(channel.sender(), event)
     *         .timeout(Duration.ofMillis(100))       // on timeout the event is withdrawn, not half-sent
     *         .subscribe();
     * }</pre>
     *
     * @param sender the channel to send to
     * @param item the item
     * @param <T> the item type
     * @return a cold {@code Mono} completing when the item is accepted
     * @throws NullPointerException if {@code sender} or {@code item} is {@code null}
     */
    public static <T> Mono<Void> send(ChannelSender<T> sender, T item) {
        return new SendMono<>(sender, item);
    }

    /**
     * Pumps {@code publisher} into the channel with backpressure and completes with the number of items accepted.
     *
     * <p>One item is requested at a time, and the next only once the channel accepted the previous one, so the
     * upstream never produces more than the channel can take and nothing is buffered outside it. The channel is
     * <em>not</em> closed at the end (use {@link ChannelSender#asSubscriber()} for that). If the channel closes
     * first, the upstream is cancelled and the {@code Mono} fails with {@link dev.sluice.ChannelClosedException}.
     * If the upstream fails, so does the {@code Mono}. Cancelling the {@code Mono} cancels the upstream and withdraws
     * the item waiting for a slot, if any; items not accepted go to Reactor's discard hook.
     *
     * <pre>{@code
     * ReactorChannels.sendAll(channel.sender(), Flux.fromIterable(paths))
     *         .doOnNext(n -> log.info("queued {} paths", n))
     *         .then(Mono.fromRunnable(channel::close))
     *         .subscribe();
     * }</pre>
     *
     * @param sender the channel to send to
     * @param publisher the items to send
     * @param <T> the item type
     * @return a cold {@code Mono} of the count of accepted items; each subscription subscribes to {@code publisher}
     * @throws NullPointerException if {@code sender} or {@code publisher} is {@code null}
     */
    public static <T> Mono<Long> sendAll(ChannelSender<T> sender, Publisher<? extends T> publisher) {
        return new SendAllMono<>(sender, publisher);
    }

    /**
     * An operator (for {@link Flux#transform}) that runs a blocking stage on a thread of its own: a virtual thread on
     * JDK 21 and later, otherwise a daemon platform thread named {@code sluice-stage-N}.
     *
     * <p>Per subscription, the upstream feeds an input channel of {@code capacity} items (it is asked only for free
     * slots), {@code stage} runs once, reading the input with a blocking iterator and sending to an output channel of
     * {@code capacity} items, which the downstream consumes by {@code request(n)}. A slow downstream therefore blocks
     * {@code out.send}, which stops the stage reading, which stops the requests upstream. Errors and cancellation
     * cross both ways:
     * <ul>
     * <li>the upstream fails: the stage's {@code hasNext()}/{@code next()} throw a
     * {@link dev.sluice.ChannelClosedException} caused by the error; if the stage lets it escape, the downstream
     * receives the upstream's own error;</li>
     * <li>the stage returns: the downstream completes after the last item; unread input is discarded and the upstream
     * cancelled;</li>
     * <li>the stage throws: the downstream receives the exception after the items already sent; the upstream is
     * cancelled;</li>
     * <li>the downstream cancels: the upstream is cancelled, the stage's input ends, its {@code out.send} throws
     * {@link dev.sluice.ChannelClosedException} and its thread is interrupted if still running; the thread then ends.
     * </li>
     * </ul>
     * Items left in either channel go to Reactor's discard hook with the subscriber's {@code Context}.
     *
     * <p><b>Context propagation.</b> With {@code io.micrometer:context-propagation} on the class or module path (the
     * library behind Reactor's {@code Hooks.enableAutomaticContextPropagation()}; an optional dependency of this
     * module), the stage runs with the subscriber's {@code Context} restored as ThreadLocals: for each
     * {@code ThreadLocalAccessor} registered with {@code ContextRegistry.getInstance()} whose key the {@code Context}
     * holds, the ThreadLocal is set on the stage thread while the stage runs and completes the downstream, and put
     * back as it was afterwards. So SLF4J's MDC (register context-propagation's {@code Slf4jThreadLocalAccessor}) and
     * tracing spans reach the legacy code; downstream signals and upstream requests made on the stage thread see them
     * too. Fill the {@code Context} with {@code contextCapture()} (the subscribing thread's ThreadLocals) or
     * {@code contextWrite(...)}. Without the library the stage runs without those ThreadLocals, as before.
     *
     * <pre>{@code
     * ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
     * MDC.put("requestId", id);
     * flux.transform(ReactorChannels.<Row, Row>throughBlocking(16, (in, out) -> {
     *             while (in.hasNext()) {
     *                 out.send(legacy.process(in.next()));     // legacy code logs with the request id
     *             }
     *         }))
     *         .contextCapture()                                // the MDC into the Context
     *         .subscribe(this::handle);
     * }</pre>
     *
     * <p>Give the type witness {@code <T, R>}, as below: Java infers {@code R} only when the {@code transform(...)}
     * result is assigned as it is; once another operator follows in the same expression ({@code .map},
     * {@code .collectList()}), {@code R} is inferred as {@code Object}.
     *
     * <pre>{@code
     * Flux<Digest> digests = Flux.fromIterable(files)
     *         .transform(ReactorChannels.<Path, Digest>throughBlocking(16, (in, out) -> {
     *             while (in.hasNext()) {
     *                 out.send(LegacyHasher.digest(in.next())); // may block on disk I/O
     *             }
     *         }));
     * }</pre>
     *
     * @param capacity the size of the input and of the output channel, at least 1
     * @param stage the blocking code, run once per subscription
     * @param <T> the upstream item type
     * @param <R> the downstream item type
     * @return a function from the upstream {@code Flux} to the downstream one
     * @throws IllegalArgumentException if {@code capacity < 1}
     * @throws NullPointerException if {@code stage} is {@code null}
     */
    public static <T, R> Function<Flux<T>, Flux<R>> throughBlocking(int capacity, BlockingStage<T, R> stage) {
        return throughBlocking(capacity, stage, StageThreads.INSTANCE);
    }

    /**
     * As {@link #throughBlocking(int, BlockingStage)}, running the stage on {@code executor}.
     *
     * <p>Each subscription submits one task that occupies a thread of {@code executor} while the stage runs, so the
     * executor must be able to run as many stages at once as there are live subscriptions (a bounded pool that is
     * full delays them; a rejected task fails the subscriber). Do not use an executor of Reactor's non-blocking
     * threads: the channel's blocking calls refuse to run there.
     *
     * <pre>{@code
     * ExecutorService pool = Executors.newFixedThreadPool(4);
     * flux.transform(ReactorChannels.throughBlocking(16, stage, pool));
     * }</pre>
     *
     * @param capacity the size of the input and of the output channel, at least 1
     * @param stage the blocking code, run once per subscription
     * @param executor runs the stage, once per subscription
     * @param <T> the upstream item type
     * @param <R> the downstream item type
     * @return a function from the upstream {@code Flux} to the downstream one
     * @throws IllegalArgumentException if {@code capacity < 1}
     * @throws NullPointerException if {@code stage} or {@code executor} is {@code null}
     */
    public static <T, R> Function<Flux<T>, Flux<R>> throughBlocking(int capacity, BlockingStage<T, R> stage,
            Executor executor) {
        checkCapacity(capacity);
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(executor, "executor");
        return upstream -> new BlockingStageFlux<>(Objects.requireNonNull(upstream, "upstream"), capacity, stage,
                executor);
    }

    /**
     * A cold {@code Flux} fed by a blocking producer, which runs once per subscription on a thread of its own (virtual
     * on JDK 21 and later).
     *
     * <p>The producer sends into a channel of {@code capacity} items that the subscriber consumes by
     * {@code request(n)}, so {@code out.send} blocks while the subscriber has not asked for more. When the producer
     * returns, the {@code Flux} completes after the last item; when it throws, the subscriber receives the exception
     * after the items already sent. When the subscriber cancels, {@code out.send} throws
     * {@link dev.sluice.ChannelClosedException}, the thread is interrupted if still running, and unsent items go to
     * Reactor's discard hook. The producer runs with the subscriber's {@code Context} restored as ThreadLocals when
     * {@code io.micrometer:context-propagation} is present, as in {@link #throughBlocking(int, BlockingStage)}.
     *
     * <pre>{@code
     * Flux<String> lines = ReactorChannels.fromBlocking(64, out -> {
     *     try (BufferedReader reader = Files.newBufferedReader(path)) {
     *         for (String line; (line = reader.readLine()) != null; ) {
     *             out.send(line);
     *         }
     *     }
     * });
     * }</pre>
     *
     * @param capacity the size of the channel between the producer and the subscriber, at least 1
     * @param producer the blocking code, run once per subscription
     * @param <T> the item type
     * @return a cold {@code Flux}
     * @throws IllegalArgumentException if {@code capacity < 1}
     * @throws NullPointerException if {@code producer} is {@code null}
     */
    public static <T> Flux<T> fromBlocking(int capacity, BlockingProducer<T> producer) {
        return fromBlocking(capacity, producer, StageThreads.INSTANCE);
    }

    /**
     * As {@link #fromBlocking(int, BlockingProducer)}, running the producer on {@code executor}.
     *
     * <pre>{@code
     * Flux<Row> rows = ReactorChannels.fromBlocking(128, jdbcReader, jdbcPool);
     * }</pre>
     *
     * @param capacity the size of the channel between the producer and the subscriber, at least 1
     * @param producer the blocking code, run once per subscription
     * @param executor runs the producer, once per subscription
     * @param <T> the item type
     * @return a cold {@code Flux}
     * @throws IllegalArgumentException if {@code capacity < 1}
     * @throws NullPointerException if {@code producer} or {@code executor} is {@code null}
     */
    public static <T> Flux<T> fromBlocking(int capacity, BlockingProducer<T> producer, Executor executor) {
        checkCapacity(capacity);
        Objects.requireNonNull(producer, "producer");
        Objects.requireNonNull(executor, "executor");
        return new BlockingStageFlux<Object, T>(capacity, producer, executor);
    }

    private static void checkCapacity(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 but was " + capacity);
        }
    }
}
