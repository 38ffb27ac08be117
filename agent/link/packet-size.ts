/**
 * The bound on what the broker may send us. MQTT 5 lets a client state a Maximum Packet Size in
 * CONNECT (MQTT 5 §3.1.2.11.4); a compliant broker then discards any message that would exceed it
 * instead of sending it (§4.13). Without one, a 200 MB publish to the command topic was buffered whole
 * by MQTT.js's parser before anything could refuse it (RSS 86 → 472 MB, and it stayed).
 *
 * The broker is not trusted, so the limit is also enforced here: `PacketSizeGuard` reads the MQTT
 * fixed headers (type byte, then the Remaining Length varint, §2.1.4) of the bytes as they arrive and
 * reports a packet that declares more than the limit — or a malformed length — as soon as its header
 * is seen, so the connection is dropped before its body is read. MQTT.js itself checks the limit only
 * once a whole packet is parsed, which is too late for memory.
 */

/** Room for a PUBLISH's properties (content type, user properties, correlation data, …). */
export const PROPERTIES_ALLOWANCE_BYTES = 2048;

/**
 * The Maximum Packet Size that admits a PUBLISH with `maxPayloadBytes` of payload on `topic`: fixed
 * header (≤ 5), topic name (2 + its UTF-8 bytes), packet id (2), and the properties allowance.
 */
export function maximumPacketSizeFor(maxPayloadBytes: number, longestTopic: string): number {
  return maxPayloadBytes + 5 + 2 + Buffer.byteLength(longestTopic) + 2 + PROPERTIES_ALLOWANCE_BYTES;
}

export interface OversizePacket {
  /** The packet's whole size as its header declares it, or undefined for a malformed length. */
  readonly sizeBytes: number | undefined;
  /** The MQTT control packet type (the high nibble of the first byte: 3 = PUBLISH). */
  readonly type: number;
}

/** Follows packet boundaries in an MQTT byte stream, checking each header against a limit. */
export class PacketSizeGuard {
  readonly #maxBytes: number;
  #phase: 'type' | 'length' | 'body' = 'type';
  #type = 0;
  #length = 0;
  #lengthBytes = 0;
  #bodyLeft = 0;
  #tripped = false;

  constructor(maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 2) {
      throw new TypeError(`maxBytes must be an integer >= 2, got ${maxBytes}`);
    }
    this.#maxBytes = maxBytes;
  }

  /** Feeds received bytes; returns the first packet over the limit (and nothing after it), else undefined. */
  push(chunk: Uint8Array): OversizePacket | undefined {
    if (this.#tripped) return undefined;
    let i = 0;
    while (i < chunk.length) {
      if (this.#phase === 'body') {
        const skip = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= skip;
        i += skip;
        if (this.#bodyLeft === 0) this.#phase = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.#phase === 'type') {
        this.#type = byte >> 4;
        this.#length = 0;
        this.#lengthBytes = 0;
        this.#phase = 'length';
        continue;
      }
      this.#length += (byte & 0x7f) * 128 ** this.#lengthBytes;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes === 4) return this.#trip(undefined); // §1.5.5: at most four bytes
        continue;
      }
      const size = 1 + this.#lengthBytes + this.#length;
      if (size > this.#maxBytes) return this.#trip(size);
      this.#bodyLeft = this.#length;
      this.#phase = this.#bodyLeft > 0 ? 'body' : 'type';
    }
    return undefined;
  }

  #trip(sizeBytes: number | undefined): OversizePacket {
    this.#tripped = true;
    return { sizeBytes, type: this.#type };
  }
}

/**
 * Watches what arrives on `stream` (MQTT.js's `client.stream`: the socket, TLS socket or WebSocket
 * duplex, already piped to its parser) and destroys it at the first packet header over `maxBytes`,
 * after telling `onOversize`. The parser has then seen at most the chunk that held the header.
 */
export function guardIncomingPackets(
  stream: Pick<NodeJS.ReadableStream, 'on'> & { destroy(): unknown },
  maxBytes: number,
  onOversize: (packet: OversizePacket) => void,
): void {
  const guard = new PacketSizeGuard(maxBytes);
  stream.on('data', (chunk: Uint8Array) => {
    const over = guard.push(chunk);
    if (!over) return;
    onOversize(over);
    stream.destroy();
  });
}
