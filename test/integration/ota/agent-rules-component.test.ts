/**
 * The agent itself (buildAgent on the simulated board, real clock) taking rule sets from the fleet as
 * a `kind: rules` component: the provisioned set runs from the start, a signed update is switched live
 * and committed without a reboot, and a set with a mistake is rolled back with its line while the
 * running set goes on — all through the technician's commands (`ota.install`, `ota.status`, `rules`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { type Agent, buildAgent } from '../../../agent/build-agent.js';
import { loadConfig } from '../../../agent/config/load-config.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { generateKeyPair } from '../../../agent/core/cose.js';
import { publicKeyToPem } from '../../../agent/core/ed25519-keys.js';
import { hostPaths } from '../../../agent/core/host-paths.js';
import { silentLogger } from '../../../agent/core/log.js';
import { DRIVERS } from '../../../agent/hal/drivers/registry.js';
import { digestFile } from '../../../agent/ota/digest-file.js';
import { signManifest } from '../../../agent/ota/manifest.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-rules-agent-');
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const as = { via: 'test' as const, who: 'tech' };

const ruleSet = (name: string, above: number) => `rules:
  - name: ${name}
    when: { point: chamber.temp, above: ${above} }
    actions:
      - alarm: { severity: warning, message: "${name}" }
`;

describe('rule sets from the fleet on the agent', () => {
  it('runs the provisioned set, switches a signed update live and rolls back a broken one', async () => {
    const dir = await newDir();
    const keys = generateKeyPair();
    await writeFile(path.join(dir, 'fleet.pub.pem'), publicKeyToPem(keys.publicKey));
    await mkdir(path.join(dir, 'rules/a'), { recursive: true });
    await writeFile(path.join(dir, 'rules/a/rules.yaml'), ruleSet('site.factory', -100));
    const configFile = path.join(dir, 'agent.yaml');
    await writeFile(
      configFile,
      JSON.stringify({
        version: 1,
        board: path.join(REPO_ROOT, 'boards/sim.yaml'),
        wiring: path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml'),
        stateDir: 'state',
        log: { level: 'silent' },
        console: { socket: { enabled: false } },
        ota: {
          trust: { keys: ['fleet.pub.pem'] },
          components: {
            'site-rules': {
              kind: 'rules',
              slots: { kind: 'dir', A: 'rules/a', B: 'rules/b' },
              live: { goodOutputs: 3, deadlineMs: 10_000 },
            },
          },
        },
      }),
    );
    const loaded = await loadConfig({
      configFile,
      env: {},
      paths: hostPaths({}),
      drivers: DRIVERS,
      boardsDir: path.join(REPO_ROOT, 'boards'),
    });
    const a = await buildAgent(loaded, { clock: new SystemClock(), log: silentLogger() });
    agent = a;
    await a.start();
    const ruleNames = async () =>
      ((await a.commands.execute('rules', {}, as)) as { result: { name: string }[] }).result.map(
        (r) => r.name,
      );
    expect(await ruleNames()).toContain('site.factory');

    let seq = 0;
    const install = async (yaml: string) => {
      seq += 1;
      const src = path.join(dir, `bundle-${seq}`);
      await mkdir(src);
      await writeFile(path.join(src, 'rules.yaml'), yaml);
      const payload = path.join(dir, `state/ota/inbox/rules-${seq}.tar`);
      await createTar({ file: payload, cwd: src, portable: true }, ['rules.yaml']);
      const digest = await digestFile(payload);
      const manifest = {
        v: 1 as const,
        component: 'site-rules',
        version: `1.${seq}.0`,
        seq,
        hw: ['sim'],
        size: digest.sizeBytes,
        sha256: digest.sha256,
        format: 'tar' as const,
      };
      await writeFile(`${payload}.cose`, signManifest(manifest, [keys]));
      expect(await a.commands.execute('ota.install', { file: payload }, as)).toMatchObject({ ok: true });
      await a.ota!.idle();
      return (await a.ota!.reports.pending()).at(-1);
    };

    expect(await install(ruleSet('site.warm', 30))).toMatchObject({ state: 'committed', version: '1.1.0' });
    expect(await ruleNames()).toEqual(expect.arrayContaining(['site.warm']));
    expect(await ruleNames()).not.toContain('site.factory');
    const status = (await a.commands.execute('ota.status', {}, as)) as {
      result: { rebootPending: boolean; components: { name: string; booted?: string }[] };
    };
    expect(status.result.rebootPending).toBe(false);

    const broken = await install(`rules:
  - name: site.cold
    when: { point: chamber.tmp, below: 10 }
    actions:
      - alarm: { severity: warning, message: "cold" }
`);
    expect(broken).toMatchObject({ state: 'rolled-back', reason: 'invalid', version: '1.2.0' });
    expect(broken?.message).toMatch(
      /rules\.yaml:3: rules\.0\.when\.point: rules component site-rules: .*chamber\.tmp/,
    );
    expect(await ruleNames()).toContain('site.warm');
  });
});
