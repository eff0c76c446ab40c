package dev.sluice;

/**
 * The channel contract at capacity 16.
 */
class Capacity16ContractTest extends ChannelContractTest {

    @Override
    public int capacity() {
        return 16;
    }
}
