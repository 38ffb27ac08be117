/**
 * (a) Steady state: N agents report for `seconds`; messages/s at the broker (what the backend
 * received, duplicates included), broker CPU, per-agent RSS and CPU, then a drain and the readings
 * lost after dedup (0 is the goal).
 */
import { processCpuSeconds } from '../broker.js';
import { type Fleet, perAgentUsage } from '../fleet.js';

export interface Window {
  readonly seconds: number;
  readonly messages: number;
  readonly messagesPerS: number;
  readonly brokerCpuPct: number;
  readonly agentCpuPctPerAgent: number;
  readonly hostsCpuPct: number;
}

/** Measures the fleet over `seconds` of wall time. */
export async function measureWindow(
  fleet: Fleet,
  seconds: number,
  progress: (l: string) => void,
): Promise<Window> {
  const before = await fleet.pool.snapshot();
  const brokerBefore = fleet.broker.cpuSeconds();
  const messagesBefore = fleet.backend.messages;
  const t0 = Date.now();
  for (let s = 0; s < seconds; s += 10) {
    await new Promise((r) => setTimeout(r, Math.min(10, seconds - s) * 1000));
    progress(
      `  ${Math.min(s + 10, seconds)}/${seconds} s: ${fleet.backend.messages - messagesBefore} messages`,
    );
  }
  const wallS = (Date.now() - t0) / 1000;
  const after = await fleet.pool.snapshot();
  const hostCpuS =
    (after.hosts.reduce((n, h) => n + h.cpuMicros, 0) - before.hosts.reduce((n, h) => n + h.cpuMicros, 0)) /
    1e6;
  const agents = perAgentUsage(after).agents;
  const messages = fleet.backend.messages - messagesBefore;
  return {
    seconds: Math.round(wallS),
    messages,
    messagesPerS: Math.round((messages / wallS) * 10) / 10,
    brokerCpuPct: Math.round(((fleet.broker.cpuSeconds() - brokerBefore) / wallS) * 1000) / 10,
    hostsCpuPct: Math.round((hostCpuS / wallS) * 1000) / 10,
    agentCpuPctPerAgent: agents === 0 ? 0 : Math.round((hostCpuS / wallS / agents) * 100_000) / 1000,
  };
}

export async function steadyScenario(
  fleet: Fleet,
  o: { seconds: number; drainS: number },
  progress: (l: string) => void,
): Promise<Record<string, unknown>> {
  progress(`steady state for ${o.seconds} s`);
  const window = await measureWindow(fleet, o.seconds, progress);
  const usage = perAgentUsage(await fleet.pool.snapshot());
  const loss = await fleet.drain(o.drainS * 1000);
  return {
    scenario: 'steady',
    ...usage,
    ...window,
    backendCpuS: Math.round(processCpuSeconds(process.pid) * 10) / 10,
    ...loss,
  };
}
