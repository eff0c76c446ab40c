package dev.sluice.probe;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import dev.sluice.Channel;

/**
 * Run in a child JVM by {@code NoJfrRuntimeTest}, on a runtime without the {@code jdk.jfr} module: channels whose
 * every wait is a JFR event candidate (threshold zero) still send and receive, and their waits end normally.
 */
public final class NoJfrProbe {

    private NoJfrProbe() {
    }

    /**
     * Prints whether jdk.jfr is in the boot layer, then makes a send and a receive wait and prints the outcome.
     *
     * @param args ignored
     * @throws Exception if the probe fails
     */
    public static void main(String[] args) throws Exception {
        System.out.println("module=" + Channel.class.getModule().getName());
        System.out.println("jdk.jfr=" + ModuleLayer.boot().findModule("jdk.jfr").isPresent());
        Channel<String> channel = Channel.<String>builder().name("probe").capacity(1)
                .jfrThreshold(Duration.ZERO).build();
        channel.send("first");
        CompletableFuture<Void> blocked = CompletableFuture.runAsync(() -> {
            try {
                channel.send("second"); // waits for a slot: a SenderBlocked candidate
                channel.send("third");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            while (channel.stats().waitingSenders() == 0 && i < 2) {
                Thread.onSpinWait(); // let the sender block first
            }
            got.append(channel.receive(Duration.ofSeconds(10))).append(' ');
        }
        blocked.get(10, TimeUnit.SECONDS);
        CompletableFuture<String> starved = CompletableFuture.supplyAsync(() -> {
            try {
                return channel.receive(); // waits for an item: a ReceiverStarved candidate
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (channel.stats().waitingReceivers() == 0) {
            Thread.onSpinWait();
        }
        channel.send("fourth");
        got.append(starved.get(10, TimeUnit.SECONDS));
        System.out.println("received=" + got);
        System.out.println("blocked=" + (channel.stats().senderBlockedNanos() > 0) + " starved="
                + (channel.stats().receiverStarvedNanos() > 0));
    }
}
