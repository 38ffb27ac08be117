/**
 * Decodes BTHome v2 service data (UUID 0xFCD2; https://bthome.io/format). The first byte is the
 * device information: bit 0 encryption, bit 1 the advertiser's MAC follows (reversed; as the reference
 * parser reads it), bit 2 trigger-based (the device sends on events, not on a period), bits 5–7 the
 * version, which must be 2. Then objects: an id byte and a value of the length the id implies
 * (objects.ts), little-endian. An id this table does not know ends decoding — its length is unknown,
 * so nothing after it can be found — and the packet says where it stopped; the objects before it are
 * good. Packet id (0x00) is lifted out of the measurements, for duplicate filtering.
 *
 * Encrypted packets (bthome.io/encryption) are AES-128-CCM with a 4-byte MIC: the payload after the
 * information byte is `ciphertext ‖ counter (uint32 LE) ‖ MIC`, the nonce is
 * `MAC (6, as printed) ‖ 0xD2 0xFC ‖ information byte ‖ counter`, there is no associated data.
 *
 * Untrusted bytes never throw: every problem is a `{ ok: false, reason }` result. Misuse by the
 * caller (a bindkey that is not 16 bytes, an encrypted decode without the address) throws TypeError.
 */
import { createDecipheriv } from 'node:crypto';
import type { SenmlUnit } from '../../../core/senml-units.js';
import { addressBytes } from '../../ble/address.js';
import { BTHOME_OBJECTS, type BthomeObjectSpec, BUTTON_EVENTS } from './objects.js';

/** The 16-bit service UUID as noble and our `Advertisement` spell it. */
export const BTHOME_UUID = 'fcd2';

export type BthomeValue = number | boolean | string;

export interface BthomeMeasurement {
  readonly objectId: number;
  /** Channel name: the object's property, with `_2`, `_3` … for repeats within one packet. */
  readonly property: string;
  readonly value: BthomeValue;
  readonly unit: SenmlUnit | undefined;
}

export interface BthomePacket {
  readonly encrypted: boolean;
  /** The device advertises on events (a button), not periodically: do not expect regular updates. */
  readonly triggerBased: boolean;
  readonly packetId: number | undefined;
  /** The encryption counter of an encrypted packet (it must increase: replay protection). */
  readonly counter: number | undefined;
  readonly measurements: readonly BthomeMeasurement[];
  /** Set when decoding ended before the end of the payload; the measurements before it are good. */
  readonly stopped: BthomeStop | undefined;
}

export interface BthomeStop {
  readonly reason: 'unknown-object' | 'truncated-object';
  readonly objectId: number;
  /** Offset of the object in the (decrypted) payload, after the information byte. */
  readonly offset: number;
}

export type BthomeRejectReason =
  | 'empty'
  | 'version'
  | 'encrypted-without-key'
  | 'not-encrypted'
  | 'too-short'
  | 'decrypt-failed';

export type BthomeDecodeResult =
  | { readonly ok: true; readonly packet: BthomePacket }
  | { readonly ok: false; readonly reason: BthomeRejectReason; readonly message: string };

export interface BthomeDecodeOptions {
  /** The advertiser's address; required to decrypt (it is part of the nonce). */
  readonly address?: string | undefined;
  /**
   * The device's 16-byte AES key. With a key, plaintext packets are rejected (`not-encrypted`): an
   * attacker must not be able to downgrade an encrypted sensor by sending plaintext.
   */
  readonly bindkey?: Uint8Array | undefined;
}

const FLAG_ENCRYPTED = 0x01;
const FLAG_MAC_INCLUDED = 0x02;
const FLAG_TRIGGER_BASED = 0x04;
const MIC_BYTES = 4;
const COUNTER_BYTES = 4;

export function decodeBthome(serviceData: Uint8Array, options: BthomeDecodeOptions = {}): BthomeDecodeResult {
  if (!(serviceData instanceof Uint8Array)) throw new TypeError('serviceData must be a Uint8Array');
  const { bindkey } = options;
  if (bindkey !== undefined && (!(bindkey instanceof Uint8Array) || bindkey.length !== 16)) {
    throw new TypeError('options.bindkey must be 16 bytes');
  }
  const info = serviceData[0];
  if (info === undefined) return reject('empty', 'BTHome service data is empty');
  const version = info >> 5;
  if (version !== 2)
    return reject('version', `BTHome version ${version} in device information 0x${hex(info)}, expected 2`);
  const encrypted = (info & FLAG_ENCRYPTED) !== 0;
  let rest = serviceData.subarray(1);
  let mac: Uint8Array | undefined;
  if (info & FLAG_MAC_INCLUDED) {
    if (rest.length < 6) return reject('too-short', 'BTHome packet announces a MAC address but is shorter');
    mac = rest.subarray(0, 6).slice().reverse();
    rest = rest.subarray(6);
  }
  let payload = rest;
  let counter: number | undefined;
  if (encrypted) {
    if (!bindkey)
      return reject('encrypted-without-key', 'BTHome packet is encrypted and no bindkey is configured');
    if (rest.length < COUNTER_BYTES + MIC_BYTES + 1) {
      return reject(
        'too-short',
        `encrypted BTHome packet has ${rest.length} bytes after the header, needs at least 9`,
      );
    }
    if (!mac) {
      if (options.address === undefined) throw new TypeError('options.address is required to decrypt BTHome');
      mac = addressBytes(options.address);
    }
    const counterBytes = rest.subarray(rest.length - COUNTER_BYTES - MIC_BYTES, rest.length - MIC_BYTES);
    counter = readUint(counterBytes);
    const plain = decrypt(
      bindkey,
      bthomeNonce(mac, info, counterBytes),
      rest.subarray(0, rest.length - 8),
      rest.subarray(rest.length - MIC_BYTES),
    );
    if (!plain)
      return reject(
        'decrypt-failed',
        'BTHome packet failed authentication (wrong bindkey, or altered in transit)',
      );
    payload = plain;
  } else if (bindkey) {
    return reject(
      'not-encrypted',
      'BTHome packet is plaintext but a bindkey is configured (downgrade refused)',
    );
  }
  const { measurements, packetId, stopped } = decodeObjects(payload);
  return {
    ok: true,
    packet: {
      encrypted,
      triggerBased: (info & FLAG_TRIGGER_BASED) !== 0,
      packetId,
      counter,
      measurements,
      stopped,
    },
  };
}

