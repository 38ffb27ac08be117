/**
 * The read-back of a raw slot from its medium: the units of a synced range read again with O_DIRECT
 * and each compared with what it was verified as on its way in. With per-chunk hashes that is the
 * manifest's SHA-256 of the chunk; without them, the CRC-32 the transfer took of each unit after the
 * whole payload's digest matched (a CRC is enough to catch a medium that does not hold what was
 * written — a bad block, a lost write, a device that wraps — every burst up to 32 bits, anything else
 * but 1 in 2^32). Not a CRC for both: the CRC of every unit has to be taken on the way in, on the
 * thread that hashes, and that thread is the install's bottleneck (here, 1 GiB: SHA-256 0.6 s, CRC-32
 * 0.3 s; a second SHA-256 in the worker costs the other core what the two CRCs cost in all).
 *
 * `openMediumVerifier` runs the check in a worker thread when the built worker is in the given code
 * directory — the reads' completions and the hashing then stay off the main thread, which hashes what
 * arrives — else on the calling thread (agent/ under vitest holds no built worker). It resolves
 * undefined where the slot's filesystem refuses O_DIRECT, and the caller reads back through the page
 * cache instead.
 */

import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { InstallError } from '../install-errors.js';
import { MediumReader } from './medium-reader.js';

/** What a unit must read back as: its SHA-256 (a manifest chunk hash), or the CRC-32 taken on the way in. */
export type UnitDigest = Uint8Array | number;

/** Verifies ranges of the slot, one at a time, in order. */
export interface RangeVerifier {
  /**
   * `from` is a unit boundary; `to` one too, or the size; `expected` has one digest per unit in the
   * range. Rejects with `readback-mismatch`.
   */
  verify(from: number, to: number, expected: readonly UnitDigest[]): Promise<void>;
  close(): Promise<void>;
}

export interface MediumVerifierOptions {
  readonly file: string;
  /** The unit the transfer writes and checksums (a manifest chunk, else `checkpointBytes`). */
  readonly unitBytes: number;
  readonly sizeBytes: number;
  /** The built agent's directory (code-dir.ts): with it the hashing runs in a worker thread. */
  readonly codeDir?: URL | undefined;
}

export async function openMediumVerifier(o: MediumVerifierOptions): Promise<RangeVerifier | undefined> {
  const reader = await MediumReader.open(o.file);
  if (!reader) return undefined;
  const inline = (): RangeVerifier => ({
    verify: (from, to, expected) => verifyUnits(reader, o, from, to, expected),
    close: () => reader.close(),
  });
  if (!o.codeDir) return inline();
  const entry = new URL('ota/slots/medium-verify-worker.js', o.codeDir);
  if (!existsSync(entry)) return inline();
  await reader.close();
  return WorkerVerifier.start(entry, o);
}

/**
 * The read-back a `readBack` setting asks for: undefined (the page cache's copy is compared) for
 * `page-cache`, and for `medium` where the slot refuses O_DIRECT — which is logged.
 */
export async function openReadBack(
  mode: 'medium' | 'page-cache',
  o: MediumVerifierOptions,
  log: Logger,
): Promise<RangeVerifier | undefined> {
  if (mode === 'page-cache') return undefined;
  const verifier = await openMediumVerifier(o);
  if (!verifier)
    log.info({ slot: o.file }, 'the slot refuses O_DIRECT: reading it back through the page cache');
  return verifier;
}

/** Reads [from, to) from the medium and checks every unit in it against its digest. */
export async function verifyUnits(
  reader: MediumReader,
  layout: { readonly unitBytes: number; readonly sizeBytes: number },
  from: number,
  to: number,
  expected: readonly UnitDigest[],
): Promise<void> {
  const first = from / layout.unitBytes;
  let index = first;
  let digest = new UnitDigester(expected[0]);
  let pos = from;
  for await (const piece of reader.read(from, to)) {
    for (let p = 0; p < piece.length; ) {
      const unitStart = index * layout.unitBytes;
      const unitEnd = Math.min(unitStart + layout.unitBytes, layout.sizeBytes);
      const n = Math.min(piece.length - p, unitEnd - pos);
      digest.update(piece.subarray(p, p + n));
      p += n;
      pos += n;
      if (pos === unitEnd) {
        const want = expected[index - first];
        if (want === undefined || !digest.matches(want)) {
          throw new InstallError(
            'EPAYLOAD',
            'readback-mismatch',
            `bytes ${unitStart}…${unitEnd} (unit ${index}) do not read back from the slot's medium as written`,
          );
        }
        index++;
        digest = new UnitDigester(want);
      }
    }
  }
  if (pos < to) {
    throw new InstallError('EPAYLOAD', 'readback-mismatch', `the slot's medium holds ${pos} of ${to} bytes`);
  }
}

/** One unit's running CRC-32 or SHA-256, whichever its expected digest is. */
class UnitDigester {
  readonly #hash: Hash | undefined;
  #crc = 0;

  constructor(kind: UnitDigest | undefined) {
    this.#hash = typeof kind === 'number' ? undefined : createHash('sha256');
  }

  update(data: Uint8Array): void {
    if (this.#hash) this.#hash.update(data);
    else this.#crc = crc32(data, this.#crc);
  }

  matches(want: UnitDigest): boolean {
    if (typeof want === 'number') return !this.#hash && this.#crc === want;
    return this.#hash !== undefined && Buffer.compare(this.#hash.digest(), want) === 0;
  }
}

/** What the worker is started with (`workerData`). */
export interface VerifyWorkerSetup {
  readonly file: string;
  readonly unitBytes: number;
  readonly sizeBytes: number;
}

export type VerifyWorkerRequest = {
  readonly from: number;
  readonly to: number;
  readonly expected: readonly UnitDigest[];
};
export type VerifyWorkerAnswer =
  | { readonly ok: true }
  | { readonly ok: false; readonly mismatch: boolean; readonly message: string };

class WorkerVerifier implements RangeVerifier {
  readonly #worker: Worker;
  #pending: { resolve(): void; reject(e: Error): void } | undefined;
  #failed: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (answer: VerifyWorkerAnswer) => {
      const pending = this.#pending;
      this.#pending = undefined;
      if (answer.ok) pending?.resolve();
      else
        pending?.reject(
          new InstallError(
            'EPAYLOAD',
            answer.mismatch ? 'readback-mismatch' : 'readback-failed',
            answer.message,
          ),
        );
    });
    const fail = (e: Error) => {
      this.#failed ??= e;
      this.#pending?.reject(e);
      this.#pending = undefined;
    };
    worker.on('error', (e) =>
      fail(new InstallError('ESLOT', 'readback-failed', `the read-back worker failed: ${errorMessage(e)}`)),
    );
    worker.on('exit', (code) =>
      fail(new InstallError('ESLOT', 'readback-failed', `the read-back worker exited (${code})`)),
    );
  }

  static start(entry: URL, o: MediumVerifierOptions): WorkerVerifier {
    const setup: VerifyWorkerSetup = { file: o.file, unitBytes: o.unitBytes, sizeBytes: o.sizeBytes };
    return new WorkerVerifier(new Worker(entry, { workerData: setup }));
  }

  verify(from: number, to: number, expected: readonly UnitDigest[]): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#worker.postMessage({ from, to, expected } satisfies VerifyWorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.#failed ??= new InstallError('ESLOT', 'readback-failed', 'the read-back worker was closed');
    await this.#worker.terminate();
  }
}
