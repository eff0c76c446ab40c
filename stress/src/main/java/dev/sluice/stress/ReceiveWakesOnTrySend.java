package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.Channel;
import dev.sluice.ChannelClosedException;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/**
 * Lost wake-up check: a receive() parked on an empty channel wakes when trySend() hands it an item. The signal may
 * come before, during or after the actor parks.
 */
@JCStressTest(Mode.Termination)
@Description("parked receive() vs trySend(1): the receiver always wakes with the item")
@Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "woke up")
@Outcome(id = "STALE", expect = FORBIDDEN, desc = "lost wake-up: still parked after trySend")
@Outcome(expect = FORBIDDEN, desc = "unexpected error")
@State
public class ReceiveWakesOnTrySend {

    final Channel<Integer> channel = Channel.bounded(1);

    /**
     * Waits.
     *
     * @throws InterruptedException never expected
     */
    @Actor
    public void actor() throws InterruptedException {
        try {
            channel.receive();
        } catch (ChannelClosedException expected) {
            // the end of the channel is a wake-up too
        }
    }

    /** Wakes the actor. */
    @Signal
    public void signal() {
        channel.trySend(1);
    }
}
