package dev.sluice.rsocket;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.rsocket.RSocket;
import io.rsocket.SocketAcceptor;
import io.rsocket.core.RSocketConnector;
import io.rsocket.core.RSocketServer;
import io.rsocket.transport.netty.client.TcpClientTransport;
import io.rsocket.transport.netty.server.CloseableChannel;
import io.rsocket.transport.netty.server.TcpServerTransport;
import io.rsocket.util.DefaultPayload;
import reactor.core.publisher.Flux;

/** Checks that RSocket 1.1.5 runs on the project's reactor-core 3.8.8 / reactor-netty 1.3 stack (loopback only). */
class RSocketStackSmokeTest {

    /* ---- stack ---- */

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void requestStream_onReactor38_roundTrips() {
        CloseableChannel server = RSocketServer.create(SocketAcceptor.forRequestStream(p -> {
                    int n = Integer.parseInt(p.getDataUtf8());
                    p.release();
                    return Flux.range(0, n).map(i -> DefaultPayload.create("item-" + i));
                }))
                .bindNow(TcpServerTransport.create("127.0.0.1", 0));
        try {
            RSocket client = RSocketConnector.create()
                    .connect(TcpClientTransport.create(server.address()))
                    .block(Duration.ofSeconds(10));
            List<String> got = client.requestStream(DefaultPayload.create("100"))
                    .map(p -> { String s = p.getDataUtf8(); p.release(); return s; })
                    .collectList()
                    .block(Duration.ofSeconds(10));
            assertEquals(100, got.size());
            assertEquals("item-99", got.get(99));
            client.dispose();
        } finally {
            server.dispose();
        }
    }
}
