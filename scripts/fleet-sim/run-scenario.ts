/**
 * Runs one named scenario on a fleet started for it, prints the backend's per-device table, stops
 * everything it started (agents, backend, broker) whatever happens, and returns the summary.
 */
import { deviceTable } from './device-table.js';
import { Fleet } from './fleet.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { outageScenario } from './scenarios/outage.js';
import { rolloutScenario } from './scenarios/rollout.js';
import { steadyScenario } from './scenarios/steady.js';

export const SCENARIOS = ['steady', 'outage', 'rollout', 'fanout'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export async function runScenario(
  name: ScenarioName,
  flags: ReadonlyMap<string, string>,
  progress: (line: string) => void,
): Promise<Record<string, unknown>> {
  const num = (key: string, fallback: number) => {
    const v = flags.get(key);
    return v === undefined || v === '' ? fallback : Number(v);
  };
  const agents = num('agents', 10);
  const seconds = num('seconds', 60);
  // Every `plantedEvery`-th device (the last of each group) cannot boot the new image: 20 → 5 %.
  const plantedEvery = num('planted-every', 20);
  const planted = new Set(
    name === 'rollout'
      ? Array.from({ length: agents }, (_, i) => i).filter((i) => i % plantedEvery === plantedEvery - 1)
      : [],
  );
  const backoffMaxMs = num('backoff-max-ms', 60_000);
  const t0 = Date.now();
  const fleet = await Fleet.start({
    agents,
    perHost: num('per-host', 125),
    planted,
    backoff: { baseMs: Math.min(1000, backoffMaxMs), maxMs: backoffMaxMs },
    healthDeadlineMs: num('health-deadline-ms', 30_000),
    log: progress,
  });
  const startS = Math.round((Date.now() - t0) / 100) / 10;
  progress(`${agents} agents running after ${startS} s`);
  try {
    let summary: Record<string, unknown>;
    switch (name) {
      case 'steady':
        summary = await steadyScenario(fleet, { seconds, drainS: num('drain-s', 120) }, progress);
        break;
      case 'outage':
        summary = await outageScenario(
          fleet,
          {
            warmS: seconds,
            outageS: num('outage-s', 60),
            reconnectTimeoutS: num('reconnect-timeout-s', 180),
            drainS: num('drain-s', 180),
          },
          progress,
        );
        break;
      case 'rollout':
        summary = await rolloutScenario(
          fleet,
          {
            stages: (flags.get('stages') || '0.01,0.1,1').split(',').map(Number),
            stopRule: num('stop-rule', 0.02),
            offersPerS: num('offers-per-s', 20),
            stageTimeoutS: num('stage-timeout-s', 300),
            planted: planted.size,
          },
          progress,
        );
        break;
      case 'fanout':
        summary = await fanoutScenario(
          fleet,
          { replays: num('replays', 2), timeoutS: num('timeout-s', 120) },
          progress,
        );
        break;
    }
    progress(deviceTable(fleet.backend, fleet.deviceIds));
    const result = { ...summary, startS };
    progress(`${name}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await fleet.stop({ keepDir: flags.has('keep') });
  }
}
