package dev.sluice.reactor.probe;

import java.time.Duration;

import dev.sluice.Channel;
import dev.sluice.reactor.ReactorChannels;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Run in a child JVM by ModulePathTest: prints how sluice-reactor was loaded and whether its guard is active. */
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
        Schedulers.shutdownNow();
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
