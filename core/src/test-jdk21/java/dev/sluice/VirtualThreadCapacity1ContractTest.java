package dev.sluice;

/**
 * The channel contract at capacity 1, forked calls on virtual threads.
 */
class VirtualThreadCapacity1ContractTest extends VirtualThreadContractTest {

    @Override
    public int capacity() {
        return 1;
    }
}
