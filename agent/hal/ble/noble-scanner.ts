/**
 * The shared BLE scan over a noble instance — the one implementation behind both backends: the Linux
 * one hands it the real `@abandonware/noble` (HCI socket), the simulator a real `Noble` driven by fake
 * bindings (sim.ts). Scans are reference-counted onto one radio scan; adapter states become
 * `BleUnavailableError`s; every noble call that could throw or never answer is fenced (try/catch, a
 * readiness timeout on the injected clock), because a gateway without Bluetooth must just say so.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { normalizeAddress } from './address.js';
import { BleUnavailableError, type BleUnavailableReason } from './errors.js';
import type {
  Advertisement,
  BleAdapterState,
  BleScan,
  BleScanFilter,
  BleScanListener,
  ServiceData,
} from './types.js';

/** The part of noble's `Noble` this scanner uses (its typings do not cover `with-bindings`). */
export interface NobleLike {
  /** Reading it the first time initialises the bindings (synchronously; may throw). */
  readonly state: string;
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  startScanning(
    serviceUuids: string[],
    allowDuplicates: boolean,
    callback: (error?: Error | null) => void,
  ): void;
  stopScanning(): void;
}

interface NoblePeripheralLike {
  readonly address: string;
  readonly rssi: number;
  readonly advertisement?: {
    readonly localName?: string;
    readonly serviceData?: readonly { readonly uuid: string; readonly data: Uint8Array }[];
    readonly manufacturerData?: Uint8Array;
  };
}

export interface NobleScannerDeps {
  readonly clock: Clock;
  /** Loads (or builds) the noble instance; called once, at the first scan. May reject. */
  readonly loadNoble: () => Promise<NobleLike>;
  /** How long to wait for the adapter to report `poweredOn` and start scanning. Default 5000. */
  readonly readyTimeoutMs?: number;
  /** How often to drop noble's per-address caches while scanning. Default 10 min. */
  readonly forgetEveryMs?: number;
  /** Called with noble warnings and dropped-listener errors, for the debug log. */
  readonly onWarning?: (message: string) => void;
}

const STATE_REASONS: Partial<Record<string, BleUnavailableReason>> = {
  unsupported: 'unsupported',
  unauthorized: 'unauthorized',
  poweredOff: 'powered-off',
};

export class NobleScanner {
  readonly #deps: NobleScannerDeps;
  readonly #readyTimeoutMs: number;
  readonly #scans = new Set<NobleScan>();
  #noble: NobleLike | undefined;
  #loadError: BleUnavailableError | undefined;
  #state: BleAdapterState = 'unknown';
  #scanning = false;
  #starting: Promise<void> | undefined;
  #forgetTimer: TimerHandle | undefined;
  /** Bumped by `close()`, so a scan that was starting meanwhile does not join a stopped radio. */
  #epoch = 0;
  /** Waiters for the next state change while starting. */
  readonly #stateWaiters = new Set<(state: string) => void>();

  constructor(deps: NobleScannerDeps) {
    this.#deps = deps;
    this.#readyTimeoutMs = deps.readyTimeoutMs ?? 5000;
  }

  get state(): BleAdapterState {
    return this.#state;
  }

