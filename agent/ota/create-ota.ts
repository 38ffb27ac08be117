/**
 * Builds the OTA manager from the `ota:` configuration: components with their slots and boot
 * backends, the trust root, health checks (the agent's own probes passed in by build-agent.ts plus the
 * configured link and command), and the reboot command. Does no I/O.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { parsePublicKeyPem } from '../core/ed25519-keys.js';
import type { Logger } from '../core/log.js';
import { fileBootSlotInfo } from './boot/boot-slot-info.js';
import { LiveSlotBackend } from './boot/live.js';
import { createBootBackend } from './boot/registry.js';
import type { HawkbitParts } from './hawkbit/create-hawkbit.js';
import {
  commandCheck,
  type HealthCheck,
  HealthMonitor,
  pointsGoodCheck,
  predicateCheck,
  tcpReachableCheck,
} from './health.js';
import { InstallError } from './install-errors.js';
import type { OtaComponent } from './installer.js';
import { LiveBinding } from './live-component.js';
import { liveSlotFile } from './live-slot-dir.js';
import { OtaManager } from './ota-manager.js';
import type { OtaConfig } from './ota-schema.js';
import { type RunCommand, runCommand } from './run-command.js';
import { loadTrust, type TrustRoot, trustFromKeys } from './trust.js';

export interface CreateOtaDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The agent's state directory; OTA state goes in `<stateDir>/ota`. */
  readonly stateDir: string;
  /** Directory relative configured paths are resolved against (the configuration file's). */
  readonly baseDir: string;
  readonly board: string;
  /** The agent's own health probes. */
  readonly probes?: {
    readonly pointQuality?: (name: string) => string | undefined;
    readonly loopsRunning?: () => boolean | string;
  };
  readonly run?: RunCommand;
  /** A minor-GC hint for downloads (gc-hint.ts); none by default. */
  readonly collectGarbage?: (() => void) | undefined;
  /** The built agent's directory (code-dir.ts), for the read-back worker; without it the read-back
   * hashes on the main thread. */
  readonly codeDir?: URL | undefined;
  /** With `ota.hawkbit`: its report mirror and how payloads on its server are downloaded. */
  readonly hawkbit?: Pick<HawkbitParts, 'reportMirror' | 'downloadOptions'> | undefined;
}

export function createOta(config: OtaConfig, deps: CreateOtaDeps): OtaManager {
  const resolve = (p: string) => path.resolve(deps.baseDir, p);
  const run = deps.run ?? runCommand;
  const stateDir = path.join(deps.stateDir, 'ota');
  const bootInfo = fileBootSlotInfo({
    cmdline: resolve(config.bootInfo.cmdline),
    bootId: resolve(config.bootInfo.bootId),
  });
  const components: OtaComponent[] = Object.entries(config.components).map(([name, c]) => {
    const slots = {
      A: { kind: c.slots.kind, path: resolve(c.slots.A), sizeBytes: c.slots.sizeBytes },
      B: { kind: c.slots.kind, path: resolve(c.slots.B), sizeBytes: c.slots.sizeBytes },
    };
    const componentState = path.join(stateDir, name);
    if (c.kind !== 'system') {
      return {
        name,
        slots,
        boot: new LiveSlotBackend({ file: liveSlotFile(deps.stateDir, name) }),
        live: new LiveBinding(c.kind, c.live ?? { goodOutputs: 3, deadlineMs: 120_000 }),
      };
    }
    // loadConfig fills an omitted `boot:` from the board profile; a caller that skips it must not.
    if (!c.boot) throw new TypeError(`ota.components.${name}.boot is missing: name a boot backend`);
    return {
      name,
      slots,
      boot: createBootBackend(c.boot, { bootInfo, resolve, stateDir: componentState, run }),
    };
  });

  const checks: HealthCheck[] = [];
  const h = config.health;
  if (h.points.length > 0 && deps.probes?.pointQuality)
    checks.push(pointsGoodCheck(h.points, deps.probes.pointQuality));
  if (h.loopsRunning && deps.probes?.loopsRunning)
    checks.push(predicateCheck('loops', deps.probes.loopsRunning));
  if (h.link) checks.push(tcpReachableCheck(h.link));
  if (h.command) checks.push(commandCheck(h.command, process.env, run));

  let trust: Promise<TrustRoot> | undefined;
  const loadTrustRoot = () => {
    trust ??= readTrust(config.trust, resolve).catch((e: unknown) => {
      trust = undefined; // a missing file may appear later (provisioning); do not cache the failure
      throw e;
    });
    return trust;
  };

  return new OtaManager({
    clock: deps.clock,
    log: deps.log,
    stateDir,
    board: deps.board,
    components,
    trust: loadTrustRoot,
    bootInfo,
    health: new HealthMonitor({
      clock: deps.clock,
      checks,
      deadlineMs: h.deadlineMs,
      pollMs: h.pollMs,
      soakMs: h.soakMs,
    }),
    settings: config.download,
    collectGarbage: deps.collectGarbage,
    codeDir: deps.codeDir,
    localInstallDirs: config.localInstallDirs?.map(resolve),
    reportMirrors: deps.hawkbit ? [deps.hawkbit.reportMirror] : undefined,
    downloadOptions: deps.hawkbit?.downloadOptions,
    reboot: async (args) => {
      const out = await run([...config.rebootCommand, ...args]);
      if (out.code !== 0) {
        throw new InstallError(
          'ESTATE',
          'reboot-failed',
          `${config.rebootCommand.join(' ')} exited with ${out.code}: ${out.stderr.trim()}`,
        );
      }
    },
  });
}

async function readTrust(trust: OtaConfig['trust'], resolve: (p: string) => string): Promise<TrustRoot> {
  if ('root' in trust) return loadTrust(resolve(trust.root));
  const keys = await Promise.all(
    trust.keys.map(async (file) => {
      const parsed = parsePublicKeyPem(new Uint8Array(await readFile(resolve(file))));
      if (!parsed.ok) throw new InstallError('ESTATE', 'bad-trust-key', `${file}: ${parsed.reason}`);
      return parsed.value;
    }),
  );
  return trustFromKeys(keys, trust.threshold);
}
