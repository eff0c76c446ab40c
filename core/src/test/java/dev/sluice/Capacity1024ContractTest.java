package dev.sluice;

/**
 * The channel contract at capacity 1024.
 */
class Capacity1024ContractTest extends ChannelContractTest {

    @Override
    public int capacity() {
        return 1024;
    }
}
