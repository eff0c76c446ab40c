package dev.sluice.reliability.leak;

/** The terminal event raced against the traffic of a round. */
enum Terminal {
    /** {@code channel.close()}: receivers drain, then see the end. */
    CLOSE,
    /** {@code channel.fail(cause)}: receivers drain, then see the cause. */
    FAIL,
    /** {@code channel.cancel()}: buffered items go to the undelivered handler. */
    CANCEL,
    /** The consumer detaches: interrupt, iterator close, or subscription cancel. */
    RECEIVER_ABORT,
    /** The producer gives up: interrupt of a blocked send, or cancel of pending futures. */
    SENDER_ABORT;

    /**
     * Which thread fires the event: the receiver aborts from the sending thread, the sender from the receiving thread
     * (so each races the other's calls); channel-level events come from either side.
     *
     * @param coin a random bit
     * @return {@code true} for the sending thread
     */
    boolean firedBySender(boolean coin) {
        return switch (this) {
            case RECEIVER_ABORT -> true;
            case SENDER_ABORT -> false;
            default -> coin;
        };
    }

    void fire(Round round, Sender sender, Receiver receiver) {
        switch (this) {
            case CLOSE -> round.channel.close();
            case FAIL -> round.channel.fail(new IllegalStateException("injected failure"));
            case CANCEL -> round.channel.cancel();
            case RECEIVER_ABORT -> receiver.abort();
            case SENDER_ABORT -> sender.abort();
            default -> throw new AssertionError(this);
        }
    }
}
