/**
 * The real GPIO bus over `onoff` (sysfs `/sys/class/gpio`). Lines are resolved from chip label and
 * offset to the global number at open (resolve-line.ts). `onoff` is imported on first open, so that
 * importing this module never loads its native `epoll` addon on a laptop.
 *
 * Debounce is not delegated to onoff's `debounceTimeout` (lodash timers, a fixed filter that reports
 * a settled level even when it equals the previous one): the line is watched on both kernel edges and
 * the shared `Debouncer` runs on the injected clock, so the simulator exercises the code that runs
 * here. Sysfs limits, which a libgpiod (character device) backend would lift: no bias control, no
 * kernel timestamps (edges are stamped when the handler runs), and a pulse shorter than the
 * interrupt-to-read latency can be missed or reported with the wrong level.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import { checkInputOptions, checkLevel, checkLineRef, checkOutputOptions } from './check-options.js';
import { Debouncer } from './debouncer.js';
import { EdgeListeners } from './edge-listeners.js';
import { formatLine, GpioError } from './errors.js';
import { LineClaims } from './line-claims.js';
import { DEFAULT_SYSFS_ROOT, listGpioChips, resolveLine } from './resolve-line.js';
import type {
  GpioBackend,
  GpioChipInfo,
  GpioEdge,
  GpioEdgeListener,
  GpioInput,
  GpioInputOptions,
  GpioLevel,
  GpioLineRef,
  GpioOutput,
  GpioOutputOptions,
} from './types.js';

type Onoff = typeof import('onoff');
type OnoffGpio = InstanceType<Onoff['Gpio']>;

export interface LinuxGpioDeps {
  readonly clock: Clock;
  readonly log?: Logger;
  /** The sysfs mount (`HostPaths.sysfs`); line numbers are resolved under `<sysfsRoot>/class/gpio`. */
  readonly sysfsRoot?: string;
}

export class LinuxGpio implements GpioBackend {
  readonly kind = 'linux';
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #sysfsRoot: string;
  readonly #lines = new LineClaims();
  #onoff: Promise<Onoff> | undefined;

  constructor(deps: LinuxGpioDeps) {
    if (!deps?.clock) throw new TypeError('clock is required');
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#sysfsRoot = deps.sysfsRoot ?? DEFAULT_SYSFS_ROOT;
  }

  /** Whether this process may export lines (onoff's `Gpio.accessible`): false on a laptop or without rights. */
  static async isAccessible(): Promise<boolean> {
    try {
      const { Gpio } = await import('onoff');
      return Gpio.accessible;
    } catch {
      return false;
    }
  }

  listChips(): Promise<GpioChipInfo[]> {
    return listGpioChips(this.#sysfsRoot);
  }

  async openOutput(ref: GpioLineRef, options: GpioOutputOptions): Promise<GpioOutput> {
    checkLineRef(ref);
    const opts = checkOutputOptions(options);
    return this.#lines.withClaim(ref, async () => {
      const number = await resolveLine(ref, this.#sysfsRoot);
      if (opts.drive !== 'push-pull') {
        this.#log?.warn(
          { line: formatLine(ref), gpio: number, drive: opts.drive },
          'sysfs GPIO cannot set the drive; the line is driven push-pull (use gpio.backend: chardev)',
        );
      }
      const { Gpio } = await this.#loadOnoff();
      // Sysfs `direction` = high|low sets the output and its initial *raw* level in one step
      // (gpiolib-sysfs direction_store → gpiod_direction_output_raw), so invert for activeLow here.
      const raw = opts.activeLow ? 1 - opts.initial : opts.initial;
      const gpio = construct(
        ref,
        () => new Gpio(number, raw ? 'high' : 'low', 'none', { activeLow: opts.activeLow }),
      );
      const handle: LinuxOutput = new LinuxOutput(ref, gpio, opts.activeLow, () =>
        this.#lines.release(ref, handle),
      );
      return handle;
    });
  }

  async openInput(ref: GpioLineRef, options?: GpioInputOptions): Promise<GpioInput> {
    checkLineRef(ref);
    const opts = checkInputOptions(options);
    return this.#lines.withClaim(ref, async () => {
      const number = await resolveLine(ref, this.#sysfsRoot);
      if (opts.bias !== 'as-is') {
        this.#log?.warn(
          { line: formatLine(ref), gpio: number, bias: opts.bias },
          'sysfs GPIO cannot set bias; set it in the firmware (Pi: gpio=<n>=ip,pu|pd in config.txt)',
        );
      }
      const { Gpio } = await this.#loadOnoff();
      // Debouncing needs every transition, whatever the reported edge: the filter is applied on settle.
      const kernelEdge: GpioEdge = opts.debounceMs > 0 && opts.edge !== 'none' ? 'both' : opts.edge;
      // Edge `none` is not written at all: a line that cannot interrupt has no `edge` attribute.
      const edgeArg = kernelEdge === 'none' ? undefined : kernelEdge;
      const gpio = construct(ref, () => new Gpio(number, 'in', edgeArg, { activeLow: opts.activeLow }));
      const handle: LinuxInput = new LinuxInput(ref, gpio, this.#clock, opts, () =>
        this.#lines.release(ref, handle),
      );
      return handle;
    });
  }

  async close(): Promise<void> {
    await this.#lines.closeAll();
  }

  #loadOnoff(): Promise<Onoff> {
    this.#onoff ??= import('onoff');
    return this.#onoff;
  }
}

