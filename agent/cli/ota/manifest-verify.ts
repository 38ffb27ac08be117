/**
 * `edge-agent manifest verify FILE (--key PUB.pem… [--threshold N] | --trust root.cose)
 * [--board B] [--component C]`: checks structure, signatures and schema, the trust root's and the
 * manifest's expiry against the wall clock, and — when named — the board and component. Prints the
 * fields as JSON and succeeds, or prints the reason code and message and exits 1.
 */
import { readFile, stat } from 'node:fs/promises';
import { errorMessage } from '../../core/errors.js';
import { isTrustError } from '../../ota/errors.js';
import { checkManifest, MANIFEST_LIMITS, verifySignedManifest } from '../../ota/manifest.js';
import { loadTrust, type TrustRoot, trustFromKeys } from '../../ota/trust.js';
import { CliError, type CliIo, EXIT_FAILED, EXIT_USAGE, usageError } from '../shared/cli-io.js';
import { readPublicKeyFile } from '../shared/key-files.js';
import { parseUint } from '../shared/parse-args.js';
import { manifestJson } from './manifest-json.js';

export interface ManifestVerifyOptions {
  readonly key?: string[];
  readonly threshold?: string;
  readonly trust?: string;
  readonly board?: string;
  readonly component?: string;
}

export async function manifestVerifyCommand(
  file: string,
  opts: ManifestVerifyOptions,
  io: CliIo,
): Promise<void> {
  const trust = await trustFromOptions(opts);
  const bytes = await readManifestFile(file);
  const signed = verifySignedManifest(bytes, trust);
  if (!signed.ok) throw rejected(file, signed);
  const failure = checkManifest(signed.manifest, {
    trust,
    nowMs: io.nowMs(),
    ...(opts.board !== undefined ? { board: opts.board } : {}),
    ...(opts.component !== undefined ? { component: opts.component } : {}),
  });
  if (failure !== undefined) throw rejected(file, failure);
  io.out(`${JSON.stringify(manifestJson(signed.manifest, signed.kids))}\n`);
}

function rejected(file: string, f: { code: string; reason: string }): CliError {
  return new CliError(EXIT_FAILED, `${file}: rejected (${f.code}): ${f.reason}`);
}

async function trustFromOptions(opts: ManifestVerifyOptions): Promise<TrustRoot> {
  const keyFiles = opts.key ?? [];
  const byKeys = keyFiles.length > 0;
  if (byKeys === (opts.trust !== undefined)) {
    throw usageError('give either --key (one or more public keys) or --trust ROOT, not both or neither');
  }
  if (opts.trust !== undefined) {
    if (opts.threshold !== undefined)
      throw usageError('--threshold goes with --key; a trust root has its own');
    try {
      return await loadTrust(opts.trust);
    } catch (e) {
      if (isTrustError(e)) throw new CliError(e.code === 'ETRUST_READ' ? EXIT_USAGE : EXIT_FAILED, e.message);
      throw e;
    }
  }
  const keys = await Promise.all(keyFiles.map(readPublicKeyFile));
  const threshold = opts.threshold === undefined ? 1 : parseUint('--threshold', opts.threshold);
  try {
    return trustFromKeys(keys, threshold);
  } catch (e) {
    throw usageError(errorMessage(e));
  }
}

async function readManifestFile(file: string): Promise<Uint8Array> {
  try {
    const st = await stat(file);
    // Larger than any valid manifest: still a verification failure, but without reading it all.
    if (st.size > MANIFEST_LIMITS.maxBytes + 4096) {
      throw new CliError(
        EXIT_FAILED,
        `${file}: rejected (bad-cose): ${st.size} bytes is larger than any manifest`,
      );
    }
    return new Uint8Array(await readFile(file));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT_USAGE, `${file}: cannot read manifest: ${errorMessage(e)}`);
  }
}
