/**
 * `edge-agent manifest create`: describes a payload file (size, SHA-256 and per-chunk hashes, by
 * streaming it once) and signs the manifest with every `--key` — one key gives a COSE_Sign1, several a
 * COSE_Sign for threshold signing. `created` is set to now. Prints the manifest as JSON.
 *
 * Chunk hashes are made by default: with them a device checks every chunk before it reaches the slot
 * and resumes after the last chunk that verifies; without them it writes bytes it can only check once
 * the whole payload has arrived. The default chunk is 1 MiB, doubled until the payload needs no more
 * than the manifest's limit of chunks (at most 32 MiB, what a device takes); `--chunk` picks one,
 * `--no-chunk` leaves them out.
 */
import { stat } from 'node:fs/promises';
import { kidOf } from '../../core/ed25519-keys.js';
import { errorMessage } from '../../core/errors.js';
import { MAX_CHUNK_BYTES } from '../../ota/check-offer.js';
import { digestFile } from '../../ota/digest-file.js';
import { MANIFEST_LIMITS, type Manifest, signManifest } from '../../ota/manifest.js';
import { CliError, type CliIo, EXIT_USAGE, usageError } from '../shared/cli-io.js';
import { readPrivateKeyFile } from '../shared/key-files.js';
import { writeOutputFile } from '../shared/output-file.js';
import { parseByteCount, parseIsoSeconds, parseUint } from '../shared/parse-args.js';
import { manifestJson } from './manifest-json.js';

export interface ManifestCreateOptions {
  readonly component: string;
  readonly version: string;
  readonly seq: string;
  readonly hw?: string[];
  readonly payload: string;
  readonly url?: string;
  readonly expires?: string;
  readonly format?: string;
  /** A size (`1M`), or false for `--no-chunk`; absent: the default. */
  readonly chunk?: string | false;
  readonly key?: string[];
  readonly output: string;
}

export async function manifestCreateCommand(opts: ManifestCreateOptions, io: CliIo): Promise<void> {
  const seq = parseUint('--seq', opts.seq);
  const hw = opts.hw ?? [];
  const keyFiles = opts.key ?? [];
  const format = opts.format ?? 'raw';
  if (format !== 'raw' && format !== 'tar') throw usageError(`--format must be raw or tar, got "${format}"`);
  const expires = opts.expires === undefined ? undefined : parseIsoSeconds('--expires', opts.expires);
  const givenChunk = typeof opts.chunk === 'string' ? parseByteCount('--chunk', opts.chunk) : undefined;
  if (keyFiles.length === 0) throw usageError('at least one --key is required');
  if (hw.length === 0) throw usageError('at least one --hw is required');
  const keys = await Promise.all(keyFiles.map(readPrivateKeyFile));

  let sizeBytes: number;
  try {
    const st = await stat(opts.payload);
    if (!st.isFile()) throw new Error('not a regular file');
    sizeBytes = st.size;
  } catch (e) {
    throw new CliError(EXIT_USAGE, `${opts.payload}: cannot read payload: ${errorMessage(e)}`);
  }
  const chunk = opts.chunk === false ? undefined : (givenChunk ?? defaultChunkBytes(sizeBytes));
  if (chunk !== undefined && Math.ceil(sizeBytes / chunk) > MANIFEST_LIMITS.maxChunks) {
    if (givenChunk === undefined) {
      throw usageError(
        `the payload needs more than ${MANIFEST_LIMITS.maxChunks} chunks of ${MAX_CHUNK_BYTES} bytes; use --no-chunk`,
      );
    }
    throw usageError(
      `--chunk ${chunk} makes more than ${MANIFEST_LIMITS.maxChunks} chunks; choose a larger one`,
    );
  }
  const digest = await digestFile(opts.payload, chunk).catch((e: unknown) => {
    throw new CliError(EXIT_USAGE, `${opts.payload}: cannot read payload: ${errorMessage(e)}`);
  });

  const manifest: Manifest = {
    v: 1,
    component: opts.component,
    version: opts.version,
    seq,
    hw,
    size: digest.sizeBytes,
    sha256: digest.sha256,
    format,
    created: Math.floor(io.nowMs() / 1000),
  };
  if (opts.url !== undefined) manifest.url = opts.url;
  if (expires !== undefined) manifest.expires = expires;
  if (chunk !== undefined) {
    manifest.chunk = chunk;
    manifest.chunks = digest.chunks ?? [];
  }
  let signed: Uint8Array;
  try {
    signed = signManifest(manifest, keys);
  } catch (e) {
    // encodeManifest names the offending field (component pattern, url scheme, empty payload, …).
    if (e instanceof TypeError) throw usageError(e.message);
    throw e;
  }
  await writeOutputFile(opts.output, signed);
  io.out(
    `${JSON.stringify(
      manifestJson(
        manifest,
        keys.map((k) => kidOf(k.publicKey)),
      ),
    )}\n`,
  );
}

/** 1 MiB, doubled until `sizeBytes` fits in the manifest's chunk limit, at most what devices take. */
export function defaultChunkBytes(sizeBytes: number): number {
  let chunk = 1 << 20;
  while (chunk < MAX_CHUNK_BYTES && Math.ceil(sizeBytes / chunk) > MANIFEST_LIMITS.maxChunks) chunk *= 2;
  return chunk;
}
