/**
 * A simulated BLE bus that runs the real code path: a genuine noble `Noble` instance (from
 * `@abandonware/noble/with-bindings`, pure JavaScript — no HCI socket, no native module) is driven by
 * fake bindings that play the adapter, and the same `NobleScanner` as on Linux turns noble's events into
 * advertisements. So noble's own behaviour — its `poweredOn` check before scanning, its `scanStart`
 * handshake, its duplicate filtering, its peripheral bookkeeping — is what the tests exercise.
 *
 * The device side: `advertise()` puts an advertisement on the air (delivered a microtask later, when
 * the radio is scanning, as the HCI bindings would report it), and `setAdapterState()` powers the
 * adapter off or makes it unsupported, as `rfkill` or a missing dongle would. `scanning` and
 * `scanStarts` show what the radio is doing. All state is per instance.
 */
import { EventEmitter } from 'node:events';
import withBindings from '@abandonware/noble/with-bindings.js';
import type { Clock } from '../../core/clock.js';
import { normalizeAddress } from './address.js';
import { type NobleLike, NobleScanner } from './noble-scanner.js';
import type { BleAdapterState, BleBackend, BleScan, BleScanFilter, BleScanListener } from './types.js';

/** The adapter states the device side can set (noble's names); `unknown` is an adapter that never answers. */
export type SimAdapterState = 'poweredOn' | 'poweredOff' | 'unsupported' | 'unauthorized' | 'unknown';

export interface SimBleDeps {
  readonly clock: Clock;
  /** The adapter's state when first asked. Default `poweredOn`. */
  readonly state?: SimAdapterState;
  readonly readyTimeoutMs?: number;
}

export interface SimAdvertisement {
  /** Any case; delivered lowercase. */
  readonly address: string;
  /** dBm, default -60. */
  readonly rssi?: number;
  readonly localName?: string;
  /** 16-bit UUIDs as 4 hex digits (`fcd2`), 128-bit as 32. */
  readonly serviceData?: readonly { readonly uuid: string; readonly data: Uint8Array }[];
  readonly manufacturerData?: Uint8Array;
}

export class SimBle implements BleBackend {
  readonly kind = 'sim';
  readonly #bindings: SimNobleBindings;
  readonly #scanner: NobleScanner;

  constructor(deps: SimBleDeps) {
    this.#bindings = new SimNobleBindings(deps.state ?? 'poweredOn');
    const noble = withBindings(this.#bindings) as NobleLike;
    this.#scanner = new NobleScanner({
      clock: deps.clock,
      loadNoble: async () => noble,
      readyTimeoutMs: deps.readyTimeoutMs,
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

  // ---- device side ----

  /** Whether the radio is scanning now. */
  get scanning(): boolean {
    return this.#bindings.scanning;
  }

  /** How many times the radio scan was started (one shared scan serves many drivers). */
  get scanStarts(): number {
    return this.#bindings.scanStarts;
  }

  /** Broadcasts one advertisement; heard only while the radio scans (returns whether it was). */
  advertise(advertisement: SimAdvertisement): boolean {
    const address = normalizeAddress(advertisement.address, 'advertisement.address');
    const rssi = advertisement.rssi ?? -60;
    if (!Number.isInteger(rssi) || rssi < -127 || rssi > 20) {
      throw new TypeError(`advertisement.rssi must be an integer in -127..20 dBm, got ${String(rssi)}`);
    }
    const serviceData = (advertisement.serviceData ?? []).map((s, i) => {
      if (typeof s.uuid !== 'string' || !/^([0-9a-f]{4}|[0-9a-f]{8}|[0-9a-f]{32})$/i.test(s.uuid)) {
        throw new TypeError(
          `advertisement.serviceData[${i}].uuid must be 4, 8 or 32 hex digits, got ${String(s.uuid)}`,
        );
      }
      if (!(s.data instanceof Uint8Array))
        throw new TypeError(`advertisement.serviceData[${i}].data must be a Uint8Array`);
      return { uuid: s.uuid.toLowerCase(), data: Buffer.from(s.data) };
    });
    return this.#bindings.discover(address, rssi, {
      localName: advertisement.localName,
      txPowerLevel: undefined,
      manufacturerData: advertisement.manufacturerData && Buffer.from(advertisement.manufacturerData),
      serviceData,
      serviceUuids: [],
      serviceSolicitationUuids: [],
    });
  }

  /** Changes the adapter's state, as `rfkill`, `bluetoothctl power off` or pulling the dongle would. */
  setAdapterState(state: SimAdapterState): void {
    this.#bindings.setState(state);
  }
}

/**
 * noble's bindings interface (lib/hci-socket/bindings.js is the reference): an EventEmitter with
 * `init`, `startScanning`, `stopScanning`, answering with `stateChange`, `scanStart`, `scanStop` and
 * `discover(uuid, address, addressType, connectable, advertisement, rssi, scannable)` events. The HCI
 * bindings answer asynchronously, so these do too.
 */
class SimNobleBindings extends EventEmitter {
  scanning = false;
  scanStarts = 0;
  #state: SimAdapterState;
  #initialized = false;

  constructor(state: SimAdapterState) {
    super();
    this.#state = state;
  }

  init(): void {
    this.#initialized = true;
    queueMicrotask(() => this.emit('stateChange', this.#state));
  }

  setState(state: SimAdapterState): void {
    this.#state = state;
    if (state !== 'poweredOn') this.scanning = false;
    if (this.#initialized) queueMicrotask(() => this.emit('stateChange', state));
  }

  startScanning(_serviceUuids: string[], allowDuplicates: boolean): void {
    if (this.#state !== 'poweredOn') return; // the controller refuses; noble checks before calling
    this.scanning = true;
    this.scanStarts++;
    queueMicrotask(() => this.emit('scanStart', !allowDuplicates));
  }

  stopScanning(): void {
    this.scanning = false;
    queueMicrotask(() => this.emit('scanStop'));
  }

  setScanParameters(): void {
    queueMicrotask(() => this.emit('scanParametersSet'));
  }

  discover(address: string, rssi: number, advertisement: object): boolean {
    if (!this.scanning) return false;
    // A broadcaster: neither connectable nor scannable, so noble reports every copy it hears.
    queueMicrotask(() => {
      if (this.scanning)
        this.emit(
          'discover',
          address.replaceAll(':', ''),
          address,
          'public',
          false,
          advertisement,
          rssi,
          false,
        );
    });
    return true;
  }

  // Connections are not part of this bus; noble would only call these if someone connected.
  connect(): void {
    throw new Error('SimBle does not simulate connections');
  }
  reset(): void {}
}
