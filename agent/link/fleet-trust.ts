/**
 * The keys fleet commands must be signed by: `fleet.trust`, else `ota.trust` — a self-signed trust root
 * (ota/trust.ts; any one of its keys signs a command: the root's threshold guards updates and root
 * rotation, which still need it) or public key files with their own threshold. Loaded on first use and
 * kept; a failure is not kept, so a root provisioned after start is picked up by the next command.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parsePublicKeyPem } from '../core/ed25519-keys.js';
import { loadTrust } from '../ota/trust.js';

export type TrustSpec =
  | { readonly root: string }
  | { readonly keys: readonly string[]; readonly threshold: number };

export interface CommandTrust {
  readonly keys: readonly Uint8Array[];
  readonly threshold: number;
}

/** A cached loader for `spec`, with paths relative to `baseDir`. */
export function fleetTrustLoader(spec: TrustSpec, baseDir: string): () => Promise<CommandTrust> {
  let cached: Promise<CommandTrust> | undefined;
  return () => {
    cached ??= load(spec, baseDir).catch((e: unknown) => {
      cached = undefined;
      throw e;
    });
    return cached;
  };
}

async function load(spec: TrustSpec, baseDir: string): Promise<CommandTrust> {
  if ('root' in spec) {
    const root = await loadTrust(path.resolve(baseDir, spec.root));
    return { keys: root.keys, threshold: 1 };
  }
  const keys = await Promise.all(
    spec.keys.map(async (file) => {
      const parsed = parsePublicKeyPem(new Uint8Array(await readFile(path.resolve(baseDir, file))));
      if (!parsed.ok) throw new Error(`${file}: ${parsed.reason}`);
      return parsed.value;
    }),
  );
  if (spec.threshold > keys.length)
    throw new Error(`fleet trust threshold ${spec.threshold} exceeds its ${keys.length} keys`);
  return { keys, threshold: spec.threshold };
}
