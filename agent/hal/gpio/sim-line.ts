/**
 * One simulated GPIO line: its electrical state (`Wire`, shared by the simulator's handles) and its
 * device side (`SimLine`), which is what a plant model or a test holds — the level on the wire, what
 * the agent wrote, and `drive()` for signals coming in. Levels here are electrical, never inverted.
 */
import { checkLevel } from './check-options.js';
import { callSafely } from './edge-listeners.js';
import { formatLine, GpioError } from './errors.js';
import type { GpioBias, GpioEdge, GpioLevel, GpioLine, GpioLineRef } from './types.js';

/** One level the agent drove onto an output (the initial level at open counts). */
export interface SimWrite {
  readonly level: GpioLevel;
  readonly monoMs: number;
}

export type SimWriteListener = (level: GpioLevel, monoMs: number) => void;

/** Bound on the kept write history; a relay toggling every second fills it in under three hours. */
const MAX_WRITES = 10_000;

/** The electrical state of one line, shared by its device side and the handle that has it open (internal). */
export class Wire {
  readonly ref: GpioLineRef;
  direction: 'in' | 'out' = 'in';
  outputLevel: GpioLevel = 0;
  driven: GpioLevel | undefined;
  bias: GpioBias = 'as-is';
  handle: (GpioLine & { readonly watcherCount?: number }) | undefined;
  /** Set by an open input: the level changed. */
  onTransition: (() => void) | undefined;
  /** Set by `SimLine.failWrites`: what the agent's next writes throw. */
  writeFault: Error | undefined;
  readonly writes: SimWrite[] = [];
  readonly writeListeners = new Set<SimWriteListener>();

  constructor(ref: GpioLineRef) {
    this.ref = ref;
  }

  get level(): GpioLevel {
    if (this.direction === 'out') return this.outputLevel;
    // An undriven input reads its pull; with no pull it floats, which the simulator calls low.
    return this.driven ?? (this.bias === 'pull-up' ? 1 : 0);
  }

  /** An external change (drive, release, a new bias): tells an open input when the level moved. */
  external(change: () => void): void {
    const before = this.level;
    change();
    if (this.level !== before) this.onTransition?.();
  }

  output(level: GpioLevel, monoMs: number): void {
    this.direction = 'out';
    this.outputLevel = level;
    this.writes.push({ level, monoMs });
    if (this.writes.length > MAX_WRITES) this.writes.splice(0, this.writes.length - MAX_WRITES);
    for (const l of [...this.writeListeners]) callSafely(() => l(level, monoMs));
  }
}

/** The device side of one simulated line. */
export class SimLine {
  readonly #wire: Wire;

  constructor(wire: Wire) {
    this.#wire = wire;
  }

  get ref(): GpioLineRef {
    return this.#wire.ref;
  }

  /** Electrical level now: what an output drives, or what drives an input (its pull when undriven). */
  get value(): GpioLevel {
    return this.#wire.level;
  }

  /** As last configured; a line never opened is an input, and a closed output keeps driving. */
  get direction(): 'in' | 'out' {
    return this.#wire.direction;
  }

  get isOpen(): boolean {
    return this.#wire.handle !== undefined;
  }

  /** Of the open handle; `undefined` when the line is not open. */
  get activeLow(): boolean | undefined {
    return this.#wire.handle?.activeLow;
  }

  /** Edge filter of the open input; `undefined` when not open as an input. */
  get edge(): GpioEdge | undefined {
    const h = this.#wire.handle;
    return h?.direction === 'in' ? h.edge : undefined;
  }

  get debounceMs(): number | undefined {
    const h = this.#wire.handle;
    return h?.direction === 'in' ? h.debounceMs : undefined;
  }

  get bias(): GpioBias {
    return this.#wire.bias;
  }

  /** Number of watchers on the open input (0 when closed). */
  get watcherCount(): number {
    const h = this.#wire.handle;
    return h?.direction === 'in' ? (h.watcherCount ?? 0) : 0;
  }

  /** Electrical level of the agent's last write, `undefined` if it never drove the line. */
  get lastWrite(): GpioLevel | undefined {
    return this.#wire.writes.at(-1)?.level;
  }

  /** Every level the agent drove, oldest first (the last 10 000). */
  get writes(): readonly SimWrite[] {
    return [...this.#wire.writes];
  }

  /** Follows the agent's writes (electrical level) — how a plant model sees a heater relay. */
  onWrite(listener: SimWriteListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#wire.writeListeners.add(listener);
    return () => this.#wire.writeListeners.delete(listener);
  }

  /**
   * Drives the line from outside (a switch, a sensor's output) to an electrical level. An open input
   * sees the transition at once, through its edge filter and debounce. Throws if the agent has
   * configured the line as an output: two drivers on one wire is a short, not a test.
   */
  drive(level: GpioLevel): void {
    checkLevel(level, 'level');
    if (this.#wire.direction === 'out') {
      throw new GpioError('EBUSY', `sim gpio ${formatLine(this.ref)} is an output driven by the agent`, {
        line: this.ref,
      });
    }
    this.#wire.external(() => {
      this.#wire.driven = level;
    });
  }

  /**
   * Makes the agent's writes to this line fail with `error` (a dead expander answers EIO) until
   * called with `undefined`. The line keeps the level it had.
   */
  failWrites(error: Error | undefined): void {
    this.#wire.writeFault = error;
  }

  /** Stops driving: the line falls back to its pull (low when none). */
  release(): void {
    this.#wire.external(() => {
      this.#wire.driven = undefined;
    });
  }
}
