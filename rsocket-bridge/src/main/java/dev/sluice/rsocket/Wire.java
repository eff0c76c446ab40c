package dev.sluice.rsocket;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.rsocket.Payload;
import io.rsocket.util.DefaultPayload;

/*
 * The wire format, all in RSocket payloads (no composite metadata: one peer type talks to another).
 *
 *   SETUP               data = token (UTF-8)
 *   HELLO   req/resp    metadata = [op=1]                         -> data "ok"
 *   RECEIVE req/stream  metadata = [op=2][channel name UTF-8], data = [long consumerId]
 *           items       metadata = [long sequence][byte flags: 1 = redelivered], data = item bytes
 *   ACK     fire&forget metadata = [op=4], data = [long consumerId][long sequence] (cumulative: all <= sequence)
 *   SEND    req/channel first payload metadata = [op=3][channel name UTF-8], no data; then data = item bytes
 *           responses   data = [long accepted] (cumulative count of items the server channel accepted)
 */
final class Wire {

    static final byte HELLO = 1;
    static final byte RECEIVE = 2;
    static final byte SEND = 3;
    static final byte ACK = 4;
    static final byte REDELIVERED = 1;

    private Wire() {
    }

    static Payload hello() {
        return DefaultPayload.create(new byte[0], new byte[] {HELLO});
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

    static Payload item(long sequence, boolean redelivered, byte[] data) {
        byte[] meta = ByteBuffer.allocate(9).putLong(sequence).put(redelivered ? REDELIVERED : 0).array();
        return DefaultPayload.create(data, meta);
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
