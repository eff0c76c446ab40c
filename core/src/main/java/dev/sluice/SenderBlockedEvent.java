package dev.sluice;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Timespan;

/*
 * A send that waited at least the channel's JFR threshold for a free slot (WaitEvents). Loaded only through
 * WaitEvents, which survives the absence of jdk.jfr. The event has no duration of its own (it is committed when the
 * wait ended, which is when the channel learns how long it was): the wait is the field `waited`, and JFR's own
 * threshold setting does not apply to it.
 */
@Name("dev.sluice.SenderBlocked")
@Label("Sluice Sender Blocked")
@Category("Sluice")
@Description("A send that waited for a free slot in a channel for at least the channel's threshold")
final class SenderBlockedEvent extends jdk.jfr.Event {

    @Label("Channel")
    @Description("The channel's name (Channel.Builder.name), or unnamed@ and an identity hash")
    String channel;

    @Label("Waited")
    @Description("How long the send waited for a slot")
    @Timespan(Timespan.NANOSECONDS)
    long waited;

    @Label("Sender")
    @Description("thread: a blocked send() or sendAll(), the event's thread and stack trace are the sender's; "
            + "queued: a sendAsync future or an asSubscriber() upstream, the event's thread is the one that "
            + "admitted it")
    String sender;

    static void record(String channel, long waited, boolean thread) {
        SenderBlockedEvent event = new SenderBlockedEvent();
        if (event.isEnabled()) {
            event.channel = channel;
            event.waited = waited;
            event.sender = thread ? "thread" : "queued";
            event.commit();
        }
    }
}
