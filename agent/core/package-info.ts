/**
 * The agent's own package: its version (for `--version`, status and attestation) and its install
 * root (where `boards/` and the example `wiring/` ship). Found by walking up from this module, so it
 * is the same from `agent/` under vitest and from `dist/agent/` in production.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
  readonly root: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'edge-agent') {
        cached = { name: pkg.name, version: pkg.version ?? '0.0.0', root: dir };
        return cached;
      }
    } catch {
      // not here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('edge-agent package.json not found above the agent module');
    dir = parent;
  }
}
