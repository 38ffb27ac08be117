/**
 * The system tools the tests run as real parts (a broker, ptys, the U-Boot environment tools, a
 * software TPM …), found the way a shell finds them, and named with their Debian package when absent.
 * The tool → package list is `scripts/system-packages.txt`, the same one `scripts/setup.sh` installs
 * from. A suite that needs tools is declared with `describeWithTools`: on a machine without them it is
 * one failing test whose message says what to install — it never skips, and never counts as passed.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const PACKAGE_LIST = fileURLToPath(new URL('../../scripts/system-packages.txt', import.meta.url));

/** mosquitto and friends live in sbin, which a normal user's PATH may leave out. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export class MissingToolError extends Error {
  readonly tool: string;
  readonly packages: readonly string[];
  constructor(tool: string, packages: readonly string[]) {
    super(`${tool} not found: apt-get install ${packages.join(' ')}, or run scripts/setup.sh`);
    this.name = 'MissingToolError';
    this.tool = tool;
    this.packages = packages;
  }
}

/** `command → Debian packages`, read from scripts/system-packages.txt. */
export function systemPackages(file = PACKAGE_LIST): ReadonlyMap<string, readonly string[]> {
  const table = new Map<string, readonly string[]>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const [tool, ...packages] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (tool && packages.length > 0) table.set(tool, packages);
  }
  return table;
}

/** The directories searched for a tool: `PATH`, then the sbin directories. */
export function searchPath(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const fromPath = (env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  return [...fromPath, ...SBIN_DIRS.filter((dir) => !fromPath.includes(dir))];
}

/** The absolute path of an executable `tool` in `dirs`, or undefined. */
export function findTool(tool: string, dirs: readonly string[] = searchPath()): string | undefined {
  for (const dir of dirs) {
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Throws a `MissingToolError` for the first of `tools` that is not installed. A tool missing from
 * scripts/system-packages.txt is a mistake in the test, and throws a `TypeError`.
 */
export function requireTools(tools: readonly string[], dirs: readonly string[] = searchPath()): void {
  const table = systemPackages();
  for (const tool of tools) {
    const packages = table.get(tool);
    if (!packages) throw new TypeError(`tools: ${tool} is not listed in scripts/system-packages.txt`);
    if (!findTool(tool, dirs)) throw new MissingToolError(tool, packages);
  }
}

/** The path of `tool`; throws a `MissingToolError` naming its package when it is not installed. */
export function toolPath(tool: string): string {
  requireTools([tool]);
  return findTool(tool) as string;
}

/**
 * `describe(title, body)` when every one of `tools` is installed. Otherwise the suite's body (and so
 * its hooks, which would start the missing tool) is not declared; one test in its place fails with
 * the `MissingToolError` message, e.g. `mosquitto not found: apt-get install mosquitto …`.
 */
export function describeWithTools(tools: readonly string[], title: string, body: () => void): void {
  try {
    requireTools(tools);
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
    describe(title, () => {
      it(`needs ${tools.join(', ')}`, () => {
        throw error;
      });
    });
    return;
  }
  describe(title, body);
}
