/**
 * A minimal installer process for the device emulator: the agent's OTA manager and nothing else
 * (no buses, no loops), so power-loss trials restart in a few tens of milliseconds. It reads the
 * agent configuration's `ota:` section (with the `EDGE_AGENT_*` overrides the emulator sets), resumes
 * whatever the journal holds (trial boots included), optionally starts one install, and exits once
 * idle — or waits to be rebooted.
 *
 *   node dist/scripts/ota-emulator/installer-main.js --config FILE --board-id sim
 *        [--install PAYLOAD --manifest FILE.cose | --install-manifest FILE.cose] [--component NAME]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AGENT_CODE_DIR } from '../../agent/code-dir.js';
import { agentConfigSchema } from '../../agent/config/agent-schema.js';
import { applyEnvOverrides, findEnvOverrides } from '../../agent/config/env-overrides.js';
import { SystemClock } from '../../agent/core/clock.js';
import { errorMessage } from '../../agent/core/errors.js';
import { createLogger } from '../../agent/core/log.js';
import { createOta } from '../../agent/ota/create-ota.js';
import { minorGcHint } from '../../agent/ota/gc-hint.js';
import { otaSchema } from '../../agent/ota/ota-schema.js';
import { parseFlags } from '../bench/stats.js';

const flags = parseFlags(process.argv.slice(2));
const configFile = path.resolve(flags.get('config') ?? 'config/dev.yaml');
const log = createLogger({ pretty: false, destination: undefined, level: 'info' });

try {
  const { overrides, issues } = findEnvOverrides(agentConfigSchema, process.env);
  if (issues.length > 0) throw new Error(issues.map((i) => i.message).join('; '));
  const doc = applyEnvOverrides(parseYaml(await readFile(configFile, 'utf8')), overrides) as {
    stateDir?: string;
    ota?: unknown;
  };
  const baseDir = path.dirname(configFile);
  const ota = createOta(otaSchema.parse(doc.ota), {
    clock: new SystemClock(),
    log,
    stateDir: path.resolve(baseDir, doc.stateDir ?? 'state'),
    baseDir,
    board: flags.get('board-id') ?? 'sim',
    collectGarbage: minorGcHint(),
    codeDir: AGENT_CODE_DIR,
  });
  ota.on('report', (r) => log.info({ report: r }, 'ota report'));
  await ota.start();
  await ota.idle();
  const payload = flags.get('install');
  const manifestFile = flags.get('manifest') ?? flags.get('install-manifest');
  const status = await ota.status();
  if (manifestFile && !status.install && !status.rebootPending) {
    const result = await ota.install({
      manifest: new Uint8Array(await readFile(manifestFile)),
      file: payload,
      component: flags.get('component'),
    });
    log.info(
      { result: result.ok ? { ok: true, installId: result.installId } : result },
      'ota install request',
    );
    await ota.idle();
  }
  const after = await ota.status();
  log.info(
    { phase: after.install?.phase, rebootPending: after.rebootPending, lastError: after.lastError },
    'installer idle',
  );
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  if (!after.rebootPending) process.exit(after.lastError ? 1 : 0);
  // Wait for the reboot the emulator performs (as a real system would be taken down).
  setInterval(() => undefined, 1 << 30);
} catch (e) {
  log.fatal({ err: errorMessage(e) }, 'installer failed');
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  process.exit(1);
}
