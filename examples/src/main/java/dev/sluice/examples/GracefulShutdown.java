package dev.sluice.examples;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelIterator;
import dev.sluice.ChannelState;
import dev.sluice.SendResult;
import dev.sluice.UndeliveredReason;
import dev.sluice.reactor.ReactorChannels;

/**
 * Three ways to end a channel, and where every item goes.
 *
 * <ul>
 *   <li>{@code close()}: no new items; consumers drain what is buffered, then see the end ({@code COMPLETED});</li>
 *   <li>{@code fail(cause)}: the same, but consumers see {@code cause} after draining ({@code FAILED});</li>
 *   <li>{@code cancel()}: the receiving side gives up; buffered items go to the undelivered handler (here: the
 *       buffers go back to their pool), a sender waiting for a slot gets {@link ChannelClosedException} and keeps its
 *       item ({@code CANCELLED}).</li>
 * </ul>
 * In all three, every accepted item is either received once or handed to the undelivered handler once.
 */
public final class GracefulShutdown {

    private GracefulShutdown() {
    }

    /**
     * What one scenario did.
     *
     * @param state the channel's final state
     * @param received items the consumers got, in order
     * @param undelivered items handed to the undelivered handler
     * @param end how the consumer saw the end (a short description)
     * @param refusedAfterEnd items offered after the end and refused (still owned by the caller)
     */
    public record Scenario(ChannelState state, List<String> received, List<String> undelivered, String end,
            List<String> refusedAfterEnd) {
    }

    /**
     * Runs the three scenarios and prints them.
     *
     * @param args ignored
     * @throws Exception if a scenario breaks
     */
    public static void main(String[] args) throws Exception {
        System.out.println("close:  " + closeScenario());
        System.out.println("fail:   " + failScenario());
        System.out.println("cancel: " + cancelScenario());
    }

    /**
     * Close: five buffers sent, the channel closed, a blocking iterator drains all five, then ends normally.
     *
     * @return what happened
     * @throws InterruptedException if interrupted
     */
    public static Scenario closeScenario() throws InterruptedException {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> channel = Channel.<String>builder().capacity(8)
                .onUndelivered((buffer, reason) -> undelivered.add(buffer)).build();
        for (int i = 1; i <= 5; i++) {
            channel.send("buffer-" + i);
        }
        channel.close();
        List<String> refused = new ArrayList<>();
        if (channel.trySend("buffer-6") == SendResult.CLOSED) {
            refused.add("buffer-6");                                   // never accepted: still ours
        }
        List<String> received = new ArrayList<>();
        try (ChannelIterator<String> it = channel.iterator()) {
            while (it.hasNext()) {
                received.add(it.next());
            }
        }
        return new Scenario(channel.state(), received, undelivered, "iterator ended normally", refused);
    }

    /**
     * Fail: five buffers sent, the channel failed; a {@code Flux} gets all five, then the cause.
     *
     * @return what happened
     * @throws InterruptedException if interrupted
     */
    public static Scenario failScenario() throws InterruptedException {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> channel = Channel.<String>builder().capacity(8)
                .onUndelivered((buffer, reason) -> undelivered.add(buffer)).build();
        for (int i = 1; i <= 5; i++) {
            channel.send("buffer-" + i);
        }
        channel.fail(new IOException("disk full"));
        List<String> received = new CopyOnWriteArrayList<>();
        CompletableFuture<String> end = new CompletableFuture<>();
        ReactorChannels.flux(channel.receiver()).subscribe(received::add,
                error -> end.complete("Flux failed with " + error.getClass().getSimpleName() + ": "
                        + error.getMessage()),
                () -> end.complete("Flux completed"));
        String how = end.join();
        return new Scenario(channel.state(), received, undelivered, how, List.of());
    }

    /**
     * Cancel: five buffers fill the channel, a sixth sender waits for a slot and gets it when the consumer takes one;
     * the consumer takes two, a seventh fits, an eighth waits; then the consumer cancels. Buffers 3 to 7 go back to
     * the pool through the undelivered handler; the eighth was never accepted, its future fails and it stays ours.
     *
     * @return what happened
     * @throws Exception if the waiting sender does not end
     */
    public static Scenario cancelScenario() throws Exception {
        List<String> undelivered = new CopyOnWriteArrayList<>();
        Channel<String> channel = Channel.<String>builder().capacity(5)
                .onUndelivered((buffer, reason) -> {
                    if (reason == UndeliveredReason.CANCELLED) {
                        undelivered.add(buffer);                      // e.g. return it to a buffer pool
                    }
                }).build();
        for (int i = 1; i <= 5; i++) {
            channel.send("buffer-" + i);
        }
        CompletableFuture<Void> sixth = channel.sendAsync("buffer-6");   // waits: the channel is full
        List<String> received = new ArrayList<>();
        received.add(channel.receive());                                 // frees a slot: buffer-6 is accepted
        received.add(channel.receive());
        sixth.get(5, TimeUnit.SECONDS);
        CompletableFuture<Void> seventh = channel.sendAsync("buffer-7");
        CompletableFuture<Void> eighth = channel.sendAsync("buffer-8");  // waits behind buffer-7
        channel.cancel();
        List<String> refused = new ArrayList<>();
        if (eighth.isCompletedExceptionally()) {
            refused.add("buffer-8");                                     // never accepted: still ours
        }
        if (seventh.isCompletedExceptionally()) {
            refused.add(0, "buffer-7");
        }
        String end;
        try {
            channel.receive();
            end = "received after cancel?";
        } catch (ChannelClosedException e) {
            end = "receive() threw ChannelClosedException caused by "
                    + (e.getCause() == null ? "nothing" : e.getCause().getClass().getSimpleName());
        }
        return new Scenario(channel.state(), received, undelivered, end, refused);
    }
}
