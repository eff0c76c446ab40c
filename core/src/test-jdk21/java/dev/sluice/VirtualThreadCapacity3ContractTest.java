package dev.sluice;

/**
 * The channel contract at capacity 3 (not a power of two), forked calls on virtual threads.
 */
class VirtualThreadCapacity3ContractTest extends VirtualThreadContractTest {

    @Override
    public int capacity() {
        return 3;
    }
}
