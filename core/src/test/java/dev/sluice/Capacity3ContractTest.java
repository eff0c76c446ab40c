package dev.sluice;

/**
 * The channel contract at capacity 3: a capacity that is not a power of two, so a ring that rounds its array up or
 * masks its indices must still hold exactly three items (JCTools' {@code QueueSanityTest} runs at such odd sizes).
 */
class Capacity3ContractTest extends ChannelContractTest {

    @Override
    public int capacity() {
        return 3;
    }
}
