/**
 * Builds BTHome v2 service data (the bytes after UUID 0xFCD2) from object ids and values — what a
 * BTHome sensor firmware does — for the simulated sensor and for tests. Encryption follows
 * bthome.io/encryption (see decode.ts). Values are given in the object's unit, the primary SenML unit
 * decoding returns (25.06 for a 0x02 temperature in Cel, 100883 for a 0x04 pressure in Pa), and rounded
 * to its resolution; a value that does not fit throws RangeError naming it.
 */
import { createCipheriv } from 'node:crypto';
import { addressBytes } from '../../ble/address.js';
import { type BthomeValue, bthomeNonce } from './decode.js';
import { BTHOME_OBJECTS, type BthomeObjectSpec, BUTTON_EVENTS } from './objects.js';

export interface BthomeObjectValue {
  /** Object id, e.g. 0x02 for a temperature in 0.01 °C. */
  readonly id: number;
  readonly value: BthomeValue;
}

export interface BthomeEncodeOptions {
  /** Set the trigger-based flag (a device that advertises on events). */
  readonly triggerBased?: boolean;
  /** Encrypt with the device's key; the counter must increase with every packet. */
  readonly encryption?: { readonly bindkey: Uint8Array; readonly address: string; readonly counter: number };
}

const VERSION_2 = 2 << 5;

export function encodeBthome(
  objects: readonly BthomeObjectValue[],
  options: BthomeEncodeOptions = {},
): Uint8Array {
  const body: number[] = [];
  objects.forEach((o, i) => {
    const spec = BTHOME_OBJECTS.get(o.id);
    if (!spec) throw new RangeError(`objects[${i}].id 0x${o.id.toString(16)} is not a BTHome v2 object`);
    body.push(o.id, ...encodeValue(spec, o.value, `objects[${i}].value`));
  });
  const encryption = options.encryption;
  const info = VERSION_2 | (options.triggerBased ? 0x04 : 0) | (encryption ? 0x01 : 0);
  if (!encryption) return Uint8Array.from([info, ...body]);

  const { bindkey, address, counter } = encryption;
  if (!(bindkey instanceof Uint8Array) || bindkey.length !== 16)
    throw new TypeError('encryption.bindkey must be 16 bytes');
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) {
    throw new RangeError(`encryption.counter must be a uint32, got ${String(counter)}`);
  }
  const counterBytes = Uint8Array.from(
    [counter, counter >>> 8, counter >>> 16, counter >>> 24].map((b) => b & 0xff),
  );
  const cipher = createCipheriv(
    'aes-128-ccm',
    bindkey,
    bthomeNonce(addressBytes(address), info, counterBytes),
    {
      authTagLength: 4,
    },
  );
  const ciphertext = Buffer.concat([cipher.update(Uint8Array.from(body)), cipher.final()]);
  return Uint8Array.from([info, ...ciphertext, ...counterBytes, ...cipher.getAuthTag()]);
}

function encodeValue(spec: BthomeObjectSpec, value: BthomeValue, name: string): number[] {
  switch (spec.kind) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new RangeError(`${name} must be a number`);
      return intBytes(Math.round(value / (spec.factor ?? 1)), spec.bytes, spec.signed ?? false, name);
    }
    case 'binary':
      if (typeof value !== 'boolean') throw new RangeError(`${name} must be a boolean`);
      return [value ? 1 : 0];
    case 'button': {
      const code =
        typeof value === 'number' ? value : [...BUTTON_EVENTS].find(([, event]) => event === value)?.[0];
      if (code === undefined)
        throw new RangeError(`${name} must be a button event name or code, got ${String(value)}`);
      return intBytes(code, 1, false, name);
    }
    case 'dimmer': {
      if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > 255) {
        throw new RangeError(`${name} must be a step count in -255..255`);
      }
      return value < 0 ? [0x01, -value] : value > 0 ? [0x02, value] : [0x00, 0x00];
    }
    case 'text':
    case 'raw': {
      if (typeof value !== 'string') throw new RangeError(`${name} must be a string`);
      const bytes =
        spec.kind === 'text'
          ? [...new TextEncoder().encode(value)]
          : (value.match(/../g) ?? []).map((h) => Number.parseInt(h, 16));
      if (bytes.length > 255 || bytes.some(Number.isNaN))
        throw new RangeError(`${name} does not fit a BTHome ${spec.kind} object`);
      return [bytes.length, ...bytes];
    }
    case 'version': {
      const parts = String(value).split('.').map(Number);
      if (parts.length !== spec.bytes || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
        throw new RangeError(`${name} must be a version of ${spec.bytes} parts 0-255`);
      }
      return parts.reverse();
    }
  }
}

function intBytes(raw: number, bytes: number, signed: boolean, name: string): number[] {
  const span = 2 ** (8 * bytes);
  const [min, max] = signed ? [-span / 2, span / 2 - 1] : [0, span - 1];
  if (raw < min || raw > max) throw new RangeError(`${name} is out of range for ${bytes} byte(s) (${raw})`);
  let v = raw < 0 ? raw + span : raw;
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return out;
}
