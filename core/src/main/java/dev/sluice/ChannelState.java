package dev.sluice;

/**
 * The lifecycle state of a {@link Channel}, as returned by {@link Channel#state()}.
 *
 * <pre>
 *   OPEN --close()--&gt; DRAINING --last item received--&gt; COMPLETED
 *   OPEN --fail(t)--&gt; DRAINING --last item received--&gt; FAILED
 *   any non-terminal --cancel()--&gt; CANCELLED
 * </pre>
 * A channel closed or failed while empty moves straight to {@code COMPLETED} or {@code FAILED}.
 */
public enum ChannelState {
    /** Accepting items. */
    OPEN,
    /** Closed or failed for sending; receivers are still draining buffered items. */
    DRAINING,
    /** Closed with {@link Channel#close()} and fully drained. */
    COMPLETED,
    /** Failed with {@link Channel#fail(Throwable)} and fully drained; receivers see the cause. */
    FAILED,
    /** Cancelled with {@link Channel#cancel()}; buffered items went to the undelivered handler. */
    CANCELLED;

    /**
     * Tells whether this state is final.
     *
     * @return {@code true} for {@link #COMPLETED}, {@link #FAILED} and {@link #CANCELLED}
     */
    public boolean isTerminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }
}
