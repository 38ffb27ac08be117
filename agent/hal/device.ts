/**
 * The contract between a device driver and the agent. A driver turns bus transactions into channel
 * readings (sensors) and channel writes into bus transactions (actuators); it knows nothing of loops,
 * telemetry or point names. The `DeviceSupervisor` owns its lifecycle: it opens it (retrying with
 * backoff), polls it, maps channels to points, counts failures and reopens it when it stops answering.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { PointValue } from '../core/points.js';
import type { SenmlUnit } from '../core/senml-units.js';

export interface ChannelDecl {
  /** Local name, e.g. `temperature`; the point is `<device id>.<channel>` unless the config maps it. */
  readonly channel: string;
  readonly unit?: SenmlUnit;
  /** An output the agent may write (relay state). */
  readonly writable?: boolean;
  /** Expected update period of a push channel; used to mark its point stale when it goes quiet. */
  readonly staleAfterMs?: number;
}

export interface DeviceContext {
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborted when the device is being closed; pending bus work should stop. */
  readonly signal: AbortSignal;
  /** A good reading. Resets the consecutive-failure count. */
  publish(channel: string, value: PointValue): void;
  /**
   * A failed transaction outside `poll()` (a push device saw a bad checksum). Counted like a failed
   * poll: after `faultAfter` in a row the device's points go `fault` and the device is reopened.
   */
  fail(error: Error): void;
  /** The device is gone (port closed, adapter removed): fault now, close, and reopen with backoff. */
  lost(error: Error): void;
}

export interface Device {
  readonly channels: readonly ChannelDecl[];
  /** Opens bus resources and checks the device is there (chip id). Rejects if absent; retried. */
  open(ctx: DeviceContext): Promise<void>;
  /** One measurement, for polled devices; publishes through the context; rejects on failure. */
  poll?(): Promise<void>;
  /** Applies a write to a writable channel; rejects if the device refused it. */
  write?(channel: string, value: PointValue): Promise<void>;
  /** Puts outputs in their safe state. Called on stop and when the device faults; must not throw. */
  safeState?(): Promise<void>;
  /** Releases bus resources. Must be safe to call after a failed `open` and more than once. */
  close(): Promise<void>;
}

/** Thrown by drivers for a transaction whose data failed validation (CRC, checksum, range). */
export class DeviceDataError extends Error {
  readonly code = 'EDEVICE_DATA';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeviceDataError';
  }
}

/** Thrown by `open()` when the device is absent or is not what the profile says (wrong chip id). */
export class DeviceAbsentError extends Error {
  readonly code = 'EDEVICE_ABSENT';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeviceAbsentError';
  }
}
