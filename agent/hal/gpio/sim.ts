/**
 * A simulated GPIO bus that behaves like the sysfs one: it has gpiochips with labels and line counts
 * (so a wrong label or offset fails exactly as on a Pi), claims lines (EBUSY), models close, applies
 * `activeLow`, edge filtering and debounce (the same `Debouncer` as the Linux backend, on the injected
 * clock), and keeps all state per instance. Its *device side* is the wire: `sim.line(chip, offset)`
 * gives the electrical level, the history of what the agent wrote (so a plant model can follow a heater
 * relay) and `drive()` for signals coming into an input (a door contact, a flow meter's pulses).
 * Device-side levels are electrical: a handle opened with `activeLow` reads and writes the inverse.
 */
import type { Clock } from '../../core/clock.js';
import { checkInputOptions, checkLevel, checkLineRef, checkOutputOptions } from './check-options.js';
import { Debouncer, matchesEdge } from './debouncer.js';
import { EdgeListeners } from './edge-listeners.js';
import { formatLine, GpioError } from './errors.js';
import { findLine } from './resolve-line.js';
import { SimLine, Wire } from './sim-line.js';
import type {
  GpioBackend,
  GpioChipInfo,
  GpioEdge,
  GpioEdgeListener,
  GpioInput,
  GpioInputOptions,
  GpioLevel,
  GpioLine,
  GpioLineRef,
  GpioOutput,
  GpioOutputOptions,
} from './types.js';

export { SimLine, type SimWrite, type SimWriteListener } from './sim-line.js';

export interface SimGpioChip {
  readonly label: string;
  readonly ngpio: number;
}

export interface SimGpioDeps {
  readonly clock: Clock;
  /** The board's chips, in kernel registration order (bases are assigned from 512 upward, as Linux ≥ 6.6 does). */
  readonly chips: readonly SimGpioChip[];
}

const FIRST_DYNAMIC_BASE = 512;
export class SimGpio implements GpioBackend {
  readonly kind = 'sim';
  readonly #clock: Clock;
  readonly #chips: readonly GpioChipInfo[];
  readonly #wires = new Map<string, { wire: Wire; line: SimLine }>();
  readonly #open = new Set<GpioLine>();

  constructor(deps: SimGpioDeps) {
    if (!deps?.clock) throw new TypeError('clock is required');
    if (!Array.isArray(deps.chips)) throw new TypeError('chips must be an array of { label, ngpio }');
    let base = FIRST_DYNAMIC_BASE;
    this.#chips = deps.chips.map((c, i) => {
      if (typeof c?.label !== 'string' || c.label.length === 0)
        throw new TypeError(`chips[${i}].label must be a label`);
      if (!Number.isInteger(c.ngpio) || c.ngpio < 1)
        throw new TypeError(`chips[${i}].ngpio must be an integer >= 1`);
      const chip = { label: c.label, base, ngpio: c.ngpio };
      base += c.ngpio;
      return chip;
    });
    this.#clock = deps.clock;
  }

  async listChips(): Promise<GpioChipInfo[]> {
    return this.#chips.map((c) => ({ ...c }));
  }

  /** The device side of a line; throws `GpioError` for a label or offset the board does not have. */
  line(chip: string, offset: number): SimLine;
  line(ref: GpioLineRef): SimLine;
  line(chipOrRef: string | GpioLineRef, offset?: number): SimLine {
    const ref = typeof chipOrRef === 'string' ? { chip: chipOrRef, offset: offset as number } : chipOrRef;
    return this.#entry(ref).line;
  }

  /**
   * Wires output `from` to input `to` (a loopback jumper): every level the agent drives on `from`
   * drives `to`. Returns the function that removes the jumper.
   */
  connect(from: GpioLineRef, to: GpioLineRef): () => void {
    const source = this.#entry(from).wire;
    const target = this.#entry(to);
    const follow = (level: GpioLevel) => {
      if (target.wire.direction === 'in') target.line.drive(level);
    };
    if (source.direction === 'out') follow(source.level);
    source.writeListeners.add(follow);
    return () => source.writeListeners.delete(follow);
  }

  async openOutput(ref: GpioLineRef, options: GpioOutputOptions): Promise<GpioOutput> {
    const opts = checkOutputOptions(options);
    const wire = this.#claim(ref);
    const handle = new SimOutput(wire, this.#clock, opts.activeLow, () => this.#release(handle));
    wire.handle = handle;
    this.#open.add(handle);
    wire.output(physical(opts.initial, opts.activeLow), this.#clock.monotonicMs());
    return handle;
  }

  async openInput(ref: GpioLineRef, options?: GpioInputOptions): Promise<GpioInput> {
    const opts = checkInputOptions(options);
    const wire = this.#claim(ref);
    wire.external(() => {
      wire.direction = 'in';
      if (opts.bias !== 'as-is') wire.bias = opts.bias;
    });
    const handle = new SimInput(wire, this.#clock, opts, () => this.#release(handle));
    wire.handle = handle;
    this.#open.add(handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#open].map((h) => h.close()));
  }

  #entry(ref: GpioLineRef): { wire: Wire; line: SimLine } {
    checkLineRef(ref);
    findLine(this.#chips, ref);
    const key = formatLine(ref);
    let entry = this.#wires.get(key);
    if (!entry) {
      const wire = new Wire({ chip: ref.chip, offset: ref.offset });
      entry = { wire, line: new SimLine(wire) };
      this.#wires.set(key, entry);
    }
    return entry;
  }

  #claim(ref: GpioLineRef): Wire {
    const { wire } = this.#entry(ref);
    if (wire.handle) {
      throw new GpioError('EBUSY', `gpio ${formatLine(ref)} is already open`, { line: wire.ref });
    }
    return wire;
  }

  #release(handle: GpioLine): void {
    this.#open.delete(handle);
  }
}

