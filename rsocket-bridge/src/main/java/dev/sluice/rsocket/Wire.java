package dev.sluice.rsocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;

/*
 * The wire format, all in RSocket payloads (no composite metadata: one peer type talks to another).
 *
 *   SETUP               data = token (UTF-8)
 *   HELLO   req/resp    metadata = [op=1], data = [int client maxFrameSize] -> data [int server maxFrameSize]
 *   RECEIVE req/stream  metadata = [op=2][channel name UTF-8], data = [long consumerId]
 *           items       metadata = [long sequence][byte flags: 1 = redelivered, 2 = acknowledge now], data = item
 *                       bytes ("acknowledge now": the server's window of un-acknowledged items is half full or full)
 *   ACK     fire&forget metadata = [op=4], data = [long consumerId][long sequence] (cumulative: all <= sequence)
 *   SEND    req/channel first payload metadata = [op=3][channel name UTF-8], no data; then data = item bytes
 *           responses   data = [long accepted] (cumulative count of items the server channel accepted)
 *   BYE     req/resp    metadata = [op=5], no data -> empty reply once the server has ended this connection's
 *                       streams (a normal close: the session is not kept for resumption)
 */
final class Wire {

    static final byte HELLO = 1;
    static final byte RECEIVE = 2;
    static final byte SEND = 3;
    static final byte ACK = 4;
    static final byte BYE = 5;
    static final byte REDELIVERED = 1;
    static final byte ACK_NOW = 2;

    private Wire() {
    }

    /** HELLO carries the client's maxFrameSize; the reply carries the server's (each side then sends no item larger
     * than the smaller one allows: a frame above the receiver's limit is dropped by its frame decoder, silently). */
    static Payload hello(int maxFrameSize) {
        return DefaultPayload.create(ByteBuffer.allocate(4).putInt(maxFrameSize).array(), new byte[] {HELLO});
    }

    static Payload helloReply(int maxFrameSize) {
        return DefaultPayload.create(ByteBuffer.allocate(4).putInt(maxFrameSize).array());
    }

    /** The frame size a HELLO or its reply announces, or {@code fallback} if it announces none. */
    static int announcedFrameSize(Payload p, int fallback) {
        ByteBuffer data = p.getData();
        return data.remaining() == 4 ? data.getInt(data.position()) : fallback;
    }

    /** Room for RSocket's frame header, flags and metadata around an item's bytes (generous). */
    static final int FRAME_OVERHEAD = 64;

    /** The largest item (encoded bytes) that fits a frame of {@code maxFrameSize}. */
    static int maxItemBytes(int maxFrameSize) {
        return maxFrameSize - FRAME_OVERHEAD;
    }

    /** @param channel the name to put first, or {@code null} when the client adds it (errors sent by the server) */
    static RemoteChannelException tooLarge(String channel, int bytes, int maxFrameSize) {
        return new RemoteChannelException((channel == null ? "" : "channel '" + channel + "': ") + "an item of "
                + bytes + " bytes exceeds the largest item this connection can carry, " + maxItemBytes(maxFrameSize)
                + " bytes (the smaller maxFrameSize of client and server, " + maxFrameSize + ", minus framing)", null);
    }

    static Payload route(byte op, String channel, byte[] data) {
        byte[] name = channel.getBytes(StandardCharsets.UTF_8);
        byte[] meta = new byte[1 + name.length];
        meta[0] = op;
        System.arraycopy(name, 0, meta, 1, name.length);
        return DefaultPayload.create(data, meta);
    }

    static Payload receive(String channel, long consumerId) {
        return route(RECEIVE, channel, ByteBuffer.allocate(8).putLong(consumerId).array());
    }

    static Payload openSend(String channel) {
        return route(SEND, channel, new byte[0]);
    }

    static Payload ack(long consumerId, long sequence) {
        return DefaultPayload.create(ByteBuffer.allocate(16).putLong(consumerId).putLong(sequence).array(),
                new byte[] {ACK});
    }

    static Payload item(long sequence, boolean redelivered, boolean ackNow, byte[] data) {
        byte flags = (byte) ((redelivered ? REDELIVERED : 0) | (ackNow ? ACK_NOW : 0));
        byte[] meta = ByteBuffer.allocate(9).putLong(sequence).put(flags).array();
        return DefaultPayload.create(data, meta);
    }

    static Payload bye() {
        return DefaultPayload.create(new byte[0], new byte[] {BYE});
    }

    static Payload accepted(long count) {
        return DefaultPayload.create(ByteBuffer.allocate(8).putLong(count).array());
    }

    /** The op code of a request, or -1 if the metadata is empty. */
    static byte op(Payload p) {
        ByteBuffer meta = p.getMetadata();
        return meta.hasRemaining() ? meta.get(meta.position()) : -1;
    }

    /** The channel name after the op code. */
    static String channel(Payload p) {
        ByteBuffer meta = p.getMetadata().duplicate();
        meta.position(meta.position() + 1);
        return StandardCharsets.UTF_8.decode(meta).toString();
    }

    static byte[] data(Payload p) {
        ByteBuffer data = p.getData();
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return bytes;
    }

    static long longAt(Payload p, int index) {
        ByteBuffer data = p.getData();
        if (data.remaining() < index + 8) {
            throw new IllegalArgumentException("payload of " + data.remaining() + " bytes has no long at " + index);
        }
        return data.getLong(data.position() + index);
    }
}
