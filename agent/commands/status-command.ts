/**
 * `status`: what a technician (or the fleet) asks first — which box this is (device id, board, agent
 * version), how it is reached (IP addresses, the MQTT link), what is wrong (active and unacknowledged
 * alarms, faulted devices) and what it runs (per update component, each slot's state and the version
 * committed to it, and the last update's outcome). The console's banner is this result, short.
 * Every source but the clock and the devices is optional: a part the agent runs without is left out.
 */
import { networkInterfaces } from 'node:os';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { DeviceStatus } from '../hal/device-supervisor.js';
import type { ComponentStatus } from '../ota/ota-status.js';
import type { OtaReport } from '../ota/report-queue.js';
import { type ReportSource, trackLastReport } from './last-report.js';
import type { CommandRegistry } from './registry.js';

export interface NetworkAddress {
  readonly iface: string;
  readonly address: string;
}

export interface SlotSummary {
  readonly slot: 'A' | 'B';
  readonly state: string;
  /** The version committed to this slot, when the agent knows it. */
  readonly version: string | undefined;
  readonly booted: boolean;
  readonly primary: boolean;
}

export interface LastUpdate {
  readonly component: string;
  readonly version: string | undefined;
  /** The last report's state: `installed` (on trial), `committed`, `rolled-back` or `rejected`. */
  readonly outcome: string;
  readonly reason: string | undefined;
  /** The slot the install targeted. */
  readonly slot: string | undefined;
  readonly wallMs: number;
}

export interface AgentStatus {
  readonly version: string;
  readonly board: string | undefined;
  readonly deviceId: string | undefined;
  readonly uptimeS: number;
  readonly addresses: readonly NetworkAddress[];
  /** `up`/`down`, or `off` when the agent runs without a link. */
  readonly link: 'up' | 'down' | 'off';
  readonly alarms: { readonly active: number; readonly unacked: number };
  readonly devices: { readonly total: number; readonly faulted: readonly string[] };
  readonly components: readonly { readonly name: string; readonly slots: readonly SlotSummary[] }[];
  readonly lastUpdate: LastUpdate | undefined;
}

/** What `status` reads the updates from: a slice of the OtaManager. */
export interface StatusOta extends ReportSource {
  status(): Promise<{ readonly components: readonly ComponentStatus[] }>;
}

export interface StatusDeps {
  readonly clock: Clock;
  readonly version: string;
  readonly devices: readonly { status(): DeviceStatus }[];
  readonly board?: string | undefined;
  readonly deviceId?: string | undefined;
  readonly alarms?: { list(): readonly { readonly state: string }[] } | undefined;
  readonly link?: { readonly connected: boolean } | undefined;
  readonly ota?: StatusOta | undefined;
  /** Non-loopback addresses (default: the host's interfaces). */
  readonly addresses?: (() => readonly NetworkAddress[]) | undefined;
}

export function registerStatusCommand(registry: CommandRegistry, deps: StatusDeps): void {
  const startedMono = deps.clock.monotonicMs();
  const lastReport = trackLastReport(deps.ota);
  registry.register({
    name: 'status',
    summary: 'device id, versions per slot, addresses, link, alarms, faulted devices, last update',
    args: z.strictObject({}),
    run: async (): Promise<AgentStatus> => {
      const devices = deps.devices.map((d) => d.status());
      const alarms = deps.alarms?.list() ?? [];
      const ota = deps.ota && (await deps.ota.status().catch(() => undefined));
      return {
        version: deps.version,
        board: deps.board,
        deviceId: deps.deviceId,
        uptimeS: Math.round((deps.clock.monotonicMs() - startedMono) / 1000),
        addresses: (deps.addresses ?? hostAddresses)(),
        link: deps.link ? (deps.link.connected ? 'up' : 'down') : 'off',
        alarms: {
          active: alarms.filter((a) => a.state.startsWith('active')).length,
          unacked: alarms.filter((a) => a.state.endsWith('unacked')).length,
        },
        devices: { total: devices.length, faulted: devices.filter((d) => d.faulted).map((d) => d.id) },
        components: (ota?.components ?? []).map(summarize),
        lastUpdate: toLastUpdate(await lastReport()),
      };
    },
  });
}

function summarize(c: ComponentStatus): { name: string; slots: SlotSummary[] } {
  const slots = (['A', 'B'] as const).map((slot) => ({
    slot,
    state: c.slots[slot].state,
    version: c.committed?.slot === slot ? c.committed.version : undefined,
    booted: c.booted === slot,
    primary: c.primary === slot,
  }));
  return { name: c.name, slots };
}

export function toLastUpdate(report: OtaReport | undefined): LastUpdate | undefined {
  if (!report) return undefined;
  return {
    component: report.component,
    version: report.version,
    outcome: report.state,
    reason: report.reason,
    slot: report.targetSlot,
    wallMs: report.wallMs,
  };
}

function hostAddresses(): NetworkAddress[] {
  return Object.entries(networkInterfaces()).flatMap(([iface, infos]) =>
    (infos ?? []).filter((i) => !i.internal).map((i) => ({ iface, address: i.address })),
  );
}
