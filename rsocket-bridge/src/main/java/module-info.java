/**
 * Sluice over RSocket: remote producers and consumers of named channels, with {@code request(n)} crossing the
 * network.
 *
 * <p>{@link dev.sluice.rsocket.SluiceServer} exposes channels of this JVM; {@link dev.sluice.rsocket.SluiceClient}
 * connects to it and gives local {@link dev.sluice.ChannelReceiver}/{@link dev.sluice.ChannelSender} views of them.
 */
module dev.sluice.rsocket {
    requires transitive dev.sluice;
    requires transitive io.netty.handler;
    requires dev.sluice.reactor;
    requires reactor.core;
    requires reactor.netty.core;
    requires rsocket.core;
    requires rsocket.transport.netty;
    requires io.netty.buffer;
    requires io.netty.codec;
    requires io.netty.common;
    requires io.netty.transport;

    exports dev.sluice.rsocket;
}
