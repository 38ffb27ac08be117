/**
 * The Plantower PMS5003 serial frame (datasheet V2.3, appendix I "Transport protocol – Active mode"),
 * decoded from a byte stream that arrives in arbitrary chunks. A frame is 32 bytes, big-endian:
 *
 *   0x42 0x4D | frame length = 2·13 + 2 = 28 | 13 data words | check code
 *
 * data 1–3: PM1.0, PM2.5, PM10 in µg/m³ with CF=1 ("standard particle"); data 4–6: the same under
 * atmospheric environment; data 7–12: particles per 0.1 L beyond 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm;
 * data 13: reserved (on shipped units: firmware version byte, error code byte). The check code is the
 * 16-bit sum of every byte before it.
 *
 * The decoder resynchronises on the start bytes: bytes before a start (a frame cut off when the port
 * opened, line noise) are skipped and counted; a frame whose length field is not 28 or whose checksum
 * is wrong is reported and the search resumes one byte after its start, so a false start inside noise
 * can never swallow the real frame that follows it. A frame truncated in transit shows up as a bad
 * checksum (its 32 bytes include the start of the next frame), which is what it is.
 */
import { ByteQueue } from '../../serial/byte-queue.js';

export const PMS5003_FRAME_BYTES = 32;
/** The value of the length field: 13 data words and the check code (datasheet: "2×13+2"). */
export const PMS5003_FRAME_LENGTH = 28;
const START = Uint8Array.of(0x42, 0x4d);

/** One frame's 13 data words. Concentrations in µg/m³, particle counts per 0.1 L of air. */
export interface Pms5003Reading {
  readonly pm1_0Cf1: number;
  readonly pm2_5Cf1: number;
  readonly pm10Cf1: number;
  readonly pm1_0Atm: number;
  readonly pm2_5Atm: number;
  readonly pm10Atm: number;
  readonly particles0_3: number;
  readonly particles0_5: number;
  readonly particles1_0: number;
  readonly particles2_5: number;
  readonly particles5_0: number;
  readonly particles10: number;
  readonly reserved: number;
}

/** Data-word order on the wire (datasheet appendix I, data 1 … data 13). */
const FIELDS: readonly (keyof Pms5003Reading)[] = [
  'pm1_0Cf1',
  'pm2_5Cf1',
  'pm10Cf1',
  'pm1_0Atm',
  'pm2_5Atm',
  'pm10Atm',
  'particles0_3',
  'particles0_5',
  'particles1_0',
  'particles2_5',
  'particles5_0',
  'particles10',
  'reserved',
];

export type Pms5003RejectReason = 'checksum' | 'length';

export type Pms5003DecodeEvent =
  | { readonly ok: true; readonly reading: Pms5003Reading }
  | {
      readonly ok: false;
      readonly reason: Pms5003RejectReason;
      readonly message: string;
      /** The rejected bytes from the start bytes on (32, or 4 for a bad length). */
      readonly bytes: Uint8Array;
    };

export interface Pms5003DecoderStats {
  readonly frames: number;
  readonly badChecksum: number;
  readonly badLength: number;
  /** Bytes skipped while looking for a start (noise, a frame cut off at open, a rejected frame's start). */
  readonly skippedBytes: number;
}

export class Pms5003FrameDecoder {
  readonly #queue = new ByteQueue(4 * PMS5003_FRAME_BYTES);
  #frames = 0;
  #badChecksum = 0;
  #badLength = 0;
  #skippedBytes = 0;

  get stats(): Pms5003DecoderStats {
    return {
      frames: this.#frames,
      badChecksum: this.#badChecksum,
      badLength: this.#badLength,
      skippedBytes: this.#skippedBytes,
    };
  }

  /** Feeds one received chunk; returns the frames (and rejected frames) it completed, in order. */
  push(chunk: Uint8Array): Pms5003DecodeEvent[] {
    const events: Pms5003DecodeEvent[] = [];
    // Feed a long chunk in slices the queue can hold, so that no chunking ever loses a frame.
    for (let offset = 0; offset < chunk.length; ) {
      const slice = chunk.subarray(offset, offset + this.#queue.maxBytes - this.#queue.length);
      offset += slice.length;
      this.#queue.push(slice);
      this.#decode(events);
    }
    return events;
  }

  /** Forgets a partial frame (after the port was reopened). Counters are kept. */
  reset(): void {
    this.#queue.clear();
  }

  #decode(events: Pms5003DecodeEvent[]): void {
    for (;;) {
      const start = this.#queue.indexOf(START);
      if (start < 0) {
        // Keep a trailing 0x42: it may be the first start byte of a frame split across chunks.
        const keep = this.#queue.at(this.#queue.length - 1) === START[0] ? 1 : 0;
        this.#skip(this.#queue.length - keep);
        return;
      }
      this.#skip(start);
      if (this.#queue.length < 4) return;
      const length = ((this.#queue.at(2) ?? 0) << 8) | (this.#queue.at(3) ?? 0);
      if (length !== PMS5003_FRAME_LENGTH) {
        this.#badLength++;
        events.push({
          ok: false,
          reason: 'length',
          message: `PMS5003 frame length field is ${length}, expected ${PMS5003_FRAME_LENGTH}`,
          bytes: this.#queue.peek(4),
        });
        this.#skip(1);
        continue;
      }
      if (this.#queue.length < PMS5003_FRAME_BYTES) return;
      const frame = this.#queue.peek(PMS5003_FRAME_BYTES);
      const expected = pms5003Checksum(frame);
      const actual = readWord(frame, 30);
      if (actual !== expected) {
        this.#badChecksum++;
        events.push({
          ok: false,
          reason: 'checksum',
          message: `PMS5003 checksum is 0x${hex16(actual)}, bytes sum to 0x${hex16(expected)}`,
          bytes: frame,
        });
        this.#skip(1);
        continue;
      }
      this.#queue.discard(PMS5003_FRAME_BYTES);
      this.#frames++;
      events.push({ ok: true, reading: parseWords(frame) });
    }
  }

  #skip(count: number): void {
    this.#queue.discard(count);
    this.#skippedBytes += count;
  }
}

/** The check code of a frame: the 16-bit sum of its first 30 bytes (datasheet: "start character 1 + … + data 13 low 8 bits"). */
export function pms5003Checksum(frame: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < PMS5003_FRAME_BYTES - 2; i++) sum += frame[i] ?? 0;
  return sum & 0xffff;
}

/**
 * A valid 32-byte frame carrying `values` (missing words are 0) — for the simulated sensor and tests.
 * Each value must be an integer in 0–65535 (RangeError naming the field otherwise).
 */
export function encodePms5003Frame(values: Partial<Pms5003Reading>): Uint8Array {
  const frame = new Uint8Array(PMS5003_FRAME_BYTES);
  frame.set(START, 0);
  writeWord(frame, 2, PMS5003_FRAME_LENGTH);
  FIELDS.forEach((field, i) => {
    const value = values[field] ?? 0;
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`values.${field} must be an integer in 0-65535, got ${String(value)}`);
    }
    writeWord(frame, 4 + 2 * i, value);
  });
  writeWord(frame, 30, pms5003Checksum(frame));
  return frame;
}

function parseWords(frame: Uint8Array): Pms5003Reading {
  const reading = {} as Record<keyof Pms5003Reading, number>;
  FIELDS.forEach((field, i) => {
    reading[field] = readWord(frame, 4 + 2 * i);
  });
  return reading;
}

function readWord(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

function writeWord(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >> 8;
  bytes[offset + 1] = value & 0xff;
}

function hex16(n: number): string {
  return n.toString(16).padStart(4, '0');
}
