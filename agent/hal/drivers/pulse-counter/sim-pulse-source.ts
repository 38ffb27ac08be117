/**
 * A simulated pulse source (a flow meter's hall sensor, a meter's reed contact) on the device side of
 * a simulated GPIO line: it rests at its idle level (0 for rising-edge pulses, 1 for falling-edge ones)
 * and emits pulses at a mean `pulsesPerS` with 5 % normal jitter, each one a full excursion from idle
 * and back. Time moves only when the owner calls `step(dtS)`: the pulses owed for that interval are
 * delivered then, in a batch (the simulated world steps it every world step).
 */
import type { SimLine } from '../../gpio/sim.js';
import type { Random } from '../../sim/random.js';

export interface SimPulseSourceOptions {
  /** Pulses idle high and go low (the counter counts falling edges). */
  readonly fallingEdge: boolean;
  /** Mean pulse frequency, Hz. */
  readonly pulsesPerS: number;
  /** The jitter's random numbers (the world's seeded source, so a run is reproducible). */
  readonly random: Random;
}

export class SimPulseSource {
  readonly #line: SimLine;
  readonly #idle: 0 | 1;
  readonly #pulsesPerS: number;
  readonly #random: Random;
  #owedPulses = 0;

  constructor(line: SimLine, options: SimPulseSourceOptions) {
    if (!(options.pulsesPerS >= 0)) throw new TypeError(`pulsesPerS must be >= 0, got ${options.pulsesPerS}`);
    this.#line = line;
    this.#idle = options.fallingEdge ? 1 : 0;
    this.#pulsesPerS = options.pulsesPerS;
    this.#random = options.random;
    line.drive(this.#idle);
  }

  /** Delivers the pulses owed for the next `dtS` seconds. */
  step(dtS: number): void {
    this.#owedPulses += dtS * this.#pulsesPerS * (1 + 0.05 * this.#random.normal());
    for (; this.#owedPulses >= 1; this.#owedPulses--) {
      this.#line.drive(this.#idle ? 0 : 1);
      this.#line.drive(this.#idle);
    }
  }
}
