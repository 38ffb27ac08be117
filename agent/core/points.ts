/**
 * The process image: every named value the agent knows, like a PLC's I/O table. Drivers update
 * sensor points; loops, rules and commands write writable points, and the write reaches the device
 * through the handler its driver registered. Telemetry, the console and rules observe by subscribing.
 *
 * A point carries its value, SenML unit, wall and monotonic timestamps and a quality:
 *  - `good`  — fresh, from a device that answered correctly;
 *  - `stale` — no update within the point's `staleAfterMs` (the device went quiet);
 *  - `fault` — the device failed repeatedly (bad CRC, NACK, gone); the last value is kept for
 *    diagnostics but must not be acted on.
 */
import type { Clock } from './clock.js';
import { PointError } from './errors.js';
import type { SenmlUnit } from './senml-units.js';

export type Quality = 'good' | 'stale' | 'fault';
export type PointValue = number | boolean | string;

export interface PointDecl {
  /** Dotted name, e.g. `chamber.temp`. */
  readonly name: string;
  readonly unit?: SenmlUnit | undefined;
  /** Loops, rules and commands may write it (an actuator or a setpoint). */
  readonly writable?: boolean;
  /** After this long without an update a `good` point becomes `stale` (0 or absent: never). */
  readonly staleAfterMs?: number | undefined;
  readonly description?: string | undefined;
  /** Writes outside `[min, max]` are refused (`EOUT_OF_RANGE`): a setpoint's sane range. */
  readonly limits?: { readonly min: number; readonly max: number } | undefined;
}

export interface PointSnapshot {
  readonly name: string;
  readonly unit: SenmlUnit | undefined;
  readonly writable: boolean;
  /** `undefined` until the first update. */
  readonly value: PointValue | undefined;
  readonly quality: Quality;
  /** Wall-clock time of the last update (POSIX ms), 0 before the first. */
  readonly wallMs: number;
  /** Monotonic time of the last update, 0 before the first. */
  readonly monoMs: number;
  /** Who wrote it last: a driver id, `loop:<name>`, `console:<user>`, … */
  readonly source: string | undefined;
  /** The owner of a force (an interlock) holding this point, if any. */
  readonly forcedBy: string | undefined;
}

export type PointListener = (point: PointSnapshot, previous: PointSnapshot) => void;
/** Applies a write to the hardware; rejects if the device refused it (the point keeps its old value). */
export type WriteHandler = (value: PointValue, source: string) => Promise<void>;

interface PointState extends PointSnapshot {
  readonly staleAfterMs: number;
  readonly limits: PointDecl['limits'];
}

interface Force {
  readonly owner: string;
  readonly value: PointValue;
}

export class PointTable {
  readonly #clock: Clock;
  readonly #points = new Map<string, PointState>();
  readonly #listeners = new Map<string, Set<PointListener>>();
  readonly #anyListeners = new Set<PointListener>();
  readonly #writeHandlers = new Map<string, WriteHandler>();
  /** Active forces per point, oldest first; the newest one holds the point. */
  readonly #forces = new Map<string, Force[]>();

  readonly #onListenerError: (error: unknown, point: string) => void;

  constructor(deps: { clock: Clock; onListenerError?: (error: unknown, point: string) => void }) {
    this.#clock = deps.clock;
    this.#onListenerError =
      deps.onListenerError ??
      ((e) =>
        queueMicrotask(() => {
          throw e;
        }));
  }

