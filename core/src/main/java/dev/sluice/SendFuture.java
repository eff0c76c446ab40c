package dev.sluice;

import java.util.concurrent.CompletableFuture;

/*
 * The future of a pending sendAsync: cancel or completeExceptionally before acceptance withdraws the item (it never
 * enters the channel); only the channel completes it normally, from its waiter's wake().
 */
final class SendFuture extends CompletableFuture<Void> {
    private final ChannelCore core;
    final Waiter waiter;

    SendFuture(ChannelCore core, Object item) {
        this.core = core;
        this.waiter = new Waiter() {
            @Override
            void wake() {
                if (state == DONE) {
                    SendFuture.super.complete(null);
                } else {
                    SendFuture.super.completeExceptionally(core.closedForSend());
                }
            }
        };
        waiter.item = item;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        if (core.withdraw(waiter)) {
            return super.cancel(mayInterruptIfRunning);
        }
        return isCancelled();
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
        if (core.withdraw(waiter)) {
            return super.completeExceptionally(ex);
        }
        return false;
    }

    @Override
    public boolean complete(Void value) {
        return false; // only the channel completes it, on acceptance
    }
}
