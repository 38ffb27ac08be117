/**
 * (b) Broker outage: after a warm-up the broker stops for `outageS` (every agent loses its session at
 * once and buffers), then comes back. The agents' jittered exponential backoff spreads the reconnect
 * storm: a histogram of the first live `online` status of each device per 1 s after the broker came
 * back, the most in any one second (the goal: no more than 10 % of agents), the time until every
 * agent is back and the backlog is drained, and the readings lost after dedup.
 */
import { type Fleet, perAgentUsage } from '../fleet.js';
import { measureWindow } from './steady.js';

export async function outageScenario(
  fleet: Fleet,
  o: { warmS: number; outageS: number; reconnectTimeoutS: number; drainS: number },
  progress: (l: string) => void,
): Promise<Record<string, unknown>> {
  const agents = fleet.deviceIds.length;
  progress(`warm-up ${o.warmS} s`);
  const warm = await measureWindow(fleet, o.warmS, progress);
  progress(`broker down for ${o.outageS} s`);
  await fleet.broker.pause();
  await new Promise((r) => setTimeout(r, o.outageS * 1000));
  await fleet.broker.resume();
  const backAtMs = Date.now();
  progress('broker back; waiting for every agent');
  const firstOnline = new Map<string, number>();
  const until = backAtMs + o.reconnectTimeoutS * 1000;
  while (firstOnline.size < agents && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const id of fleet.deviceIds) {
      const at = fleet.backend.devices.get(id)?.onlineAtMs.find((t) => t >= backAtMs);
      if (at !== undefined) firstOnline.set(id, at);
    }
    progress(`  ${Math.round((Date.now() - backAtMs) / 1000)} s: ${firstOnline.size}/${agents} back`);
  }
  const reconnectedS = (Math.max(backAtMs, ...firstOnline.values()) - backAtMs) / 1000;
  const histogram: number[] = [];
  for (const at of firstOnline.values()) {
    const bucket = Math.floor((at - backAtMs) / 1000);
    while (histogram.length <= bucket) histogram.push(0);
    histogram[bucket] = (histogram[bucket] ?? 0) + 1;
  }
  const maxPerS = Math.max(0, ...histogram);
  progress(`reconnects per second after the broker came back: ${histogram.join(' ')}`);
  const loss = await fleet.drain(o.drainS * 1000);
  const convergedS = Math.round((Date.now() - backAtMs) / 100) / 10;
  const usage = perAgentUsage(await fleet.pool.snapshot());
  return {
    scenario: 'outage',
    ...usage,
    messagesPerS: warm.messagesPerS,
    brokerCpuPct: warm.brokerCpuPct,
    agentCpuPctPerAgent: warm.agentCpuPctPerAgent,
    outageS: o.outageS,
    reconnected: firstOnline.size,
    notReconnected: agents - firstOnline.size,
    reconnectSpreadS: Math.round(reconnectedS * 10) / 10,
    reconnectsPerS: histogram,
    maxReconnectsPerS: maxPerS,
    maxReconnectsPerSPct: agents === 0 ? 0 : Math.round((maxPerS / agents) * 1000) / 10,
    convergedAfterOutageS: convergedS,
    ...loss,
  };
}
