/**
 * The read-back of a raw slot from its medium: the chunks of a synced range read again with O_DIRECT
 * and each chunk's SHA-256 compared with the manifest's. `openMediumVerifier` runs it in a worker
 * thread when the built worker is in the given code directory (the hashing then takes the second
 * core, not the main thread that hashes what arrives), else on the calling thread (agent/ under
 * vitest holds no built worker); it resolves undefined where the slot's filesystem refuses O_DIRECT,
 * and the caller reads back through the page cache instead.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../core/errors.js';
import { InstallError } from '../install-errors.js';
import { MediumReader } from './medium-reader.js';

export interface ChunkDigests {
  readonly sizeBytes: number;
  readonly sha256: readonly Uint8Array[];
}

/** Verifies ranges of the slot, one at a time, in order. */
export interface RangeVerifier {
  /** `from` is a chunk boundary; `to` one too, or the size. Rejects with `readback-mismatch`. */
  verify(from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

export interface MediumVerifierOptions {
  readonly file: string;
  readonly chunk: ChunkDigests;
  readonly sizeBytes: number;
  /** The built agent's directory (code-dir.ts): with it the hashing runs in a worker thread. */
  readonly codeDir?: URL | undefined;
}

export async function openMediumVerifier(o: MediumVerifierOptions): Promise<RangeVerifier | undefined> {
  const reader = await MediumReader.open(o.file);
  if (!reader) return undefined;
  const inline = (): RangeVerifier => ({
    verify: (from, to) => verifyChunks(reader, o.chunk, from, to, o.sizeBytes),
    close: () => reader.close(),
  });
  if (!o.codeDir) return inline();
  const entry = new URL('ota/slots/medium-verify-worker.js', o.codeDir);
  if (!existsSync(entry)) return inline();
  await reader.close();
  return WorkerVerifier.start(entry, o);
}

/** Reads [from, to) from the medium and checks every chunk in it against its digest. */
export async function verifyChunks(
  reader: MediumReader,
  chunk: ChunkDigests,
  from: number,
  to: number,
  size: number,
): Promise<void> {
  let index = from / chunk.sizeBytes;
  let hash = createHash('sha256');
  let pos = from;
  for await (const piece of reader.read(from, to)) {
    for (let p = 0; p < piece.length; ) {
      const chunkEnd = Math.min((index + 1) * chunk.sizeBytes, size);
      const n = Math.min(piece.length - p, chunkEnd - pos);
      hash.update(piece.subarray(p, p + n));
      p += n;
      pos += n;
      if (pos === chunkEnd) {
        const expected = chunk.sha256[index];
        if (!expected || !hash.digest().equals(expected)) {
          throw new InstallError(
            'EPAYLOAD',
            'readback-mismatch',
            `chunk ${index} does not read back from the slot's medium as written`,
          );
        }
        index++;
        hash = createHash('sha256');
      }
    }
  }
  if (pos < to) {
    throw new InstallError('EPAYLOAD', 'readback-mismatch', `the slot's medium holds ${pos} of ${to} bytes`);
  }
}

/** What the worker is started with (`workerData`). */
export interface VerifyWorkerSetup {
  readonly file: string;
  readonly chunk: ChunkDigests;
  readonly sizeBytes: number;
}

export type VerifyWorkerRequest = { readonly from: number; readonly to: number };
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
    const setup: VerifyWorkerSetup = { file: o.file, chunk: o.chunk, sizeBytes: o.sizeBytes };
    return new WorkerVerifier(new Worker(entry, { workerData: setup }));
  }

  verify(from: number, to: number): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<void>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#worker.postMessage({ from, to } satisfies VerifyWorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.#failed ??= new InstallError('ESLOT', 'readback-failed', 'the read-back worker was closed');
    await this.#worker.terminate();
  }
}
