package dev.sluice.rsocket;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import io.rsocket.Closeable;
import io.rsocket.DuplexConnection;
import io.rsocket.RSocketErrorException;
import io.rsocket.exceptions.ConnectionErrorException;
import io.rsocket.frame.ErrorFrameCodec;
import io.rsocket.frame.FrameLengthCodec;
import io.rsocket.transport.ClientTransport;
import io.rsocket.transport.ServerTransport;
import io.rsocket.transport.netty.RSocketLengthCodec;
import io.rsocket.transport.netty.TcpDuplexConnection;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

/*
 * RSocket's TCP transports (TcpServerTransport, TcpClientTransport of rsocket-transport-netty 1.1.5) rebuilt with
 * two guards.
 *
 * Frame guard. RSocket's length decoder (a Netty LengthFieldBasedFrameDecoder) meets a frame above the limit by
 * discarding it and raising an exception that nobody handles: the connection stays open and silently wedged (the
 * frame is gone; the peer waits for an answer that never comes). FrameGuard, right behind the decoder, turns that into
 * an RSocket connection ERROR frame naming both sizes, logs it (rate-limited, with the remote address) and closes the
 * connection.
 *
 * Setup guard (server only). The first frame of every connection goes through SetupGuard.admit before RSocket sees it:
 * repeated SETUPs with a wrong token from one address are answered later and later (see SetupGuard).
 */
final class Transports {

    private Transports() {
    }

    static ServerTransport<BoundServer> server(TcpServer tcp, int maxFrameSize, SetupGuard guard) {
        return new ServerTransport<>() {
            @Override
            public int maxFrameLength() {
                return maxFrameSize;
            }

            @Override
            public Mono<BoundServer> start(ConnectionAcceptor acceptor) {
                Objects.requireNonNull(acceptor, "acceptor");
                return tcp.doOnConnection(c -> {
                    c.addHandlerLast(new RSocketLengthCodec(maxFrameSize));
                    c.addHandlerLast("sluice.frameGuard", new FrameGuard("server", maxFrameSize));
                    DuplexConnection connection = new GuardedConnection(new TcpDuplexConnection("server", c), guard);
                    acceptor.apply(connection).then(Mono.<Void>never()).subscribe(c.disposeSubscriber());
                }).bind().map(BoundServer::new);
            }
        };
    }

    static ClientTransport client(TcpClient tcp, int maxFrameSize) {
        return new ClientTransport() {
            @Override
            public int maxFrameLength() {
                return maxFrameSize;
            }

            @Override
            public Mono<DuplexConnection> connect() {
                return tcp.doOnConnected(c -> {
                    c.addHandlerLast(new RSocketLengthCodec(maxFrameSize));
                    c.addHandlerLast("sluice.frameGuard", new FrameGuard("client", maxFrameSize));
                }).connect().map(c -> new TcpDuplexConnection("client", c));
            }
        };
    }

    /** The bound server socket (what TcpServerTransport returns as its CloseableChannel). */
    static final class BoundServer implements Closeable {
        private final DisposableServer server;

        BoundServer(DisposableServer server) {
            this.server = server;
        }

        InetSocketAddress address() {
            return (InetSocketAddress) server.address();
        }

        @Override
        public void dispose() {
            server.dispose();
        }

        @Override
        public boolean isDisposed() {
            return server.isDisposed();
        }

        @Override
        public Mono<Void> onClose() {
            return server.onDispose();
        }
    }

    /* Closes a connection whose peer sent a frame above the limit, with an RSocket ERROR frame saying so. */
    private static final class FrameGuard extends ChannelInboundHandlerAdapter {
        private static final long CLOSE_DELAY_MILLIS = 1000;
        private final String side;
        private final int maxFrameSize;

