/**
 * The BLE bus contract: passive listening to advertisements (BTHome thermometers, door sensors,
 * buttons). There is one radio and one scan, shared by every BLE driver: the first `startScan` starts
 * the adapter scanning, each caller gets the advertisements of the address it asked for (or all), and
 * the radio stops when the last scan is stopped. Scanning reports duplicates — a sensor repeats each
 * packet several times so that one gets through — and it is up to the driver to drop them (BTHome's
 * packet id).
 *
 * A gateway without a working adapter is normal (a Pi with Bluetooth disabled, a container without
 * `AF_BLUETOOTH`, a missing `CAP_NET_RAW`): `startScan` then rejects with `BleUnavailableError`
 * (errors.ts) carrying a `reason`, never throws at import and never leaves an unhandled rejection:
 *  - `no-bluetooth-support` — the Bluetooth stack could not be loaded (the kernel has no Bluetooth
 *    sockets: `EAFNOSUPPORT`; or the native module is missing);
 *  - `no-adapter` — no HCI adapter to bind (`hci0` absent, or taken over by another program);
 *  - `unsupported` — the adapter does not do Bluetooth Low Energy;
 *  - `unauthorized` — no permission (the process needs `CAP_NET_RAW`/`CAP_NET_ADMIN`);
 *  - `powered-off` — the adapter is down (`rfkill`, `bluetoothctl power off`);
 *  - `timeout` — the adapter did not become ready in time;
 *  - `scan-failed` / `scan-stopped` — the adapter refused to scan, or stopped under us (reset).
 * When the adapter goes away during a scan, every scan's `ended` listener is called with that error
 * and the scans are over; drivers report the device lost and start a new scan on reopen.
 *
 * Misuse — an address that is not six colon-separated hex bytes, a listener without an
 * `advertisement` function — throws `TypeError` naming the parameter, in both backends.
 */
import type { BleUnavailableError } from './errors.js';

export interface ServiceData {
  /** Lowercase hex without dashes: `fcd2` for a 16-bit UUID, 32 digits for a 128-bit one. */
  readonly uuid: string;
  readonly data: Uint8Array;
}

export interface Advertisement {
  /** Lowercase `aa:bb:cc:dd:ee:ff`. */
  readonly address: string;
  /** Received signal strength, dBm. */
  readonly rssi: number;
  readonly localName: string | undefined;
  /** AD types 0x16 / 0x20 / 0x21 in the order received; may be empty. */
  readonly serviceData: readonly ServiceData[];
  readonly manufacturerData: Uint8Array | undefined;
}

export interface BleScanFilter {
  /** Only advertisements from this address (any case on input); all advertisements when absent. */
  readonly address?: string;
}

export interface BleScanListener {
  /**
   * Called for each matching advertisement, duplicates included. A listener that throws is reported
   * by rethrowing asynchronously and does not stop the others.
   */
  advertisement(advertisement: Advertisement): void;
  /** The shared scan ended under this scan (adapter powered off, removed, reset). Not called after `stop()`. */
  ended?(error: BleUnavailableError): void;
}

export interface BleScan {
  /** False once stopped or ended. */
  readonly active: boolean;
  /** Stops delivering; the radio stops when no scan is left. Idempotent; never rejects. */
  stop(): Promise<void>;
}

/** The adapter as the stack reports it; `unavailable` when the stack itself could not be loaded. */
export type BleAdapterState =
  | 'unknown'
  | 'resetting'
  | 'unsupported'
  | 'unauthorized'
  | 'poweredOff'
  | 'poweredOn'
  | 'unavailable';

export interface BleBackend {
  readonly kind: 'linux' | 'sim';
  /** The adapter's last known state (`unknown` until the first scan is attempted). */
  readonly state: BleAdapterState;
  /**
   * Joins the shared scan (starting the radio if this is the first one) and resolves once the
   * adapter is scanning. Rejects `BleUnavailableError` as above.
   */
  startScan(filter: BleScanFilter, listener: BleScanListener): Promise<BleScan>;
  /** Stops every scan (their `ended` is not called) and the radio (shutdown). Never rejects. */
  close(): Promise<void>;
}
