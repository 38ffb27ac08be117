/**
 * A `worker: true` loop for real: the PID runs in a worker thread, which needs the built JavaScript
 * (`dist/`, built by `npm test` before vitest and checked by test/support/check-build.ts: the worker loads `worker-ticker-main.js` and the task
 * module next to `loop.js`). Everything the loop touches comes from dist too, so that its
 * `isAgentError` and our PointTable's errors are the same classes. Real time on the SystemClock: the
 * assertions leave room for a loaded CI machine.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_THERMAL_PLANT, ThermalPlant } from '../../../agent/hal/sim/thermal-plant.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { PlantHarness } from '../../support/plant-harness.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const DIST = path.join(REPO_ROOT, 'dist/agent');
const distUrl = (file: string) => pathToFileURL(path.join(DIST, file)).href;
/** Where the loop finds its worker modules (the composition root passes code-dir.ts's). */
const codeDir = pathToFileURL(`${DIST}/`);

/** The built modules, typed as their sources. */
type Dist = typeof import('../../../agent/control/loop.js') &
  typeof import('../../../agent/control/loop-schema.js') &
  typeof import('../../../agent/control/alarms.js') &
  typeof import('../../../agent/control/scheduler.js') &
  typeof import('../../../agent/core/clock.js') &
  typeof import('../../../agent/core/log.js') &
  typeof import('../../../agent/core/points.js');

async function importDist(): Promise<Dist> {
  const files = [
    'control/loop.js',
    'control/loop-schema.js',
    'control/alarms.js',
    'control/scheduler.js',
    'core/clock.js',
    'core/log.js',
    'core/points.js',
  ];
  const modules: object[] = await Promise.all(files.map((f) => import(distUrl(f))));
  return Object.assign({}, ...modules) as Dist;
}