  declare(decl: PointDecl): void {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(decl.name)) {
      throw new TypeError(
        `point name must be dotted words of [A-Za-z0-9_-], got ${JSON.stringify(decl.name)}`,
      );
    }
    if (this.#points.has(decl.name)) {
      throw new PointError('EDUPLICATE_POINT', decl.name, `point ${decl.name} is declared twice`);
    }
    this.#points.set(decl.name, {
      name: decl.name,
      unit: decl.unit,
      writable: decl.writable ?? false,
      value: undefined,
      quality: 'stale',
      wallMs: 0,
      monoMs: 0,
      source: undefined,
      forcedBy: undefined,
      staleAfterMs: decl.staleAfterMs ?? 0,
      limits: decl.limits,
    });
  }

  has(name: string): boolean {
    return this.#points.has(name);
  }

  get(name: string): PointSnapshot | undefined {
    const p = this.#points.get(name);
    return p && snapshot(p);
  }

  /** The value of a `good` point, or `undefined` when it is unknown, stale or faulted. */
  goodValue(name: string): PointValue | undefined {
    const p = this.#points.get(name);
    return p?.quality === 'good' ? p.value : undefined;
  }

  list(): PointSnapshot[] {
    return [...this.#points.values()].map(snapshot).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A new reading from the point's producer (a driver): value, now, quality `good` unless told. */
  update(name: string, value: PointValue, source: string, quality: Quality = 'good'): void {
    const p = this.#require(name);
    checkValue(name, value);
    this.#set(p, { value, quality, source, wallMs: this.#clock.nowMs(), monoMs: this.#clock.monotonicMs() });
  }

  /** Changes only the quality (a device faulted or went quiet); the last value is kept. */
  setQuality(name: string, quality: Quality): void {
    const p = this.#require(name);
    if (p.quality !== quality) this.#set(p, { quality });
  }

  /** The producer of a writable point registers how to apply writes (one handler per point). */
  onWrite(name: string, handler: WriteHandler): () => void {
    const p = this.#require(name);
    if (!p.writable) throw new PointError('EREADONLY', name, `point ${name} is not writable`);
    if (this.#writeHandlers.has(name)) throw new TypeError(`point ${name} already has a write handler`);
    this.#writeHandlers.set(name, handler);
    return () => this.#writeHandlers.delete(name);
  }

  /**
   * Writes a writable point: the handler (if any) applies it to the device first; only when that
   * succeeds does the table hold the new value. A point without a handler is a pure software value
   * (a setpoint) and takes the write at once. A forced point refuses writes (`EFORCED`) from anyone
   * but its force's owner: an interlock outranks loops, rules and technicians alike.
   */
  async write(name: string, value: PointValue, source: string): Promise<void> {
    this.checkWrite(name, value, source);
    await this.#apply(this.#require(name), value, source);
  }

  /** Throws what `write` would refuse (unknown, read-only, a bad value, forced), writing nothing. */
  checkWrite(name: string, value: PointValue, source: string): void {
    const p = this.#require(name);
    if (!p.writable) throw new PointError('EREADONLY', name, `point ${name} is not writable`);
    checkValue(name, value);
    const { limits } = p;
    if (limits && typeof value === 'number' && (value < limits.min || value > limits.max)) {
      throw new PointError(
        'EOUT_OF_RANGE',
        name,
        `point ${name}: ${value} is outside its limits [${limits.min}, ${limits.max}]`,
      );
    }
    const force = this.#forces.get(name)?.at(-1);
    if (force && force.owner !== source) {
      throw new PointError(
        'EFORCED',
        name,
        `point ${name} is forced by ${force.owner}; write from ${source} refused`,
      );
    }
  }

  /**
   * Forces a writable point to `value` on behalf of `owner` (an interlock) until `release(name,
   * owner)`. Several owners may force one point; the newest holds it, and on its release the next
   * newest value is applied again. Rejects if the device refuses the value (the force still stands:
   * it is re-applied on the next force or release).
   */
  async force(name: string, value: PointValue, owner: string): Promise<void> {
    const p = this.#require(name);
    if (!p.writable) throw new PointError('EREADONLY', name, `point ${name} is not writable`);
    checkValue(name, value);
    const forces = (this.#forces.get(name) ?? []).filter((f) => f.owner !== owner);
    forces.push({ owner, value });
    this.#forces.set(name, forces);
    await this.#apply(p, value, owner);
  }

  /** Ends `owner`'s force on a point. The value stays until the next write (or the next force). */
  async release(name: string, owner: string): Promise<void> {
    const p = this.#require(name);
    const forces = (this.#forces.get(name) ?? []).filter((f) => f.owner !== owner);
    if (forces.length > 0) this.#forces.set(name, forces);
    else this.#forces.delete(name);
    const next = forces.at(-1);
    if (next) await this.#apply(p, next.value, next.owner);
    else if (p.forcedBy !== undefined) this.#set(p, { forcedBy: undefined });
  }

  async #apply(p: PointState, value: PointValue, source: string): Promise<void> {
    await this.#writeHandlers.get(p.name)?.(value, source);
    const current = this.#points.get(p.name) ?? p;
    this.#set(current, {
      value,
      quality: 'good',
      source,
      wallMs: this.#clock.nowMs(),
      monoMs: this.#clock.monotonicMs(),
      forcedBy: this.#forces.get(p.name)?.at(-1)?.owner,
    });
  }

  /** Observe one point, or every point with `'*'`. Returns the unsubscribe function. */
  subscribe(name: string, listener: PointListener): () => void {
    if (name === '*') {
      this.#anyListeners.add(listener);
      return () => this.#anyListeners.delete(listener);
    }
    this.#require(name);
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Marks `good` points whose last update is older than their `staleAfterMs`. Call periodically. */
  sweepStale(): void {
    const now = this.#clock.monotonicMs();
    for (const p of this.#points.values()) {
      if (p.quality === 'good' && p.staleAfterMs > 0 && now - p.monoMs > p.staleAfterMs) {
        this.#set(p, { quality: 'stale' });
      }
    }
  }

  #require(name: string): PointState {
    const p = this.#points.get(name);
    if (!p) throw new PointError('EUNKNOWN_POINT', name, `unknown point ${name}`);
    return p;
  }

  #set(p: PointState, change: Partial<PointState>): void {
    const previous = snapshot(p);
    const next: PointState = { ...p, ...change };
    this.#points.set(p.name, next);
    const current = snapshot(next);
    // Listeners may throw; one faulty observer must not stop the others or the producer.
    for (const l of [...(this.#listeners.get(p.name) ?? []), ...this.#anyListeners]) {
      try {
        l(current, previous);
      } catch (e) {
        this.#onListenerError(e, p.name);
      }
    }
  }
}

function snapshot(p: PointState): PointSnapshot {
  return {
    name: p.name,
    unit: p.unit,
    writable: p.writable,
    value: p.value,
    quality: p.quality,
    wallMs: p.wallMs,
    monoMs: p.monoMs,
    source: p.source,
    forcedBy: p.forcedBy,
  };
}

function checkValue(name: string, value: PointValue): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new PointError('EBAD_VALUE', name, `point ${name}: value must be finite, got ${value}`);
  }
}
