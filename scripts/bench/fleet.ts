/**
 * `npm run bench -- fleet --agents N [--seconds S] [--outage-s S] [--per-host K]`: the fleet simulator
 * (scripts/fleet-sim) as one bench. Three fleets of N real agents against one mosquitto, one after
 * the other: steady state for S seconds (messages/s at the broker, broker CPU, RSS and CPU per agent,
 * readings lost after dedup), a broker outage of `--outage-s` (reconnect spread, time to converge, lost
 * readings), and a staged rollout with 5 % planted boot failures (time to converge, devices
 * unaccounted). The last line is one JSON object with `agents`, `messagesPerS`, `rssPerAgentMB`,
 * `lost` and the rest.
 */
import { runScenario } from '../fleet-sim/run-scenario.js';
import { parseFlags } from './stats.js';

export async function fleetBench(args: string[]): Promise<Record<string, unknown>> {
  const flags = parseFlags(args);
  const progress = (l: string) => process.stderr.write(`${l}\n`);
  const base = new Map(flags);
  if (!base.has('agents')) base.set('agents', '1000');
  if (!base.has('seconds')) base.set('seconds', '300');
  const steady = await runScenario('steady', base, progress);
  const outage = await runScenario('outage', new Map([...base, ['seconds', '30']]), progress);
  const rollout = await runScenario('rollout', base, progress);
  return {
    agents: steady.agents,
    seconds: steady.seconds,
    messagesPerS: steady.messagesPerS,
    brokerCpuPct: steady.brokerCpuPct,
    rssPerAgentMB: steady.rssPerAgentMB,
    agentCpuPctPerAgent: steady.agentCpuPctPerAgent,
    hostsCpuPct: steady.hostsCpuPct,
    lost: Number(steady.lost) + Number(outage.lost),
    sealedReadings: Number(steady.sealedReadings) + Number(outage.sealedReadings),
    duplicatesDropped: Number(steady.duplicatesDropped) + Number(outage.duplicatesDropped),
    outageS: outage.outageS,
    reconnectSpreadS: outage.reconnectSpreadS,
    maxReconnectsPerSPct: outage.maxReconnectsPerSPct,
    notReconnected: outage.notReconnected,
    convergedAfterOutageS: outage.convergedAfterOutageS,
    rolloutHaltedAtStage: rollout.haltedAtStage,
    rolloutOffered: rollout.offered,
    rolloutCommitted: rollout.committed,
    rolloutRolledBack: rollout.rolledBack,
    rolloutUnaccounted: Number(rollout.unreported) + Number(rollout.notBackOnline),
    convergedAfterRolloutS: rollout.convergedAfterRolloutS,
    startS: steady.startS,
  };
}
