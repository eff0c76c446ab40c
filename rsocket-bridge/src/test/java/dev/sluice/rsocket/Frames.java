package dev.sluice.rsocket;

import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.rsocket.DuplexConnection;
import io.rsocket.RSocketErrorException;
import io.rsocket.frame.FrameHeaderCodec;
import io.rsocket.frame.FrameType;
import io.rsocket.frame.RequestNFrameCodec;
import io.rsocket.frame.RequestStreamFrameCodec;
import io.rsocket.plugins.DuplexConnectionInterceptor;
import io.rsocket.plugins.InterceptorRegistry;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Test helper: counts the demand a client sends (REQUEST_STREAM initial n + REQUEST_N), can cut its connection, and
 * can refuse the client's reconnections (as if its host were gone).
 */
final class Frames {

    final AtomicLong requested = new AtomicLong();
    final AtomicInteger connections = new AtomicInteger();
    volatile boolean refuseReconnect;
    final AtomicLong payloadsReceived = new AtomicLong();
    final AtomicReference<DuplexConnection> connection = new AtomicReference<>();

    void register(InterceptorRegistry registry) {
        registry.forConnection((DuplexConnectionInterceptor) (type, source) -> {
            if (type != DuplexConnectionInterceptor.Type.SOURCE) {
                return source;
            }
            if (refuseReconnect) {
                source.dispose();
                throw new IllegalStateException("reconnection refused by the test");
            }
            connections.incrementAndGet();
            connection.set(source);
            return new Counting(source);
        });
    }

    /** Drops the TCP connection under the client, as a network failure would. */
    void cut() {
        connection.get().dispose();
    }

    private final class Counting implements DuplexConnection {
        private final DuplexConnection delegate;

        Counting(DuplexConnection delegate) {
            this.delegate = delegate;
        }

        @Override
        public void sendFrame(int streamId, ByteBuf frame) {
            FrameType type = FrameHeaderCodec.frameType(frame);
            if (type == FrameType.REQUEST_STREAM) {
                add(RequestStreamFrameCodec.initialRequestN(frame));
            } else if (type == FrameType.REQUEST_N) {
                add(RequestNFrameCodec.requestN(frame));
            }
            delegate.sendFrame(streamId, frame);
        }

        private void add(long n) {
            requested.getAndUpdate(r -> r + n < 0 ? Long.MAX_VALUE : r + n);
        }

        @Override
        public void sendErrorAndClose(RSocketErrorException e) {
            delegate.sendErrorAndClose(e);
        }

        @Override
        public Flux<ByteBuf> receive() {
            return delegate.receive().doOnNext(f -> {
                FrameType type = FrameHeaderCodec.frameType(f);
                if (type == FrameType.NEXT || type == FrameType.NEXT_COMPLETE) {
                    payloadsReceived.incrementAndGet();
                }
            });
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
