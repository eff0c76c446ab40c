package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.sluice.internal.ChannelAccess;

/** The qualified-export hooks that the RSocket bridge uses to give items back to a channel. */
@SuppressWarnings("unchecked")
class ChannelAccessTest {

    @Test
    void pushBack_putsTheItemAtTheHead_andCountsItInSize() throws InterruptedException {
        Channel<String> ch = Channel.bounded(4);
        ch.send("b");
        ch.send("c");
        String taken = ch.receive();
        assertEquals("b", taken);
        ChannelAccess.pushBack(ch, taken);
        assertEquals(2, ch.stats().size());
        assertEquals("b", ch.receive());
        assertEquals("c", ch.receive());
        assertEquals(2, ch.stats().received());
    }

    @Test
    void pushBack_afterCancel_goesToTheUndeliveredHandler() throws InterruptedException {
        List<String> undelivered = new ArrayList<>();
        Channel<String> ch = Channel.<String>builder().capacity(2)
                .onUndelivered((item, reason) -> undelivered.add(item + ":" + reason)).build();
        ch.send("a");
        String taken = ch.receive();
        ch.cancel();
        ChannelAccess.pushBack(ch, taken);
        assertEquals(List.of("a:CANCELLED"), undelivered);
    }

    @Test
    void undeliver_handsTheItemToTheHandlerOnce_andCountsIt() throws InterruptedException {
        List<String> undelivered = new ArrayList<>();
        Channel<String> ch = Channel.<String>builder().capacity(2)
                .onUndelivered((item, reason) -> undelivered.add(item + ":" + reason)).build();
        ch.send("big");
        String taken = ch.receive();
        ChannelAccess.undeliver(ch, taken, UndeliveredReason.REJECTED);
        assertEquals(List.of("big:REJECTED"), undelivered);
        ChannelStats stats = ch.stats();
        assertEquals(1, stats.undelivered());
        assertEquals(0, stats.received());
    }

    @Test
    void install_isRefusedOnceChannelInstalledIt() {
        Channel.bounded(1); // initializes Channel, which installs the operations
        assertThrows(IllegalStateException.class, () -> ChannelAccess.install(new ChannelAccess.Operations() {
            @Override
            public void pushBack(Channel<?> channel, Object item) {
            }

            @Override
            public void undeliver(Channel<?> channel, Object item, UndeliveredReason reason) {
            }

            @Override
            public ChannelState state(ChannelReceiver<?> receiver) {
                return null;
            }

            @Override
            public void endIteration(ChannelIterator<?> iterator) {
            }
        }));
    }

    @Test
    void state_seesThroughTheReceiverView_andIsNullForForeignReceivers() {
        Channel<String> ch = Channel.bounded(1);
        assertEquals(ChannelState.OPEN, ChannelAccess.state(ch.receiver()));
        ch.cancel();
        assertEquals(ChannelState.CANCELLED, ChannelAccess.state(ch.receiver()));
        assertEquals(ChannelState.CANCELLED, ChannelAccess.state(ch));
        ChannelReceiver<String> foreign = (ChannelReceiver<String>) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {ChannelReceiver.class}, (proxy, method, args) -> null);
        assertEquals(null, ChannelAccess.state(foreign));
    }

    @Test
    void endIteration_keepsAReservedItemForNext_thenEnds() throws InterruptedException {
        Channel<String> ch = Channel.bounded(4);
        ch.send("a");
        ch.send("b");
        ChannelIterator<String> it = ch.iterator();
        assertEquals(true, it.hasNext());
        ChannelAccess.endIteration(it);
        assertEquals(true, it.hasNext(), "the reserved item is still there");
        assertEquals("a", it.next());
        assertEquals(false, it.hasNext());
        assertEquals("b", ch.tryReceive(), "the iterator took nothing more");
    }

    @Test
    @org.junit.jupiter.api.Timeout(10)
    void endIteration_wakesABlockedHasNext_whichReturnsFalse() throws Exception {
        Channel<String> ch = Channel.bounded(4);
        ChannelIterator<String> it = ch.iterator();
        java.util.concurrent.CompletableFuture<Boolean> blocked =
                java.util.concurrent.CompletableFuture.supplyAsync(it::hasNext);
        while (ch.stats().waitingReceivers() == 0) {
            Thread.onSpinWait();
        }
        ChannelAccess.endIteration(it);
        assertEquals(false, blocked.get());
        ch.send("x");
        assertEquals("x", ch.tryReceive());
    }

    @Test
    void badInput_isNamed() {
        Channel<String> ch = Channel.bounded(1);
        assertEquals("item", assertThrows(NullPointerException.class, () -> ChannelAccess.pushBack(ch, null))
                .getMessage());
        assertEquals("channel", assertThrows(NullPointerException.class,
                () -> ChannelAccess.pushBack(null, "x")).getMessage());
        assertEquals("reason", assertThrows(NullPointerException.class,
                () -> ChannelAccess.undeliver(ch, "x", null)).getMessage());
    }
}