        FrameGuard(String side, int maxFrameSize) {
            this.side = side;
            this.maxFrameSize = maxFrameSize;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof TooLongFrameException)) {
                ctx.fireExceptionCaught(cause);
                return;
            }
            SocketAddress remote = ctx.channel().remoteAddress();
            String message = "frame too large: " + cause.getMessage() + " (maxFrameSize " + maxFrameSize
                    + ")" + tlsHint(cause.getMessage()) + "; closing the connection";
            Log.log(Log.Kind.CLOSED, System.Logger.Level.WARNING, () -> side + " closed the connection with "
                    + remote + ": " + message);
            ByteBufAllocator alloc = ctx.alloc();
            ByteBuf error = ErrorFrameCodec.encode(alloc, 0, new ConnectionErrorException(message));
            // send the error and half-close, so that the peer reads it (closing at once, with the rest of its frame
            // unread, would reset the connection under it); the decoder discards what still comes; close soon
            ctx.writeAndFlush(FrameLengthCodec.encode(alloc, error.readableBytes(), error)).addListener(f -> {
                if (ctx.channel() instanceof DuplexChannel) {
                    ((DuplexChannel) ctx.channel()).shutdownOutput();
                }
                ctx.executor().schedule(() -> ctx.close(), CLOSE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            });
        }
    }

    /*
     * A TLS record starts with 0x16 0x03: read as an RSocket frame length that is 0x1603xx, far above any limit. Say
     * so, since that is what a TLS client talking to a plain server looks like.
     */
    static String tlsHint(String decoderMessage) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(": (\\d+)").matcher(decoderMessage);
        if (m.find()) {
            long length = Long.parseLong(m.group(1)) - FrameLengthCodec.FRAME_LENGTH_SIZE;
            if (length >> 8 == 0x1603) {
                return " (these bytes look like a TLS handshake: a TLS peer talking to a plain one?)";
            }
        }
        return "";
    }

    /* The server's connection: passes the first frame through the setup guard (maybe later, or not at all). */
    private static final class GuardedConnection implements DuplexConnection {
        private final DuplexConnection delegate;
        private final SetupGuard guard;

        GuardedConnection(DuplexConnection delegate, SetupGuard guard) {
            this.delegate = delegate;
            this.guard = guard;
        }

        @Override
        public Flux<ByteBuf> receive() {
            return delegate.receive().switchOnFirst((first, frames) -> {
                if (!first.hasValue()) {
                    return frames;
                }
                SetupGuard.Verdict verdict = guard.admit(delegate.remoteAddress(), first.get());
                if (verdict.close()) {
                    delegate.dispose();
                    return frames.doOnNext(ReferenceCountUtil::safeRelease).thenMany(Flux.empty());
                }
                if (verdict.delay().isZero()) {
                    return frames;
                }
                // Reactor Netty releases an inbound buffer once onNext returns: keep the SETUP frame for later, and
                // release it if the connection ends before it was handed on
                ByteBuf held = first.get().retain();
                AtomicBoolean handedOn = new AtomicBoolean();
                return frames.delaySubscription(Mono.delay(verdict.delay()).doFinally(s -> verdict.done().run()))
                        .doOnNext(f -> {
                            if (f == held) {
                                handedOn.set(true);
                            }
                        })
                        .doFinally(s -> {
                            if (!handedOn.get()) {
                                held.release();
                            }
                        });
            });
        }

        @Override
        public void sendFrame(int streamId, ByteBuf frame) {
            delegate.sendFrame(streamId, frame);
        }

        @Override
        public void sendErrorAndClose(RSocketErrorException e) {
            delegate.sendErrorAndClose(e);
        }

        @Override
        public ByteBufAllocator alloc() {
            return delegate.alloc();
        }

        @Override
        public SocketAddress remoteAddress() {
            return delegate.remoteAddress();
        }

        @Override
        public Mono<Void> onClose() {
            return delegate.onClose();
        }

        @Override
        public void dispose() {
            delegate.dispose();
        }

        @Override
        public boolean isDisposed() {
            return delegate.isDisposed();
        }
    }
}
