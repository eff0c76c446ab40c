package dev.sluice;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The channel contract at capacity 5 on a ring of 2: the first two items live in the lock-free ring, the rest in the
 * overflow list, as for every capacity above ChannelCore.MAX_RING (and for unbounded channels). Order, blocking when
 * full, close, cancel and the counters must not tell the two parts apart.
 */
class OverflowRingContractTest extends ChannelContractTest {

    @BeforeAll
    static void smallRings() {
        ChannelCore.ringLimit = 2;
    }

    @AfterAll
    static void normalRings() {
        ChannelCore.ringLimit = ChannelCore.MAX_RING;
    }

    @Override
    public int capacity() {
        return 5;
    }

    @org.junit.jupiter.api.Test
    void theRingIsSmallerThanTheCapacity_soTheOverflowPathRuns() throws InterruptedException {
        Channel<String> channel = newChannel();
        org.junit.jupiter.api.Assertions.assertEquals(2, channel.core.ringCapacity);
        for (int i = 0; i < 5; i++) {
            channel.send("i" + i);
        }
        org.junit.jupiter.api.Assertions.assertEquals(5, channel.stats().size());
        org.junit.jupiter.api.Assertions.assertEquals(5, channel.stats().sent());
        for (int i = 0; i < 5; i++) {
            org.junit.jupiter.api.Assertions.assertEquals("i" + i, channel.receive());
        }
        org.junit.jupiter.api.Assertions.assertEquals(5, channel.stats().received());
    }
}
