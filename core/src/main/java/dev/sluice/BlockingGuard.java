package dev.sluice;

/**
 * Service-provider interface that decides whether the current thread may block inside a channel call.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (module {@code provides} or
 * {@code META-INF/services/dev.sluice.BlockingGuard}) when the first channel class loads. Every blocking method of
 * Sluice ({@code send}, {@code receive}, the blocking iterator, {@code sendAll}) asks each guard before it starts,
 * whether or not it would have to wait (so a misplaced blocking call fails every time, not only under load); when a
 * guard answers {@code false}, the call throws {@link IllegalStateException} with the guard's
 * {@linkplain #explain(String, Thread) explanation} and changes nothing. A timed call with a zero (or negative)
 * timeout never waits and is never refused. A guard's answer for a thread is assumed not to change: each side of a
 * channel remembers the first thread the guards allowed and does not ask again for it. With no provider installed
 * every thread may block. The Reactor bridge ships a guard that refuses Reactor's non-blocking threads.
 *
 * <p>Implementations must be thread-safe, fast and must not block.
 */
public interface BlockingGuard {

    /**
     * Tells whether {@code thread} may block in a channel call.
     *
     * @param thread the current thread
     * @return {@code true} to allow blocking
     */
    boolean mayBlock(Thread thread);

    /**
     * Explains a refusal: which call was refused and what to do instead.
     *
     * @param operation the blocking operation, for example {@code "Channel.receive()"}
     * @param thread the refused thread
     * @return the message of the {@link IllegalStateException} thrown to the caller
     */
    default String explain(String operation, Thread thread) {
        return operation + " would block thread " + thread.getName() + ", which " + getClass().getName()
                + " marks as non-blocking";
    }
}
