/**
 * (c) Staged rollout with a stop rule: a signed update is offered (`ota.offer` over the signed command
 * channel) to 1 %, then 10 %, then 100 % of the fleet, at most `offersPerS` offers a second. A stage
 * ends when every device offered has a final OTA report (`committed`, `rolled-back`, `rejected`) or a
 * failed offer; the rollout halts — no further offers, in this stage or later ones — as soon as the
 * failures exceed 2 % of the stage. The planted devices (their new image panics at boot) fall back
 * in the emulated bootloader and report `rolled-back`. At the end every device offered must be
 * committed or rolled back and reported, and every device back online (none bricked).
 */
import type { Fleet } from '../fleet.js';
import { resultsOf, signCommand, waitForAll } from '../fleet-commands.js';
import { publishRelease } from '../release.js';

const FINAL = new Set(['committed', 'rolled-back', 'rejected']);

export interface RolloutOptions {
  readonly stages: readonly number[];
  readonly stopRule: number;
  readonly offersPerS: number;
  readonly stageTimeoutS: number;
  readonly planted: number;
}

export async function rolloutScenario(
  fleet: Fleet,
  o: RolloutOptions,
  progress: (l: string) => void,
): Promise<Record<string, unknown>> {
  const ids = fleet.deviceIds;
  const release = await publishRelease(fleet, '2.0.0', 1);
  const run = `ota-${Date.now().toString(36)}`;
  const t0 = Date.now();
  const offered: string[] = [];
  const stages: Record<string, unknown>[] = [];
  let halted: number | undefined;
  const commandId = (d: string) => `${run}-${d}`;
  const state = (d: string) => fleet.backend.devices.get(d)?.otaState;
  const offerFailed = (d: string) => resultsOf(fleet, d, commandId(d)).some((r) => r.status !== 'done');
  const settled = (d: string) => FINAL.has(state(d) ?? '') || offerFailed(d);
  const failed = (d: string) => offerFailed(d) || (settled(d) && state(d) !== 'committed');
  try {
    for (const [i, fraction] of o.stages.entries()) {
      const target = Math.min(ids.length, Math.max(1, Math.ceil(ids.length * fraction)));
      const stage = ids.slice(offered.length, target);
      if (stage.length === 0) continue;
      progress(`stage ${i + 1} (${fraction * 100} %): offering to ${stage.length} devices`);
      const ts = Date.now();
      const inStage: string[] = [];
      const tooMany = () => inStage.filter(failed).length > o.stopRule * stage.length;
      for (const d of stage) {
        if (tooMany()) break;
        await fleet.backend.sendCommand(
          d,
          signCommand(fleet, d, commandId(d), 'ota.offer', { manifest: release.manifest }),
        );
        inStage.push(d);
        offered.push(d);
        await new Promise((r) => setTimeout(r, 1000 / o.offersPerS));
      }
      const unsettled = await waitForAll(inStage, settled, o.stageTimeoutS * 1000);
      const failures = inStage.filter(failed);
      const summary = {
        stage: i + 1,
        fraction,
        size: stage.length,
        offered: inStage.length,
        committed: inStage.filter((d) => state(d) === 'committed').length,
        rolledBack: inStage.filter((d) => state(d) === 'rolled-back').length,
        failures: failures.length,
        unsettled: unsettled.length,
        seconds: Math.round((Date.now() - ts) / 100) / 10,
        halted: failures.length > o.stopRule * stage.length,
      };
      stages.push(summary);
      progress(`  ${JSON.stringify(summary)}`);
      if (summary.halted || unsettled.length > 0) {
        halted = i + 1;
        break;
      }
    }
    // None bricked: every device offered is back online on some slot.
    const back = await waitForAll(offered, (d) => fleet.backend.devices.get(d)?.online === true, 60_000);
    const count = (s: string) => offered.filter((d) => state(d) === s).length;
    return {
      scenario: 'rollout',
      agents: ids.length,
      planted: o.planted,
      stopRulePct: o.stopRule * 100,
      haltedAtStage: halted ?? null,
      offered: offered.length,
      notOffered: ids.length - offered.length,
      committed: count('committed'),
      rolledBack: count('rolled-back'),
      rejected: count('rejected'),
      offerFailed: offered.filter(offerFailed).length,
      unreported: offered.filter((d) => !settled(d)).length,
      notBackOnline: back.length,
      downloads: release.served(),
      convergedAfterRolloutS: Math.round((Date.now() - t0) / 100) / 10,
      stages,
    };
  } finally {
    await release.close();
  }
}
