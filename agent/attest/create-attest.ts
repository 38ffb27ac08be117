/**
 * Builds attestation for the agent from its configuration: what is measured and in which order —
 * the running software first, then the effective configuration (`config`), then the board profile
 * (`board`). The running software is, in order of preference: `attest.measure.bundle` (a file or a
 * directory); else the booted slot of every OTA component (named after the component: `rootfs`,
 * `agent`), hashed where it lies (image file or block device as bytes, a `dir` slot as a tree); else the
 * directory the agent's own code runs from (`agent`). Registers the `attest` command. No I/O until the
 * returned `start()`.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandRegistry } from '../commands/registry.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { registerAttestCommand } from './attest-command.js';
import type { AttestConfig } from './attest-schema.js';
import { countBoot, LINUX_BOOT_ID } from './boot-count.js';
import { Attester, type MeasurementSource } from './evidence.js';
import type { Identity } from './identity.js';
import { measureFile, measureTree, measureValue } from './measure.js';
import { UpdateOutcome } from './update-outcome.js';

/** What attestation needs of the OTA manager (ota/ota-manager.ts). */
export interface OtaView {
  status(): Promise<{
    readonly components: readonly {
      readonly name: string;
      readonly booted: 'A' | 'B' | undefined;
      readonly slots: Readonly<Record<'A' | 'B', { readonly kind: string; readonly path: string }>>;
    }[];
  }>;
  on(
    event: 'report',
    listener: (report: { readonly state: string; readonly installId: string }) => void,
  ): unknown;
}

export interface CreateAttestDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly identity: Identity;
  readonly commands: CommandRegistry;
  readonly stateDir: string;
  /** The configuration file's directory (relative paths resolve against it). */
  readonly baseDir: string;
  readonly config: unknown;
  readonly attest: AttestConfig;
  readonly boardFile: string;
  readonly version: string;
  readonly ota?: OtaView | undefined;
  /** The OTA components' names (the `ota.components` keys), measured in this order. */
  readonly otaComponents: readonly string[];
  /** The kernel's boot id file (OTA's `bootInfo.bootId` when configured). */
  readonly bootIdFile?: string | undefined;
  /**
   * The directory the agent's code runs from (dist/agent/; agent/ under the test runner), measured
   * as `agent` when there is neither a bundle to measure nor an OTA component.
   */
  readonly codeDir: URL;
}

export function createAttest(deps: CreateAttestDeps): { readonly attester: Attester; start(): void } {
  const log = deps.log.child({ mod: 'attest' });
  const { ota } = deps;
  const outcome = ota ? new UpdateOutcome(path.join(deps.stateDir, 'identity')) : undefined;
  ota?.on('report', (r) => {
    if (r.state !== 'committed' && r.state !== 'rolled-back') return;
    outcome
      ?.record({ rolledBack: r.state === 'rolled-back', installId: r.installId })
      .catch((e: unknown) => log.warn({ err: String(e) }, 'attest: cannot record the update outcome'));
  });
  const software = softwareSources(deps);
  const attester = new Attester(
    {
      identity: deps.identity,
      clock: deps.clock,
      log,
      sources: [
        ...software,
        { name: 'config', measure: async () => measureValue(deps.config) },
        { name: 'board', measure: () => measureFile(deps.boardFile) },
      ],
      bootClaims: () =>
        countBoot(path.join(deps.stateDir, 'identity', 'boots.json'), deps.bootIdFile ?? LINUX_BOOT_ID),
      uptimeS: () => os.uptime(),
      ...(outcome ? { lastUpdateRolledBack: () => outcome.rolledBack() } : {}),
    },
    { swName: 'edge-agent', swVersion: deps.version },
  );
  registerAttestCommand(deps.commands, { attester, signer: deps.identity.signer });
  return { attester, start: () => attester.start() };
}

function softwareSources(deps: CreateAttestDeps): MeasurementSource[] {
  const bundle = deps.attest.measure.bundle;
  if (bundle !== undefined) {
    const target = path.resolve(deps.baseDir, bundle);
    return [{ name: 'agent', measure: () => measurePath(target) }];
  }
  const { ota } = deps;
  if (ota && deps.otaComponents.length > 0)
    return deps.otaComponents.map((name) => bootedSlotSource(ota, name));
  // The code this process runs.
  const codeDir = fileURLToPath(deps.codeDir);
  return [{ name: 'agent', measure: () => measureTree(codeDir) }];
}

/** The slot an OTA component booted from, hashed where it lies. */
function bootedSlotSource(ota: OtaView, name: string): MeasurementSource {
  return {
    name,
    measure: async () => {
      const c = (await ota.status()).components.find((x) => x.name === name);
      if (!c?.booted) throw new Error(`the booted slot of ${name} cannot be told`);
      return measurePath(c.slots[c.booted].path);
    },
  };
}

async function measurePath(target: string): Promise<Uint8Array> {
  return (await stat(target)).isDirectory() ? measureTree(target) : measureFile(target);
}
