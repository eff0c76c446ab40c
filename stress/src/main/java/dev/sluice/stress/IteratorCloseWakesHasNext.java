package dev.sluice.stress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.sluice.Channel;
import dev.sluice.ChannelIterator;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;

/**
 * Lost wake-up check: closing a {@link ChannelIterator} from another thread wakes a {@code hasNext()} blocked on an
 * empty channel (it then returns {@code false}). The close may come before, during or after the actor parks.
 */
@JCStressTest(Mode.Termination)
@Description("iterator.hasNext() parked vs iterator.close() from another thread: hasNext always wakes")
@Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "woke up")
@Outcome(id = "STALE", expect = FORBIDDEN, desc = "lost wake-up: hasNext() still parked after iterator close()")
@Outcome(expect = FORBIDDEN, desc = "unexpected error")
@State
public class IteratorCloseWakesHasNext {

    final Channel<Integer> channel = Channel.bounded(1);
    final ChannelIterator<Integer> iterator = channel.iterator();

    /** Waits in {@code hasNext()}. */
    @Actor
    public void actor() {
        iterator.hasNext();
    }

    /** Closes the iterator. */
    @Signal
    public void signal() {
        iterator.close();
    }
}
