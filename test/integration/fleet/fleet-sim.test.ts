/**
 * The fleet simulator at a small N against a real mosquitto: real agents (built from dist/, several
 * per host process) with their own state, identities and emulated boards, and the simulator's backend
 * reading the public wire formats. Each scenario's outcome is checked, never its timing: the backend
 * stores every reading the agents sealed (0 lost after dedup, every batch's signature good), the
 * agents reconnect after a short outage and drain their backlog, a staged rollout with one planted
 * boot failure halts by the stop rule with every offered device committed or rolled back and
 * reported, and replayed commands are answered `replayed` without running twice.
 */
import { afterEach, expect, it } from 'vitest';
import { Fleet } from '../../../scripts/fleet-sim/fleet.js';
import { fanoutScenario } from '../../../scripts/fleet-sim/scenarios/fanout.js';
import { outageScenario } from '../../../scripts/fleet-sim/scenarios/outage.js';
import { rolloutScenario } from '../../../scripts/fleet-sim/scenarios/rollout.js';
import { steadyScenario } from '../../../scripts/fleet-sim/scenarios/steady.js';
import { describeWithTools } from '../../support/system-tools.js';

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

const quiet = () => undefined;
// Short reconnect backoff so a short outage ends in seconds; the jitter is the agent's own.
const backoff = { baseMs: 200, maxMs: 2000 };

describeWithTools(['mosquitto'], 'the fleet simulator', () => {
  it('stores every sealed reading once, signature checked, with agents in two host processes', async () => {
    fleet = await Fleet.start({ agents: 4, perHost: 2, backoff });
    const summary = await steadyScenario(fleet, { seconds: 8, drainS: 30 }, quiet);
    expect(summary).toMatchObject({
      agents: 4,
      lost: 0,
      pendingReadings: 0,
      badSignatures: 0,
      invalid: 0,
    });
    expect(summary.sealedReadings).toBeGreaterThan(0);
    expect(summary.deliveredReadings).toBe(summary.sealedReadings);
    for (const id of fleet.deviceIds) expect(fleet.backend.devices.get(id)?.online).toBe(true);
  }, 60_000);

  it('gets every agent back after a broker outage and drains the backlog without losing a reading', async () => {
    fleet = await Fleet.start({ agents: 3, perHost: 3, backoff });
    const summary = await outageScenario(
      fleet,
      { warmS: 3, outageS: 6, reconnectTimeoutS: 30, drainS: 30 },
      quiet,
    );
    expect(summary).toMatchObject({ reconnected: 3, notReconnected: 0, lost: 0, pendingReadings: 0 });
    // Readings taken while the broker was down were delivered after it came back.
    expect(summary.sealedReadings).toBeGreaterThan(0);
  }, 60_000);

  it('halts a staged rollout on a planted boot failure, every offered device committed or rolled back', async () => {
    fleet = await Fleet.start({
      agents: 4,
      perHost: 4,
      backoff,
      planted: new Set([3]),
      healthDeadlineMs: 20_000,
    });
    const summary = await rolloutScenario(
      fleet,
      { stages: [0.25, 1], stopRule: 0.02, offersPerS: 20, stageTimeoutS: 45, planted: 1 },
      quiet,
    );
    expect(summary).toMatchObject({
      haltedAtStage: 2,
      offered: 4,
      committed: 3,
      rolledBack: 1,
      rejected: 0,
      offerFailed: 0,
      unreported: 0,
      notBackOnline: 0,
    });
    const planted = fleet.backend.devices.get(fleet.deviceIds[3] as string);
    expect([...(planted?.otaReports.values() ?? [])].map((r) => r.state)).toEqual([
      'installed',
      'rolled-back',
    ]);
  }, 60_000);

  it('answers a signed command once per device and every replay of its bytes as replayed', async () => {
    fleet = await Fleet.start({ agents: 3, perHost: 3, backoff });
    const summary = await fanoutScenario(fleet, { replays: 2, timeoutS: 30 }, quiet);
    expect(summary).toMatchObject({
      commands: 3,
      done: 3,
      replayedRejected: 6,
      executedTwice: 0,
      otherResults: 0,
      unanswered: 0,
      replaysUnanswered: 0,
    });
  }, 60_000);
});
