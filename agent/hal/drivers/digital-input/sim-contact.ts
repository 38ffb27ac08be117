/**
 * A simulated contact (a door switch, a float switch) on the device side of a simulated GPIO line: it
 * holds the line open (0) and, given `toggleEveryS`, closes it (1) for the last `activeForS` of every
 * period (default the lesser of 5 s and half the period) — a door opened now and then. Time moves only
 * when the owner calls `step(dtS)` (the simulated world does, every world step); without a period the
 * contact stays open. `onChange` hears every level it drives.
 */

import type { SimLine } from '../../gpio/sim.js';
import type { GpioLevel } from '../../gpio/types.js';

export interface SimContactOptions {
  /** Period of the open/close cycle, s; absent: the contact stays open. */
  readonly toggleEveryS?: number | undefined;
  /** How long it is closed in each period, s. */
  readonly activeForS?: number | undefined;
  readonly onChange?: ((level: GpioLevel) => void) | undefined;
}

export class SimContact {
  readonly #line: SimLine;
  readonly #everyS: number | undefined;
  readonly #forS: number;
  readonly #onChange: ((level: GpioLevel) => void) | undefined;
  #phaseS = 0;

  constructor(line: SimLine, options: SimContactOptions = {}) {
    const everyS = options.toggleEveryS;
    if (everyS !== undefined && !(everyS > 0)) throw new TypeError(`toggleEveryS must be > 0, got ${everyS}`);
    this.#line = line;
    this.#everyS = everyS;
    this.#forS = options.activeForS ?? Math.min(5, (everyS ?? 0) / 2);
    this.#onChange = options.onChange;
    line.drive(0);
  }

  /** Advances the contact's schedule by `dtS` seconds, driving the line when its level changes. */
  step(dtS: number): void {
    const everyS = this.#everyS;
    if (!everyS) return;
    this.#phaseS = (this.#phaseS + dtS) % everyS;
    const level = this.#phaseS >= everyS - this.#forS ? 1 : 0;
    if (this.#line.value !== level) {
      this.#line.drive(level);
      this.#onChange?.(level);
    }
  }
}
