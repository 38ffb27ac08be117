/**
 * How the service unit runs the agent — the node options of its ExecStart and its `Environment=`
 * settings — so that benches measure the agent as a device runs it, not as a bare `node` would.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../scripts/edge-agent.service',
);

export interface UnitRuntime {
  /** The options between `node` and the script, e.g. `--jitless`. */
  readonly nodeArgs: string[];
  readonly env: Record<string, string>;
}

export async function unitRuntime(): Promise<UnitRuntime> {
  const unit = await readFile(UNIT, 'utf8');
  const exec = /^ExecStart=\S*node((?: --\S+)*) \S+main\.js run$/m.exec(unit);
  if (!exec) throw new Error(`${UNIT}: no \`ExecStart=… node [options] …main.js run\` line`);
  const env: Record<string, string> = {};
  // Values without spaces or quotes, as ours are.
  for (const line of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const pair of line[1]!.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return { nodeArgs: exec[1]!.split(' ').filter(Boolean), env };
}
