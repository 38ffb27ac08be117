/**
 * An agent on a Pi must not load simulation code: the simulated buses, the world, and the simulated
 * chips and sensors in the drivers' folders are imported only through `import()` on the
 * `backend: sim` branch. Checked over the sources: from agent/main.ts, follow every import a real
 * board may execute — static ones, and `import()`s of anything that is not simulation code (the rest
 * of the agent, loaded after the local part) — and find no simulation module. The `import()`s that
 * do lead into simulation code are the doors of the sim branch, listed here so a new one is a
 * decision, not an accident.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/agent-process.js';
import { importsOf, reachable } from '../../support/module-graph.js';

const agent = (rel: string) => path.join(REPO_ROOT, 'agent', rel);
const rel = (file: string) => path.relative(REPO_ROOT, file);
const MAIN = agent('main.ts');
/** The schema of a profile's `sim:` section: configuration, validated by the loader for any board. */
const WORLD_SCHEMA = agent('hal/sim/world-schema.ts');

/** Simulation code: anything in hal/sim/ (but its config schema), and every `sim.ts` / `sim-*.ts`. */
function isSim(file: string): boolean {
  if (file === WORLD_SCHEMA) return false;
  return file.startsWith(agent('hal/sim/')) || /^sim(-.+)?\.ts$/.test(path.basename(file));
}

const onRealBoard = reachable(
  [MAIN],
  (edge) => edge.kind === 'static' || (edge.kind === 'dynamic' && !isSim(edge.file ?? '')),
);

describe('on a real board (backend: linux)', () => {
  it('the agent reaches no simulation module, statically or through a non-sim import()', () => {
    const sims = [...onRealBoard.entries()]
      .filter(([file]) => isSim(file))
      .map(([, chain]) => chain.map(rel).join(' -> '));
    expect(sims).toEqual([]);
  });

  it('loads the drivers, the Linux backends and build-local from main.ts (the walk is not empty)', () => {
    for (const file of [
      'build-local.ts',
      'build-agent.ts',
      'hal/create-buses.ts',
      'hal/drivers/registry.ts',
      'hal/drivers/bme280/driver.ts',
      'hal/drivers/bthome/decode.ts',
      'hal/gpio/linux.ts',
      'hal/i2c/linux.ts',
      'hal/serial/linux.ts',
      'hal/ble/linux.ts',
    ]) {
      expect(onRealBoard.has(agent(file)), file).toBe(true);
    }
  });

  it('the world schema the config loader validates is configuration only: it imports nothing but zod', () => {
    expect(onRealBoard.has(WORLD_SCHEMA)).toBe(true);
    expect(importsOf(WORLD_SCHEMA).map((e) => e.specifier)).toEqual(['zod']);
  });
});

describe('on a simulated board (backend: sim)', () => {
  it('simulation code is entered only through the import()s of the sim branch', () => {
    const doors = [...onRealBoard.keys()].flatMap((from) =>
      importsOf(from)
        .filter((e) => e.kind === 'dynamic' && e.file && isSim(e.file))
        .map((e) => `${rel(from)} -> ${rel(e.file ?? '')}`),
    );
    expect(doors.sort()).toEqual([
      'agent/hal/ble/index.ts -> agent/hal/ble/sim.ts',
      'agent/hal/create-buses.ts -> agent/hal/sim/world.ts',
      'agent/hal/gpio/index.ts -> agent/hal/gpio/sim.ts',
      'agent/hal/i2c/index.ts -> agent/hal/i2c/sim.ts',
      'agent/hal/serial/index.ts -> agent/hal/serial/sim.ts',
    ]);
  });

  it('the world, once imported, brings every bus simulator and every driver’s simulated peer', () => {
    const all = reachable([MAIN], (edge) => edge.kind !== 'type');
    for (const file of [
      'hal/sim/world.ts',
      'hal/gpio/sim.ts',
      'hal/i2c/sim.ts',
      'hal/serial/sim.ts',
      'hal/ble/sim.ts',
      'hal/drivers/bme280/sim-chip.ts',
      'hal/drivers/sht31/sim-chip.ts',
      'hal/drivers/pms5003/sim-sensor.ts',
      'hal/drivers/bthome/sim-sensor.ts',
      'hal/drivers/digital-input/sim-contact.ts',
      'hal/drivers/pulse-counter/sim-pulse-source.ts',
    ]) {
      expect(all.has(agent(file)), file).toBe(true);
    }
  });
});
