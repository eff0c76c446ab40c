package dev.sluice.reactor.probe;

import java.time.Duration;

import dev.sluice.Channel;
import dev.sluice.reactor.ReactorChannels;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * Run in a child JVM by ModulePathTest: prints how sluice-reactor was loaded, whether its guard is active, and what
 * a blocking stage sees of the subscriber's Context (context-propagation, optional, may be absent).
 */
public final class ModulePathProbe {

    private ModulePathProbe() {
    }

    /**
     * Prints the module, BlockHound's presence and the outcome of a blocking receive on a parallel thread.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        System.out.println("module=" + ReactorChannels.class.getModule().getName());
        System.out.println("blockhound=" + isPresent("reactor.blockhound.BlockHound"));
        Channel<String> channel = Channel.bounded(2);
        channel.trySend("a");
        String outcome = Mono.fromCallable(channel::receive)
                .subscribeOn(Schedulers.parallel())
                .map(item -> "allowed")
                .onErrorResume(e -> Mono.just("refused: " + e.getMessage()))
                .block(Duration.ofSeconds(10));
        System.out.println("parallel receive " + outcome);
        System.out.println("flux=" + ReactorChannels.flux(channel.receiver()).take(1).blockFirst());
        boolean propagation = isPresent("io.micrometer.context.ContextRegistry");
        System.out.println("context-propagation=" + propagation);
        if (propagation) {
            Accessor.register();
        }
        String seen = Flux.just(1)
                .transform(ReactorChannels.<Integer, String>throughBlocking(1, (in, out) -> {
                    while (in.hasNext()) {
                        in.next();
                        out.send(String.valueOf(VALUE.get()));
                    }
                }))
                .contextWrite(Context.of(Accessor.KEY, "carried"))
                .blockFirst(Duration.ofSeconds(10));
        System.out.println("stage saw " + seen);
        Schedulers.shutdownNow();
    }

    /** The ThreadLocal the stage reads. */
    static final ThreadLocal<String> VALUE = new ThreadLocal<>();

    /** Registers VALUE with context-propagation; loaded only when the library is present. */
    static final class Accessor implements ThreadLocalAccessor<String> {
        static final String KEY = "probe.value";

        static void register() {
            ContextRegistry.getInstance().registerThreadLocalAccessor(new Accessor());
        }

        @Override
        public Object key() {
            return KEY;
        }

        @Override
        public String getValue() {
            return VALUE.get();
        }

        @Override
        public void setValue(String value) {
            VALUE.set(value);
        }

        @Override
        public void setValue() {
            VALUE.remove();
        }
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
