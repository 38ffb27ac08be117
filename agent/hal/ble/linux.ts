/**
 * The BLE bus on Linux: `@abandonware/noble` over a raw HCI socket, scanning passively-received
 * advertisements for every BLE driver at once (noble-scanner.ts). noble opens its HCI socket when its
 * module is *evaluated* and throws there when the kernel has no Bluetooth sockets (`EAFNOSUPPORT`, as in
 * most containers), so it is imported and built only inside the first `startScan`, through its
 * `with-custom-binding` entry (which also takes the adapter number), and every failure on the way
 * becomes a `BleUnavailableError`.
 *
 * Running it needs `CAP_NET_RAW` and `CAP_NET_ADMIN` (the systemd unit grants them), and BlueZ must not
 * hold the adapter exclusively. noble's HCI bindings add a SIGINT handler that exits the process when
 * it is the last one registered, and poll the adapter every second from then on.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { type NobleLike, NobleScanner } from './noble-scanner.js';
import type { BleAdapterState, BleBackend, BleScan, BleScanFilter, BleScanListener } from './types.js';

export interface LinuxBleDeps {
  readonly clock: Clock;
  readonly log?: Logger | undefined;
  /** The adapter, `hci0`, `hci1`, …; default: the first one the kernel lists. */
  readonly adapter?: string | undefined;
  /** How long the adapter has to come up and start scanning. Default 5000 ms. */
  readonly readyTimeoutMs?: number;
}

export class LinuxBle implements BleBackend {
  readonly kind = 'linux';
  readonly #scanner: NobleScanner;

  constructor(deps: LinuxBleDeps) {
    const deviceId = adapterNumber(deps.adapter);
    this.#scanner = new NobleScanner({
      clock: deps.clock,
      loadNoble: () => loadNoble(deviceId),
      readyTimeoutMs: deps.readyTimeoutMs,
      onWarning: (message) => deps.log?.debug({ mod: 'ble' }, message),
    });
  }

  get state(): BleAdapterState {
    return this.#scanner.state;
  }

  startScan(filter: BleScanFilter, listener: BleScanListener): Promise<BleScan> {
    return this.#scanner.startScan(filter, listener);
  }

  close(): Promise<void> {
    return this.#scanner.close();
  }
}

async function loadNoble(deviceId: number | undefined): Promise<NobleLike> {
  const { default: withCustomBinding } = await import('@abandonware/noble/with-custom-binding.js');
  // Builds the HCI bindings: this is where a kernel without Bluetooth sockets throws.
  return withCustomBinding(deviceId === undefined ? {} : { deviceId }) as NobleLike;
}

function adapterNumber(adapter: string | undefined): number | undefined {
  if (adapter === undefined) return undefined;
  const m = /^hci(\d+)$/.exec(adapter);
  if (!m) throw new TypeError(`adapter must be hci<N>, e.g. hci0, got ${JSON.stringify(adapter)}`);
  return Number(m[1]);
}
