/**
 * The incoming packet-size guard against packets mqtt-packet (the encoder MQTT.js uses) writes, cut
 * into chunks at every possible place: packets within the limit pass whatever the cut, the first one
 * over it is reported at its header, and a Remaining Length longer than four bytes is malformed.
 */
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { maximumPacketSizeFor, PacketSizeGuard } from '../../../agent/link/packet-size.js';

function publish(payloadBytes: number, topic = 'edge/gw-0042/cmd'): Buffer {
  return mqttPacket.generate(
    {
      cmd: 'publish',
      topic,
      payload: Buffer.alloc(payloadBytes, 1),
      qos: 1,
      messageId: 7,
      dup: false,
      retain: false,
      properties: { contentType: 'application/cose; cose-type="cose-sign1"' },
    },
    { protocolVersion: 5 },
  );
}

const ping = mqttPacket.generate({ cmd: 'pingresp' });

/** Feeds `bytes` cut at `cuts` (sorted offsets); returns what the guard reported. */
function feed(guard: PacketSizeGuard, bytes: Buffer, cuts: number[]) {
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    const over = guard.push(bytes.subarray(at, cut));
    at = cut;
    if (over) return over;
  }
  return undefined;
}

const cutsOf = (length: number) => fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 8 });

describe('PacketSizeGuard', () => {
  const limit = maximumPacketSizeFor(1000, 'edge/gw-0042/cmd/result');

  it('lets packets within the limit through, however the stream is cut', () => {
    const stream = Buffer.concat([publish(1000), ping, publish(0), publish(130), publish(800)]);
    fc.assert(
      fc.property(cutsOf(stream.length), (cuts) => {
        expect(
          feed(
            new PacketSizeGuard(limit),
            stream,
            cuts.sort((a, b) => a - b),
          ),
        ).toBeUndefined();
      }),
    );
  });

  it('reports the first packet over the limit at its header, with the size it declares', () => {
    const big = publish(5000);
    const stream = Buffer.concat([publish(10), ping, big]);
    const headerEnd = publish(10).length + ping.length + 3; // type byte + a two-byte length
    fc.assert(
      fc.property(cutsOf(headerEnd), (cuts) => {
        const guard = new PacketSizeGuard(limit);
        const sorted = cuts.sort((a, b) => a - b);
        expect(feed(guard, stream.subarray(0, headerEnd), sorted)).toEqual({
          sizeBytes: big.length,
          type: 3,
        });
      }),
    );
  });

  it('reports a 200 MB PUBLISH from five header bytes, and a Remaining Length over four bytes', () => {
    expect(new PacketSizeGuard(limit).push(Uint8Array.of(0x30, 0x80, 0x84, 0xaf, 0x5f))).toEqual({
      sizeBytes: 200_000_005,
      type: 3,
    });
    expect(new PacketSizeGuard(limit).push(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01))).toEqual({
      sizeBytes: undefined,
      type: 3,
    });
  });

  it('admits a command of exactly the limit with its topic and properties', () => {
    const exact = publish(1000, 'edge/gw-0042/cmd');
    expect(exact.length).toBeLessThanOrEqual(limit);
    expect(new PacketSizeGuard(limit).push(exact)).toBeUndefined();
  });
});
