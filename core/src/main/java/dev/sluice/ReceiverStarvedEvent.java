package dev.sluice;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/*
 * A blocking receive (receive(), receive(Duration), an iterator's hasNext) that waited at least the channel's JFR
 * threshold for an item (WaitEvents). Committed on the receiver's thread when the wait ended; the wait is the field
 * `waited` (see SenderBlockedEvent).
 */
@Name("dev.sluice.ReceiverStarved")
@Label("Sluice Receiver Starved")
@Category("Sluice")
@Description("A blocking receive that waited for an item of a channel for at least the channel's threshold")
final class ReceiverStarvedEvent extends jdk.jfr.Event {

    @Label("Channel")
    @Description("The channel's name (Channel.Builder.name), or unnamed@ and an identity hash")
    String channel;

    @Label("Waited")
    @Description("How long the receive waited for an item")
    @Timespan(Timespan.NANOSECONDS)
    long waited;

    static void record(String channel, long waited) {
        ReceiverStarvedEvent event = new ReceiverStarvedEvent();
        if (event.isEnabled()) {
            event.channel = channel;
            event.waited = waited;
            event.commit();
        }
    }
}
