/**
 * Configuration mistakes in the control section, the way a technician meets them: a temp agent.yaml on
 * the simulated board, loaded and built as `edge-agent run` does. Every issue must name the file, the
 * line and the field, in one ConfigError.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAgent } from '../../../agent/build-agent.js';
import { ConfigError } from '../../../agent/core/errors.js';
import { silentLogger } from '../../../agent/core/log.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { FakeClock } from '../../support/fake-clock.js';
import { loadRepoConfig } from '../../support/load-repo-config.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs();
const SIM_BOARD = path.join(REPO_ROOT, 'boards/sim.yaml');
const SIM_WIRING = path.join(REPO_ROOT, 'wiring/chamber-kit-sim.yaml');

/** Input and output swapped, and two rules that set each other's inputs. */
const CONFIG = `board: ${SIM_BOARD}
wiring: ${SIM_WIRING}
stateDir: state
loops:
  - name: chamber
    input: heater.state
    output: chamber.temp
    setpoint: 45
    periodMs: 1000
    tunings: { kp: 0.2, ki: 0.002, kd: 1.0 }
    timeProportioning: { windowMs: 10000 }
rules:
  - name: fan-follows-heater
    when: { point: heater.state, is: true }
    actions:
      - set: { point: fan.state, value: false }
  - name: heater-follows-fan
    when: { point: fan.state, is: false }
    actions:
      - set: { point: heater.state, value: false }
`;

/** 1-based line of the first line of `text` that contains `fragment`. */
function lineOf(text: string, fragment: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(fragment));
  if (index === -1) throw new Error(`no line contains ${fragment}`);
  return index + 1;
}

describe('buildAgent with a faulty control section', () => {
  it('reports a loop driving a sensor and a rule cycle, each with its file, line and path', async () => {
    const file = path.join(await tempDir(), 'agent.yaml');
    await writeFile(file, CONFIG);
    const loaded = await loadRepoConfig(file);
    let error: unknown;
    try {
      await buildAgent(loaded, { clock: new FakeClock(), log: silentLogger() });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const outputLine = lineOf(CONFIG, 'output: chamber.temp');
    const setLine = lineOf(CONFIG, 'set: { point: fan.state');
    expect([outputLine, setLine]).toEqual([7, 16]); // the fields, not their list items
    expect((error as ConfigError).message).toBe(
      [
        `${file}:${outputLine}: loops.0.output: loop chamber: point chamber.temp is not writable (not an actuator)`,
        `${file}:${setLine}: rules.0.actions.0.set.point: rule "fan-follows-heater" is in a cycle of rules ` +
          "writing each other's inputs: fan-follows-heater → fan.state → heater-follows-fan → heater.state → " +
          'fan-follows-heater',
      ].join('\n'),
    );
  });
});
