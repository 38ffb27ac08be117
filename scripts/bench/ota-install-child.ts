/**
 * The device side of the `ota` benchmark: one process that builds the OTA manager from a config,
 * resumes whatever its journal holds, optionally installs one update, and prints one JSON line with
 * the time from the install request (signature check included) to the trial being armed (boot
 * environment switched) and its peak RSS (VmHWM). Exits when idle.
 *   node dist/scripts/bench/ota-install-child.js --config FILE [--manifest FILE.cose [--payload FILE]]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AGENT_CODE_DIR } from '../../agent/code-dir.js';
import { SystemClock } from '../../agent/core/clock.js';
import { silentLogger } from '../../agent/core/log.js';
import { createOta } from '../../agent/ota/create-ota.js';
import { minorGcHint } from '../../agent/ota/gc-hint.js';
import { otaSchema } from '../../agent/ota/ota-schema.js';
import { parseFlags } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const configFile = path.resolve(flags.get('config') ?? '');
const doc = parseYaml(await readFile(configFile, 'utf8')) as { stateDir: string; ota: unknown };
const baseDir = path.dirname(configFile);
const ota = createOta(otaSchema.parse(doc.ota), {
  clock: new SystemClock(),
  log: silentLogger(),
  stateDir: path.resolve(baseDir, doc.stateDir),
  baseDir,
  board: 'sim',
  collectGarbage: minorGcHint(),
  codeDir: AGENT_CODE_DIR,
});
await ota.start();
await ota.idle();
const manifest = flags.get('manifest');
let installMs: number | undefined;
let result: unknown;
if (manifest && !(await ota.status()).install) {
  const bytes = new Uint8Array(await readFile(manifest));
  const t0 = performance.now();
  const r = await ota.install({ manifest: bytes, file: flags.get('payload') });
  await ota.idle();
  installMs = performance.now() - t0;
  result = r.ok ? 'accepted' : r;
}
const status = await ota.status();
const vmHwmKb = Number(/VmHWM:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN);
process.stdout.write(
  `${JSON.stringify({ installMs, result, phase: status.install?.phase, lastError: status.lastError, peakRssMb: vmHwmKb / 1024, memory: process.memoryUsage() })}\n`,
);
process.exit(0);
