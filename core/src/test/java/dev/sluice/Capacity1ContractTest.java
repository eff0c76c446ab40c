package dev.sluice;

/**
 * The channel contract at capacity 1.
 */
class Capacity1ContractTest extends ChannelContractTest {

    @Override
    public int capacity() {
        return 1;
    }
}
