/**
 * {@code sluice-sync SRC DST}: a one-way directory sync built as a pipeline of bounded Sluice channels.
 *
 * <pre>
 *  walker thread --scan--&gt; Flux.flatMap(SHA-256, quick check) --&gt; throughBlocking(legacy writer) --&gt; summary
 *  (blocking send)          (Reactor, parallel hashing)             (temp file + ATOMIC_MOVE)
 * </pre>
 *
 * The entry point is {@link dev.sluice.examples.sync.SluiceSync}; everything else is package-private.
 */
package dev.sluice.examples.sync;
