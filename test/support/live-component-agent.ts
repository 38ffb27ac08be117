/**
 * The agent itself (buildAgent on the simulated board, real clock) with one live OTA component
 * (`kind: model | rules`, directory slots `models/a|b` or `rules/a|b`) trusted to a generated fleet
 * key, and signed tar bundles installed through the technician's `ota.install`: what the agent-level
 * tests of live components share.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { type Agent, buildAgent } from '../../agent/build-agent.js';
import { SystemClock } from '../../agent/core/clock.js';
import { generateKeyPair } from '../../agent/core/cose.js';
import { publicKeyToPem } from '../../agent/core/ed25519-keys.js';
import { silentLogger } from '../../agent/core/log.js';
import { digestFile } from '../../agent/ota/digest-file.js';
import { signManifest } from '../../agent/ota/manifest.js';
import type { OtaReport } from '../../agent/ota/report-queue.js';
import { simAgentConfigBase } from './agent-process.js';
import { loadRepoConfig } from './load-repo-config.js';

export const TECH = { via: 'test' as const, who: 'tech' };

export interface LiveComponentAgentOptions {
  readonly dir: string;
  readonly component: string;
  readonly kind: 'model' | 'rules';
  /** Writes what slot A holds at provisioning (the directory exists). */
  provision(slotA: string): Promise<void>;
  /** Further agent.yaml sections (an `inference:` reading the component, say). */
  readonly config?: Record<string, unknown>;
  readonly codeDir?: URL;
}

export interface LiveComponentAgent {
  readonly agent: Agent;
  /**
   * Signs a tar of the files `fill` writes into a fresh directory (and names) as the next version,
   * 1.<n>.0, installs it and resolves with the last report.
   */
  install(fill: (dir: string) => Promise<string[]>): Promise<OtaReport | undefined>;
}

export async function startLiveComponentAgent(o: LiveComponentAgentOptions): Promise<LiveComponentAgent> {
  const keys = generateKeyPair();
  await writeFile(path.join(o.dir, 'fleet.pub.pem'), publicKeyToPem(keys.publicKey));
  const base = o.kind === 'model' ? 'models' : 'rules';
  const slots = { A: `${base}/a`, B: `${base}/b` };
  await mkdir(path.join(o.dir, slots.A), { recursive: true });
  await o.provision(path.join(o.dir, slots.A));
  const configFile = path.join(o.dir, 'agent.yaml');
  await writeFile(
    configFile,
    JSON.stringify({
      ...simAgentConfigBase(),
      ...o.config,
      ota: {
        trust: { keys: ['fleet.pub.pem'] },
        components: {
          [o.component]: {
            kind: o.kind,
            slots: { kind: 'dir', ...slots },
            live: { goodOutputs: 3, deadlineMs: 15_000 },
          },
        },
      },
    }),
  );
  const loaded = await loadRepoConfig(configFile);
  const agent = await buildAgent(loaded, {
    clock: new SystemClock(),
    log: silentLogger(),
    codeDir: o.codeDir,
  });
  await agent.start();

  let seq = 0;
  const install = async (fill: (dir: string) => Promise<string[]>) => {
    seq += 1;
    const src = path.join(o.dir, `bundle-${seq}`);
    await mkdir(src);
    const files = await fill(src);
    const payload = path.join(o.dir, `state/ota/inbox/${o.component}-${seq}.tar`);
    await mkdir(path.dirname(payload), { recursive: true });
    await createTar({ file: payload, cwd: src, portable: true }, files.length > 0 ? files : ['.']);
    const digest = await digestFile(payload);
    const manifest = {
      v: 1 as const,
      component: o.component,
      version: `1.${seq}.0`,
      seq,
      hw: ['sim'],
      size: digest.sizeBytes,
      sha256: digest.sha256,
      format: 'tar' as const,
    };
    await writeFile(`${payload}.cose`, signManifest(manifest, [keys]));
    const accepted = await agent.commands.execute('ota.install', { file: payload }, TECH);
    if (!(accepted as { ok?: boolean }).ok)
      throw new Error(`ota.install refused: ${JSON.stringify(accepted)}`);
    await agent.ota!.idle();
    return (await agent.ota!.reports.pending()).at(-1);
  };
  return { agent, install };
}