const tempDir = tempDirs();

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('a worker-thread ControlLoop (built dist)', () => {
  it('controls a fast first-order plant at 10 ms, takes mode and tunings changes, and stops', async () => {
    const dist = await importDist();
    const clock = new dist.SystemClock();
    const log = dist.silentLogger();
    const points = new dist.PointTable({ clock });
    const alarms = new dist.AlarmManager({ clock });
    // τ = 0.2 s, no dead time, 60 K at full power: simulated here, in the main thread, every 10 ms.
    const plant = new ThermalPlant({
      ...DEFAULT_THERMAL_PLANT,
      tauS: 0.2,
      deadTimeS: 0,
      noiseC: 0,
      driftC: 0,
    });
    const harness = new PlantHarness({
      clock,
      points,
      plant,
      input: 'chamber.temp',
      output: 'heater.power',
      stepMs: 10,
    });
    const config = dist.loopSchema.parse({
      name: 'chamber',
      input: 'chamber.temp',
      output: 'heater.power',
      setpoint: 40,
      periodMs: 10,
      // Ti = τ and kp·K = 0.6: a closed-loop time constant of about 0.33 s.
      tunings: { kp: 0.01, ki: 0.05, kd: 0 },
      worker: true,
    });
    const loop = new dist.ControlLoop({ clock, log, points, alarms, codeDir }, config);
    loop.declarePoints();
    const scheduler = new dist.Scheduler({ clock, log });
    for (const task of loop.tasks()) scheduler.add(task);
    harness.start();
    await loop.start();
    scheduler.start();
    stops.push(async () => {
      await scheduler.stop();
      await loop.stop();
      harness.stop();
    });

    // Real time on a shared machine: wait for what the loop does, with generous deadlines.
    const loopWritesSince = (fromMs: number) =>
      harness.writes.filter((w) => w.monoMs > fromMs && w.source === 'loop:chamber');
    /** Nothing is awaited here: a window in which the loop must *not* change its output. */
    const quietWindow = () => new Promise((resolve) => setTimeout(resolve, 300));
    /** Waits for `n` more samples written by the worker loop, and returns them. */
    const nextSamples = async (n: number) => {
      const from = performance.now();
      await until(() => loopWritesSince(from).length >= n, `${n} loop samples`, 10_000);
      return loopWritesSince(from);
    };

    // From 21 °C towards 40 °C: most of the way after a few closed-loop time constants.
    await until(
      () => plant.temperatureC > 21 + 0.75 * 19,
      'the plant near its setpoint',
      10_000,
      () => ({
        temperatureC: plant.temperatureC,
      }),
    );
    expect(plant.temperatureC).toBeLessThan(40 + 2);
    expect(loop.status()).toMatchObject({ state: 'auto', mode: 'auto' });
    await nextSamples(20);
    const auto = loop.status().output;
    expect(auto).toBeGreaterThan(0.2); // 19 K / 60 K ≈ 0.32 holds 40 °C
    expect(auto).toBeLessThan(0.5);

    // Manual: the worker's output becomes 0.7 and stays there; the loop writes no other value.
    loop.setMode('manual', 'console:tech', 0.7);
    await until(() => points.goodValue('heater.power') === 0.7, 'the manual output');
    const manualFrom = performance.now();
    await quietWindow();
    expect(loop.status()).toMatchObject({ state: 'manual', mode: 'manual', output: 0.7 });
    expect(points.goodValue('heater.power')).toBe(0.7);
    expect(loopWritesSince(manualFrom).filter((w) => w.value !== 0.7)).toEqual([]);

    // Back to auto (bumplessly from 0.7), then zero gains: the worker's output freezes, whatever the
    // setpoint does. Without the new gains in the worker it would fall towards the new setpoint's 0.15.
    loop.setMode('auto', 'console:tech');
    await nextSamples(10);
    loop.setTunings({ kp: 0, ki: 0, kd: 0 }, 'console:tech');
    // Frozen: the loop writes only changes, so it stops writing.
    await until(
      () => performance.now() - (harness.writes.at(-1)?.monoMs ?? 0) > 150,
      'the output to freeze',
      10_000,
    );
    const frozen = loop.status().output;
    await points.write('loop.chamber.setpoint', 30, 'console:tech');
    await quietWindow();
    expect(loop.status().output).toBeCloseTo(frozen, 9);
    expect(points.goodValue('heater.power') as number).toBeCloseTo(frozen, 9);
    expect(loop.status().tunings).toEqual({ kp: 0, ki: 0, kd: 0 });

    await scheduler.stop();
    await loop.stop();
    expect(points.get('heater.power')).toMatchObject({ value: 0, source: 'loop:chamber' }); // safe output
  });

  it('lets the process exit after stop(): the worker thread is gone', async () => {
    // A child process runs a worker loop for 300 ms on a constant input, stops it, and must then exit by
    // itself: a worker thread left running would keep it alive.
    const script = `
      const { ControlLoop } = await import(${JSON.stringify(distUrl('control/loop.js'))});
      const { loopSchema } = await import(${JSON.stringify(distUrl('control/loop-schema.js'))});
      const { AlarmManager } = await import(${JSON.stringify(distUrl('control/alarms.js'))});
      const { Scheduler } = await import(${JSON.stringify(distUrl('control/scheduler.js'))});
      const { SystemClock } = await import(${JSON.stringify(distUrl('core/clock.js'))});
      const { silentLogger } = await import(${JSON.stringify(distUrl('core/log.js'))});
      const { PointTable } = await import(${JSON.stringify(distUrl('core/points.js'))});
      const clock = new SystemClock();
      const log = silentLogger();
      const points = new PointTable({ clock });
      points.declare({ name: 'chamber.temp' });
      points.declare({ name: 'heater.power', writable: true });
      points.update('chamber.temp', 30, 'test');
      const config = loopSchema.parse({ name: 'chamber', input: 'chamber.temp', output: 'heater.power',
        setpoint: 40, periodMs: 10, tunings: { kp: 0.01, ki: 0.1, kd: 0 }, worker: true });
      const codeDir = new URL(${JSON.stringify(codeDir.href)});
      const loop = new ControlLoop({ clock, log, points, alarms: new AlarmManager({ clock }), codeDir }, config);
      loop.declarePoints();
      const scheduler = new Scheduler({ clock, log });
      for (const task of loop.tasks()) scheduler.add(task);
      await loop.start();
      scheduler.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const output = loop.status().output;
      await scheduler.stop();
      await loop.stop();
      process.stdout.write(JSON.stringify({ output }) + '\\n');
    `;
    const file = path.join(await tempDir(), 'worker-loop.mjs');
    await writeFile(file, script);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = await new Promise<number | 'hung'>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('hung');
      }, 10_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    expect({ exited, stderr }).toEqual({ exited: 0, stderr: '' });
    // The error 10 K × ki 0.1/s integrated for about 0.3 s: the worker did run.
    const { output } = JSON.parse(stdout) as { output: number };
    expect(output).toBeGreaterThan(0.1);
  });
});