/** onoff exports and configures synchronously and throws errno errors; name the line in them. */
function construct(ref: GpioLineRef, make: () => OnoffGpio): OnoffGpio {
  try {
    return make();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EBUSY') {
      throw new GpioError(
        'EBUSY',
        `gpio ${formatLine(ref)} is in use (by a kernel driver or another process)`,
        {
          line: ref,
        },
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new GpioError(
        'ENOGPIO',
        `gpio ${formatLine(ref)}: no permission on /sys/class/gpio (add the user to the gpio group)`,
        { line: ref },
        { cause: error },
      );
    }
    if (code === 'ENOENT') {
      throw new GpioError(
        'ENOGPIO',
        `gpio ${formatLine(ref)}: /sys/class/gpio/export does not exist`,
        { line: ref },
        { cause: error },
      );
    }
    throw error;
  }
}

function assertOpen(open: boolean, ref: GpioLineRef): void {
  if (!open) throw new GpioError('ECLOSED', `gpio ${formatLine(ref)} is closed`, { line: ref });
}

class LinuxOutput implements GpioOutput {
  readonly direction = 'out';
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  readonly #gpio: OnoffGpio;
  readonly #onClose: () => void;
  #open = true;

  constructor(ref: GpioLineRef, gpio: OnoffGpio, activeLow: boolean, onClose: () => void) {
    this.ref = ref;
    this.activeLow = activeLow;
    this.#gpio = gpio;
    this.#onClose = onClose;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async read(): Promise<GpioLevel> {
    assertOpen(this.#open, this.ref);
    const value = await this.#gpio.read().finally(() => assertOpen(this.#open, this.ref));
    return value;
  }

  async write(value: GpioLevel): Promise<void> {
    checkLevel(value);
    assertOpen(this.#open, this.ref);
    await this.#gpio.write(value).finally(() => assertOpen(this.#open, this.ref));
  }

  /** Not part of `GpioOutput`: a clear error for JavaScript callers and casts. */
  watch(): never {
    throw new TypeError(
      `gpio ${formatLine(this.ref)} is an output: watch needs a line opened with openInput`,
    );
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    unexport(this.#gpio);
    this.#onClose();
  }
}

class LinuxInput implements GpioInput {
  readonly direction = 'in';
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  readonly edge: GpioEdge;
  readonly debounceMs: number;
  readonly #gpio: OnoffGpio;
  readonly #clock: Clock;
  readonly #onClose: () => void;
  readonly #listeners = new EdgeListeners();
  #debouncer: Debouncer | undefined;
  #watching = false;
  #open = true;

  constructor(
    ref: GpioLineRef,
    gpio: OnoffGpio,
    clock: Clock,
    opts: Required<GpioInputOptions>,
    onClose: () => void,
  ) {
    this.ref = ref;
    this.activeLow = opts.activeLow;
    this.edge = opts.edge;
    this.debounceMs = opts.debounceMs;
    this.#gpio = gpio;
    this.#clock = clock;
    this.#onClose = onClose;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async read(): Promise<GpioLevel> {
    assertOpen(this.#open, this.ref);
    const value = await this.#gpio.read().finally(() => assertOpen(this.#open, this.ref));
    return value;
  }

  watch(listener: GpioEdgeListener, onError?: (error: Error) => void): () => void {
    if (this.edge === 'none') {
      throw new TypeError(`gpio ${formatLine(this.ref)} was opened with edge 'none': nothing to watch`);
    }
    assertOpen(this.#open, this.ref);
    const remove = this.#listeners.add(listener, onError);
    if (!this.#watching) this.#startWatching();
    return remove;
  }

  /** Not part of `GpioInput`: a clear error for JavaScript callers and casts. */
  async write(_value: GpioLevel): Promise<never> {
    throw new TypeError(
      `gpio ${formatLine(this.ref)} is an input: write needs a line opened with openOutput`,
    );
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#listeners.clear();
    this.#debouncer?.cancel();
    unexport(this.#gpio); // also removes onoff's epoll watch
    this.#onClose();
  }

  #startWatching(): void {
    this.#watching = true;
    if (this.debounceMs > 0) {
      this.#debouncer = new Debouncer({
        clock: this.#clock,
        debounceMs: this.debounceMs,
        edge: this.edge,
        initial: this.#gpio.readSync(),
        sample: () => this.#gpio.readSync(),
        emit: (e) => this.#listeners.emit(e),
        onError: (e) => this.#listeners.error(e),
      });
    }
    this.#gpio.watch((err, value) => {
      if (!this.#open) return;
      if (err) {
        this.#listeners.error(err);
        return;
      }
      const now = this.#clock.monotonicMs();
      if (this.#debouncer) this.#debouncer.change(now);
      else this.#listeners.emit({ value, monoMs: now });
    });
  }
}

function unexport(gpio: OnoffGpio): void {
  try {
    gpio.unexport();
  } catch {
    // Close never fails (types.ts): the fd is closed first, and an unexport the kernel refuses
    // (a line already unexported by someone else) leaves nothing for the caller to do.
  }
}