  async startScan(filter: BleScanFilter, listener: BleScanListener): Promise<BleScan> {
    if (typeof filter !== 'object' || filter === null) throw new TypeError('filter must be { address? }');
    const address =
      filter.address === undefined ? undefined : normalizeAddress(filter.address, 'filter.address');
    if (typeof listener?.advertisement !== 'function') {
      throw new TypeError('listener.advertisement must be a function');
    }
    if (!this.#scanning) {
      const epoch = this.#epoch;
      this.#starting ??= this.#start().finally(() => {
        this.#starting = undefined;
      });
      await this.#starting;
      if (!this.#scanning || epoch !== this.#epoch) {
        throw new BleUnavailableError('scan-stopped', 'the BLE scan stopped while it was starting');
      }
    }
    const scan = new NobleScan(address, listener, (s) => this.#remove(s));
    this.#scans.add(scan);
    return scan;
  }

  async close(): Promise<void> {
    this.#epoch++;
    await this.#starting?.catch(() => undefined);
    for (const scan of [...this.#scans]) scan.end(undefined);
    this.#scans.clear();
    this.#stopRadio();
  }

  async #start(): Promise<void> {
    const noble = await this.#load();
    await this.#poweredOn(noble);
    await this.#withTimeout('start scanning', (resolve, reject) => {
      try {
        noble.startScanning([], true, (error) => {
          if (error)
            reject(
              new BleUnavailableError('scan-failed', `BLE scan refused: ${error.message}`, { cause: error }),
            );
          else resolve();
        });
      } catch (error) {
        reject(
          new BleUnavailableError('scan-failed', `BLE scan refused: ${message(error)}`, { cause: error }),
        );
      }
    });
    this.#scanning = true;
    const forgetEveryMs = this.#deps.forgetEveryMs ?? 600_000;
    this.#forgetTimer = this.#deps.clock.setInterval(() => forgetPeripherals(noble), forgetEveryMs);
  }

  async #load(): Promise<NobleLike> {
    if (this.#noble) return this.#noble;
    if (this.#loadError) throw this.#loadError;
    let noble: NobleLike;
    try {
      noble = await this.#deps.loadNoble();
    } catch (error) {
      // Failed module evaluation is cached by the ESM loader, so there is no point in trying again.
      this.#state = 'unavailable';
      this.#loadError = new BleUnavailableError(
        'no-bluetooth-support',
        `Bluetooth stack unavailable: ${message(error)} (no Bluetooth sockets in this kernel or container?)`,
        { cause: error },
      );
      throw this.#loadError;
    }
    let initial: string;
    try {
      initial = noble.state; // initialises the bindings: binds hci0 on Linux
    } catch (error) {
      // noble marks itself initialised before binding, so it will not try again: neither do we.
      this.#state = 'unavailable';
      this.#loadError = new BleUnavailableError('no-adapter', `no Bluetooth adapter: ${message(error)}`, {
        cause: error,
      });
      throw this.#loadError;
    }
    noble.on('stateChange', (state: string) => this.#onState(state));
    noble.on('discover', (p: NoblePeripheralLike) => this.#onDiscover(p));
    noble.on('scanStop', () => this.#onScanStop());
    // Our listener also keeps noble from printing its warnings to the console itself.
    noble.on('warning', (text: string) => this.#deps.onWarning?.(`noble: ${text}`));
    this.#noble = noble;
    this.#state = toState(initial);
    return noble;
  }

  async #poweredOn(noble: NobleLike): Promise<void> {
    for (;;) {
      const state = toState(noble.state);
      this.#state = state;
      if (state === 'poweredOn') return;
      const reason = STATE_REASONS[state];
      if (reason) throw new BleUnavailableError(reason, `Bluetooth adapter is ${state}`);
      // unknown / resetting: the adapter has not said yet; wait for its next word.
      await this.#withTimeout('report poweredOn', (resolve) => {
        this.#stateWaiters.add(resolve);
      });
    }
  }

  /** Runs `body` with a deadline of `readyTimeoutMs`; the state waiters of a timed-out wait are dropped. */
  #withTimeout(what: string, body: (resolve: () => void, reject: (e: Error) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        timer.cancel();
        this.#stateWaiters.clear();
        if (error) reject(error);
        else resolve();
      };
      const timer = this.#deps.clock.setTimeout(
        () =>
          finish(
            new BleUnavailableError(
              'timeout',
              `Bluetooth adapter did not ${what} within ${this.#readyTimeoutMs} ms (state ${this.#state})`,
            ),
          ),
        this.#readyTimeoutMs,
      );
      body(
        () => finish(),
        (e) => finish(e),
      );
    });
  }

  #onState(raw: string): void {
    const state = toState(raw);
    this.#state = state;
    for (const wake of [...this.#stateWaiters]) wake(state);
    if (state !== 'poweredOn' && this.#scanning) {
      this.#end(STATE_REASONS[state] ?? 'scan-stopped', `Bluetooth adapter became ${state}`);
    }
  }

  #onScanStop(): void {
    if (this.#scanning) this.#end('scan-stopped', 'the Bluetooth adapter stopped scanning');
  }

  #end(reason: BleUnavailableReason, text: string): void {
    this.#scanning = false;
    this.#forgetTimer?.cancel();
    this.#forgetTimer = undefined;
    const error = new BleUnavailableError(reason, text);
    const scans = [...this.#scans];
    this.#scans.clear();
    for (const scan of scans) scan.end(error);
  }

  #onDiscover(p: NoblePeripheralLike): void {
    if (this.#scans.size === 0) return;
    const advertisement = toAdvertisement(p);
    for (const scan of [...this.#scans]) scan.deliver(advertisement);
  }

  #remove(scan: NobleScan): void {
    this.#scans.delete(scan);
    if (this.#scans.size === 0) this.#stopRadio();
  }

  #stopRadio(): void {
    if (!this.#scanning) return;
    this.#scanning = false;
    this.#forgetTimer?.cancel();
    this.#forgetTimer = undefined;
    try {
      this.#noble?.stopScanning();
    } catch (error) {
      this.#deps.onWarning?.(`stopScanning failed: ${message(error)}`);
    }
  }
}

class NobleScan implements BleScan {
  readonly #address: string | undefined;
  readonly #listener: BleScanListener;
  readonly #onStop: (scan: NobleScan) => void;
  #active = true;

  constructor(address: string | undefined, listener: BleScanListener, onStop: (scan: NobleScan) => void) {
    this.#address = address;
    this.#listener = listener;
    this.#onStop = onStop;
  }

  get active(): boolean {
    return this.#active;
  }

  async stop(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    this.#onStop(this);
  }

  deliver(advertisement: Advertisement): void {
    if (!this.#active || (this.#address !== undefined && advertisement.address !== this.#address)) return;
    guard(() => this.#listener.advertisement(advertisement));
  }

  /** The scan is over without `stop()`: `ended` is told when there is an error to tell. */
  end(error: BleUnavailableError | undefined): void {
    if (!this.#active) return;
    this.#active = false;
    if (error) guard(() => this.#listener.ended?.(error));
  }
}

function toAdvertisement(p: NoblePeripheralLike): Advertisement {
  const ad = p.advertisement ?? {};
  const serviceData: ServiceData[] = (ad.serviceData ?? []).map((s) => ({
    uuid: s.uuid.toLowerCase().replaceAll('-', ''),
    data: Uint8Array.from(s.data),
  }));
  return {
    address: String(p.address).toLowerCase(),
    rssi: p.rssi,
    localName: ad.localName,
    serviceData,
    manufacturerData: ad.manufacturerData ? Uint8Array.from(ad.manufacturerData) : undefined,
  };
}

function toState(state: string): BleAdapterState {
  switch (state) {
    case 'unknown':
    case 'resetting':
    case 'unsupported':
    case 'unauthorized':
    case 'poweredOff':
    case 'poweredOn':
      return state;
    default:
      return 'unknown';
  }
}

/**
 * noble keeps every peripheral it ever saw, and its HCI bindings every address's last advertisement;
 * phones rotate random addresses every ~15 min, so a gateway scanning for months would grow without
 * bound. We never connect, so the caches only serve merging a scan response into its advertisement,
 * which a periodic reset barely disturbs. Plain-object checks keep this harmless if noble changes.
 */
function forgetPeripherals(noble: NobleLike): void {
  const n = noble as unknown as Record<string, unknown>;
  clearMaps(n, [
    '_peripherals',
    '_services',
    '_characteristics',
    '_descriptors',
    '_discoveredPeripheralUUids',
  ]);
  const bindings = n._bindings as Record<string, unknown> | undefined;
  if (!isRecord(bindings)) return;
  clearMaps(bindings, ['_addresses', '_addresseTypes', '_connectable', 'scannable']);
  if (isRecord(bindings._gap)) clearMaps(bindings._gap, ['_discoveries']);
}

function clearMaps(owner: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) if (isRecord(owner[key])) owner[key] = {};
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
