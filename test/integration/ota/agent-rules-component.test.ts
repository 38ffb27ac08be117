/**
 * The agent itself (buildAgent on the simulated board, real clock) taking rule sets from the fleet as
 * a `kind: rules` component: the provisioned set runs from the start, a signed update is switched live
 * and committed without a reboot, and a set with a mistake is rolled back with its line while the
 * running set goes on — all through the technician's commands (`ota.install`, `ota.status`, `rules`).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from '../../../agent/build-agent.js';
import { TECH as as, startLiveComponentAgent } from '../../support/live-component-agent.js';
import { tempDirs } from '../../support/temp-dir.js';

const newDir = tempDirs('ota-rules-agent-');
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

const ruleSet = (name: string, above: number) => `rules:
  - name: ${name}
    when: { point: chamber.temp, above: ${above} }
    actions:
      - alarm: { severity: warning, message: "${name}" }
`;

describe('rule sets from the fleet on the agent', () => {
  it('runs the provisioned set, switches a signed update live and rolls back a broken one', async () => {
    const { agent: a, install: installFiles } = await startLiveComponentAgent({
      dir: await newDir(),
      component: 'site-rules',
      kind: 'rules',
      provision: (slotA) => writeFile(path.join(slotA, 'rules.yaml'), ruleSet('site.factory', -100)),
    });
    agent = a;
    const ruleNames = async () =>
      ((await a.commands.execute('rules', {}, as)) as { result: { name: string }[] }).result.map(
        (r) => r.name,
      );
    expect(await ruleNames()).toContain('site.factory');

    const install = (yaml: string) =>
      installFiles(async (dir) => {
        await writeFile(path.join(dir, 'rules.yaml'), yaml);
        return ['rules.yaml'];
      });

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
