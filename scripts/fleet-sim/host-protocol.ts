/**
 * The messages between the simulator (host-pool.ts) and an agent host process (agent-host.ts), over
 * Node's IPC channel: a request with an id, answered once with the same id.
 */
import type { DeviceSnapshot, SealedBatch } from './hosted-device.js';

export interface HostDeviceSpec {
  readonly dir: string;
  readonly planted: boolean;
}

export type HostRequest =
  | { readonly id: number; readonly op: 'start'; readonly devices: readonly HostDeviceSpec[] }
  | { readonly id: number; readonly op: 'snapshot' }
  | { readonly id: number; readonly op: 'ledger' }
  | { readonly id: number; readonly op: 'stop' };

export interface HostUsage {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** CPU time used by the host process since it started, user + system, µs. */
  readonly cpuMicros: number;
  readonly agents: number;
}

export interface StartedDevice {
  readonly dir: string;
  readonly deviceId: string;
  readonly publicKeyPem: string;
}

export type HostReply =
  | { readonly id: number; readonly ok: true; readonly started: readonly StartedDevice[] }
  | {
      readonly id: number;
      readonly ok: true;
      readonly usage: HostUsage;
      readonly devices: readonly DeviceSnapshot[];
    }
  | {
      readonly id: number;
      readonly ok: true;
      readonly ledger: Readonly<Record<string, readonly SealedBatch[]>>;
    }
  | { readonly id: number; readonly ok: true; readonly stopped: true }
  | { readonly id: number; readonly ok: false; readonly error: string };