/** The 13-byte CCM nonce: MAC (as printed) ‖ UUID 0xFCD2 little-endian ‖ information byte ‖ counter. */
export function bthomeNonce(mac: Uint8Array, info: number, counter: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(13);
  nonce.set(mac, 0);
  nonce.set([0xd2, 0xfc, info], 6);
  nonce.set(counter, 9);
  return nonce;
}

function decrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  mic: Uint8Array,
): Uint8Array | undefined {
  try {
    const decipher = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: MIC_BYTES });
    decipher.setAuthTag(mic);
    const plain = decipher.update(ciphertext);
    decipher.final();
    return new Uint8Array(plain);
  } catch {
    return undefined; // CCM reports a bad MIC by throwing; for us it is data, not an exception
  }
}

function decodeObjects(payload: Uint8Array): {
  measurements: BthomeMeasurement[];
  packetId: number | undefined;
  stopped: BthomeStop | undefined;
} {
  const measurements: BthomeMeasurement[] = [];
  const seen = new Map<string, number>();
  let packetId: number | undefined;
  let offset = 0;
  while (offset < payload.length) {
    const objectId = payload[offset]!;
    const spec = BTHOME_OBJECTS.get(objectId);
    if (!spec) return { measurements, packetId, stopped: { reason: 'unknown-object', objectId, offset } };
    let start = offset + 1;
    let length = spec.bytes;
    if (spec.kind === 'text' || spec.kind === 'raw') {
      length = payload[start] ?? Number.POSITIVE_INFINITY;
      start++;
    }
    if (start + length > payload.length) {
      return { measurements, packetId, stopped: { reason: 'truncated-object', objectId, offset } };
    }
    const bytes = payload.subarray(start, start + length);
    offset = start + length;
    if (objectId === 0x00) {
      packetId = bytes[0];
      continue;
    }
    const count = (seen.get(spec.property) ?? 0) + 1;
    seen.set(spec.property, count);
    measurements.push({
      objectId,
      property: count === 1 ? spec.property : `${spec.property}_${count}`,
      value: decodeValue(spec, bytes),
      unit: spec.unit,
    });
  }
  return { measurements, packetId, stopped: undefined };
}

function decodeValue(spec: BthomeObjectSpec, bytes: Uint8Array): BthomeValue {
  switch (spec.kind) {
    case 'number': {
      const raw = spec.signed ? readSint(bytes) : readUint(bytes);
      return scale(raw, spec.factor ?? 1);
    }
    case 'binary':
      return bytes[0] !== 0;
    case 'button':
      return BUTTON_EVENTS.get(bytes[0]!) ?? `event_0x${hex(bytes[0]!)}`;
    case 'dimmer': {
      const steps = bytes[1]!;
      return bytes[0] === 0x01 ? -steps : bytes[0] === 0x02 ? steps : 0;
    }
    case 'text':
      return new TextDecoder().decode(bytes);
    case 'raw':
      return Array.from(bytes, hex).join('');
    case 'version':
      return Array.from(bytes).reverse().join('.');
  }
}

/**
 * `raw × factor`, rounded to 15 significant digits so 2506 × 0.01 is 25.06, not 25.060000000000002,
 * and 12 × 1e-9 is 1.2e-8 (factors include a unit conversion, objects.ts). A double holds 15 digits
 * exactly; BTHome's integers and resolutions need at most 12.
 */
export function scale(raw: number, factor: number): number {
  return Number((raw * factor).toPrecision(15));
}

function readUint(bytes: Uint8Array): number {
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i]!;
  return v;
}

function readSint(bytes: Uint8Array): number {
  const v = readUint(bytes);
  const span = 2 ** (8 * bytes.length);
  return v >= span / 2 ? v - span : v;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function reject(reason: BthomeRejectReason, message: string): BthomeDecodeResult {
  return { ok: false, reason, message };
}
