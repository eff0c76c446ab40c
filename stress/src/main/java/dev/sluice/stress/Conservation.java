package dev.sluice.stress;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.StringJoiner;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;
import dev.sluice.ChannelStats;

/**
 * Arbiter helpers shared by the races: drain what is left and check conservation.
 *
 * <p>Each helper returns {@code null} when the check holds and otherwise a short description that starts with
 * {@code "VIOLATION"}; the arbiter writes that description into its result slot, where no
 * {@link org.openjdk.jcstress.annotations.Outcome} matches it, so the catch-all {@code FORBIDDEN} outcome reports it
 * verbatim.
 */
final class Conservation {

    private Conservation() {
    }

    /**
     * Takes every item still buffered, without blocking.
     *
     * @param channel the channel, quiescent (all actors done)
     * @return the items in the order the channel gave them
     */
    static List<Integer> drain(Channel<Integer> channel) {
        List<Integer> out = new ArrayList<>();
        Integer item;
        while ((item = channel.tryReceive()) != null) {
            out.add(item);
            if (out.size() > 1_000) {
                break; // a broken channel could hand the same item out forever: stop and let the check fail
            }
        }
        return out;
    }

    /**
     * Formats items for a result slot: {@code "none"} or the items separated by spaces, for example {@code "1 2"}.
     * (Outcome ids are regular expressions, so list brackets cannot be used.)
     *
     * @param items the items
     * @return the text
     */
    static String show(Collection<Integer> items) {
        if (items.isEmpty()) {
            return "none";
        }
        StringJoiner joiner = new StringJoiner(" ");
        items.forEach(i -> joiner.add(String.valueOf(i)));
        return joiner.toString();
    }

    /**
     * Checks that the items delivered (in the order listed) are exactly the items accepted, in accepted order: each
     * accepted item once, nothing else.
     *
     * @param accepted the items the senders saw accepted, in accepted order
     * @param delivered the items consumers got, in the order they left the channel
     * @return {@code null} if they match, else a description
     */
    static String sameInOrder(List<Integer> accepted, List<Integer> delivered) {
        if (accepted.equals(delivered)) {
            return null;
        }
        return "VIOLATION accepted=" + accepted + " delivered=" + delivered;
    }

    /**
     * Checks that two collections hold the same items, each once, ignoring order.
     *
     * @param expected the items that must appear once each
     * @param actual the items that did appear
     * @param what what {@code actual} is, for the message
     * @return {@code null} if they match, else a description
     */
    static String sameItems(List<Integer> expected, List<Integer> actual, String what) {
        List<Integer> e = new ArrayList<>(expected);
        List<Integer> a = new ArrayList<>(actual);
        Collections.sort(e);
        Collections.sort(a);
        if (e.equals(a)) {
            return null;
        }
        return "VIOLATION expected " + what + "=" + e + " but was " + a;
    }

    /**
     * Checks the counters of a quiescent channel.
     *
     * @param channel the channel, all actors done
     * @param sent the number of accepted items
     * @param received the number of delivered items
     * @param undelivered the number of items passed to the undelivered handler
     * @return {@code null} if they match, else a description
     */
    static String stats(Channel<Integer> channel, long sent, long received, long undelivered) {
        ChannelStats s = channel.stats();
        if (s.sent() != sent || s.received() != received || s.undelivered() != undelivered) {
            return "VIOLATION stats sent/received/undelivered=" + s.sent() + "/" + s.received() + "/"
                    + s.undelivered() + " expected " + sent + "/" + received + "/" + undelivered;
        }
        if (s.size() < 0 || s.size() > s.capacity() || s.peakSize() > s.capacity()) {
            return "VIOLATION over capacity: size=" + s.size() + " peak=" + s.peakSize() + " capacity="
                    + s.capacity();
        }
        if (s.waitingSenders() != 0 || s.waitingReceivers() != 0) {
            return "VIOLATION waiters left: senders=" + s.waitingSenders() + " receivers=" + s.waitingReceivers();
        }
        return null;
    }

    /**
     * Checks that a closed channel has reached its end: a further receive reports the end instead of an item or a
     * wait.
     *
     * @param channel the closed, drained channel
     * @return {@code null} if it has ended, else a description
     */
    static String ended(Channel<Integer> channel) {
        if (!channel.isClosedForReceive()) {
            return "VIOLATION not closed for receive, state=" + channel.state();
        }
        if (!channel.termination().toCompletableFuture().isDone()) {
            return "VIOLATION termination() not complete, state=" + channel.state();
        }
        try {
            Integer item = channel.receive(Duration.ZERO);
            return "VIOLATION receive after the end returned " + item;
        } catch (ChannelClosedException expected) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "VIOLATION interrupted";
        }
    }

    /**
     * Returns the first non-null of the given check results.
     *
     * @param checks check results, {@code null} meaning passed
     * @return the first failure, or {@code null}
     */
    static String first(String... checks) {
        for (String c : checks) {
            if (c != null) {
                return c;
            }
        }
        return null;
    }
}
