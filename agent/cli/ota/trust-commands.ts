/**
 * `edge-agent trust create` and `edge-agent trust rotate`: make the first, self-signed trust root, and
 * its successors. Each command verifies what it made with the device's own rule before writing it
 * (`verifyTrustRoot` for a first root, `verifyRootRotation` for a successor), so a root that devices
 * would refuse — too few signatures of the old or of the new keys — is never written.
 */
import { errorMessage } from '../../core/errors.js';
import { isTrustError } from '../../ota/errors.js';
import {
  loadTrust,
  signTrustRoot,
  type TrustRoot,
  trustFromKeys,
  verifyRootRotation,
  verifyTrustRoot,
} from '../../ota/trust.js';
import { CliError, type CliIo, EXIT_FAILED, EXIT_USAGE, usageError } from '../shared/cli-io.js';
import { readPrivateKeyFile, readPublicKeyFile } from '../shared/key-files.js';
import { writeOutputFile } from '../shared/output-file.js';
import { parseIsoSeconds, parseUint } from '../shared/parse-args.js';
import { hex } from './manifest-json.js';

export interface TrustCreateOptions {
  readonly threshold: string;
  readonly key?: string[];
  readonly sign?: string[];
  readonly version?: string;
  readonly expires?: string;
  readonly output: string;
}

export async function trustCreateCommand(opts: TrustCreateOptions, io: CliIo): Promise<void> {
  if (!opts.key?.length) throw usageError('at least one --key is required');
  if (!opts.sign?.length) throw usageError('at least one --sign is required');
  const root = buildRoot(
    await Promise.all(opts.key.map(readPublicKeyFile)),
    parseUint('--threshold', opts.threshold),
    opts.version === undefined ? 1 : parseUint('--version', opts.version),
    opts.expires,
  );
  const signers = await Promise.all(opts.sign.map(readPrivateKeyFile));
  const bytes = signTrustRoot(root, signers);
  const check = verifyTrustRoot(bytes);
  if (!check.ok) throw usageError(`the --sign keys do not make a valid root: ${check.reason}`);
  await writeOutputFile(opts.output, bytes);
  io.out(`${JSON.stringify(rootJson(root))}\n`);
}

export interface TrustRotateOptions {
  readonly old: string;
  readonly newKey?: string[];
  readonly threshold?: string;
  readonly sign?: string[];
  readonly version?: string;
  readonly expires?: string;
  readonly output: string;
}

export async function trustRotateCommand(opts: TrustRotateOptions, io: CliIo): Promise<void> {
  if (!opts.newKey?.length) throw usageError('at least one --new-key is required');
  if (!opts.sign?.length) throw usageError('at least one --sign is required');
  const current = await loadCurrent(opts.old);
  const root = buildRoot(
    await Promise.all(opts.newKey.map(readPublicKeyFile)),
    opts.threshold === undefined ? current.threshold : parseUint('--threshold', opts.threshold),
    opts.version === undefined ? current.version + 1 : parseUint('--version', opts.version),
    opts.expires,
  );
  const signers = await Promise.all(opts.sign.map(readPrivateKeyFile));
  const bytes = signTrustRoot(root, signers);
  const check = verifyRootRotation(current, bytes);
  if (!check.ok) throw usageError(`devices would refuse this rotation (${check.code}): ${check.reason}`);
  await writeOutputFile(opts.output, bytes);
  io.out(`${JSON.stringify(rootJson(root))}\n`);
}

function buildRoot(
  keys: Uint8Array[],
  threshold: number,
  version: number,
  expires: string | undefined,
): TrustRoot {
  try {
    return trustFromKeys(keys, threshold, {
      version,
      ...(expires !== undefined ? { expires: parseIsoSeconds('--expires', expires) } : {}),
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw usageError(errorMessage(e));
  }
}

async function loadCurrent(file: string): Promise<TrustRoot> {
  try {
    return await loadTrust(file);
  } catch (e) {
    if (isTrustError(e)) throw new CliError(e.code === 'ETRUST_READ' ? EXIT_USAGE : EXIT_FAILED, e.message);
    throw e;
  }
}

function rootJson(root: TrustRoot): Record<string, unknown> {
  return {
    v: root.v,
    version: root.version,
    threshold: root.threshold,
    keys: root.keys.map(hex),
    ...(root.expires !== undefined ? { expires: root.expires } : {}),
  };
}
