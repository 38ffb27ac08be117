/**
 * (d) Signed command fan-out: one signed `status` command to every device, then `replays` more
 * publishes of exactly the same bytes each (a captured command replayed). Every device must answer
 * the first `done` and every replay `rejected` with code `replayed` — none run twice; the results are
 * verified against each device's key by the backend.
 */
import type { Fleet } from '../fleet.js';
import { resultsOf, signCommand, waitForAll } from '../fleet-commands.js';

export async function fanoutScenario(
  fleet: Fleet,
  o: { replays: number; timeoutS: number },
  progress: (l: string) => void,
): Promise<Record<string, unknown>> {
  const ids = fleet.deviceIds;
  const run = `fanout-${Date.now().toString(36)}`;
  const bytes = new Map(ids.map((d) => [d, signCommand(fleet, d, `${run}-${d}`, 'status')]));
  const t0 = Date.now();
  progress(`sending a signed status command to ${ids.length} devices`);
  await Promise.all(ids.map((d) => fleet.backend.sendCommand(d, bytes.get(d) as Uint8Array)));
  const unanswered = await waitForAll(
    ids,
    (d) => resultsOf(fleet, d, `${run}-${d}`).length >= 1,
    o.timeoutS * 1000,
  );
  const answeredS = (Date.now() - t0) / 1000;
  progress(`answered in ${answeredS.toFixed(1)} s; replaying each ${o.replays}×`);
  const t1 = Date.now();
  for (let r = 0; r < o.replays; r++)
    await Promise.all(ids.map((d) => fleet.backend.sendCommand(d, bytes.get(d) as Uint8Array)));
  const total = 1 + o.replays;
  const replaysUnanswered = await waitForAll(
    ids,
    (d) => resultsOf(fleet, d, `${run}-${d}`).length >= total,
    o.timeoutS * 1000,
  );
  const replaysS = (Date.now() - t1) / 1000;
  let done = 0;
  let replayed = 0;
  let executedTwice = 0;
  let other = 0;
  for (const d of ids) {
    const results = resultsOf(fleet, d, `${run}-${d}`);
    const dones = results.filter((r) => r.status === 'done').length;
    done += Math.min(dones, 1);
    if (dones > 1) executedTwice++;
    replayed += results.filter((r) => r.status === 'rejected' && r.code === 'replayed').length;
    other += results.filter((r) => r.status !== 'done' && r.code !== 'replayed').length;
  }
  return {
    scenario: 'fanout',
    agents: ids.length,
    commands: ids.length,
    replaysSent: ids.length * o.replays,
    done,
    replayedRejected: replayed,
    executedTwice,
    otherResults: other,
    unanswered: unanswered.length,
    replaysUnanswered: replaysUnanswered.length,
    answeredAllS: Math.round(answeredS * 10) / 10,
    commandsPerS: Math.round((ids.length / answeredS) * 10) / 10,
    replaysAnsweredS: Math.round(replaysS * 10) / 10,
  };
}
