package dev.sluice;

/* What a sender hands to ChannelCore.admit: the waiter to queue if its item does not fit now. */
interface WaiterSource {
    /** The waiter to queue for {@code item}; called under the core's lock, only when it must wait. */
    Waiter waiterFor(Object item);
}