function physical(logical: GpioLevel, activeLow: boolean): GpioLevel {
  return activeLow ? ((1 - logical) as GpioLevel) : logical;
}

class SimOutput implements GpioOutput {
  readonly direction = 'out';
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  readonly #wire: Wire;
  readonly #clock: Clock;
  readonly #onClose: () => void;
  #open = true;

  constructor(wire: Wire, clock: Clock, activeLow: boolean, onClose: () => void) {
    this.ref = wire.ref;
    this.activeLow = activeLow;
    this.#wire = wire;
    this.#clock = clock;
    this.#onClose = onClose;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  async read(): Promise<GpioLevel> {
    await this.#settle();
    return physical(this.#wire.outputLevel, this.activeLow);
  }

  async write(value: GpioLevel): Promise<void> {
    checkLevel(value);
    await this.#settle();
    if (this.#wire.writeFault) throw this.#wire.writeFault;
    this.#wire.output(physical(value, this.activeLow), this.#clock.monotonicMs());
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
    this.#wire.handle = undefined;
    this.#onClose();
  }

  /** Like a sysfs read, the operation completes after the caller's turn: a `close()` meanwhile wins. */
  async #settle(): Promise<void> {
    assertOpen(this.#open, this.ref);
    await Promise.resolve();
    assertOpen(this.#open, this.ref);
  }
}

class SimInput implements GpioInput {
  readonly direction = 'in';
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  readonly edge: GpioEdge;
  readonly debounceMs: number;
  readonly #wire: Wire;
  readonly #clock: Clock;
  readonly #onClose: () => void;
  readonly #listeners = new EdgeListeners();
  readonly #debouncer: Debouncer | undefined;
  #open = true;

  constructor(wire: Wire, clock: Clock, opts: Required<GpioInputOptions>, onClose: () => void) {
    this.ref = wire.ref;
    this.activeLow = opts.activeLow;
    this.edge = opts.edge;
    this.debounceMs = opts.debounceMs;
    this.#wire = wire;
    this.#clock = clock;
    this.#onClose = onClose;
    if (opts.edge !== 'none' && opts.debounceMs > 0) {
      this.#debouncer = new Debouncer({
        clock,
        debounceMs: opts.debounceMs,
        edge: opts.edge,
        initial: this.#logical(),
        sample: () => this.#logical(),
        emit: (e) => this.#listeners.emit(e),
        onError: (e) => this.#listeners.error(e),
      });
    }
    wire.onTransition = () => this.#transition();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  get watcherCount(): number {
    return this.#listeners.size;
  }

  async read(): Promise<GpioLevel> {
    assertOpen(this.#open, this.ref);
    await Promise.resolve();
    assertOpen(this.#open, this.ref);
    return this.#logical();
  }

  watch(listener: GpioEdgeListener, onError?: (error: Error) => void): () => void {
    if (this.edge === 'none') {
      throw new TypeError(`gpio ${formatLine(this.ref)} was opened with edge 'none': nothing to watch`);
    }
    assertOpen(this.#open, this.ref);
    return this.#listeners.add(listener, onError);
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
    this.#wire.onTransition = undefined;
    this.#wire.handle = undefined;
    this.#onClose();
  }

  #logical(): GpioLevel {
    return physical(this.#wire.level, this.activeLow);
  }

  #transition(): void {
    const now = this.#clock.monotonicMs();
    if (this.#debouncer) {
      this.#debouncer.change(now);
      return;
    }
    const value = this.#logical();
    if (matchesEdge(this.edge, value)) this.#listeners.emit({ value, monoMs: now });
  }
}

function assertOpen(open: boolean, ref: GpioLineRef): void {
  if (!open) throw new GpioError('ECLOSED', `gpio ${formatLine(ref)} is closed`, { line: ref });
}
