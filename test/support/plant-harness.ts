/**
 * A heated chamber as a device for control-loop tests: the loop's output point is the heater (a writable
 * point whose write handler records what reached it), its input point is the chamber's temperature
 * sensor, and a `ThermalPlant` in between advances every `stepMs` of the clock with the heater's current
 * value — a relay's on/off, or a number scaled by `fullScale` to a 0–1 duty — then reports what the
 * sensor reads. It stands where the sim board's relay and BME280 stand; it is not a mock of our modules.
 */
import type { Clock, TimerHandle } from '../../agent/core/clock.js';
import type { PointTable, PointValue } from '../../agent/core/points.js';
import type { ThermalPlant } from '../../agent/hal/sim/thermal-plant.js';

export interface HeaterWrite {
  readonly value: PointValue;
  readonly source: string;
  readonly monoMs: number;
}

export interface PlantHarnessOptions {
  readonly clock: Clock;
  readonly points: PointTable;
  readonly plant: ThermalPlant;
  /** The sensor point (declared here, read-only). */
  readonly input: string;
  /** The heater point (declared here, writable). */
  readonly output: string;
  /** Plant integration step and sensor report period. Default 100 ms. */
  readonly stepMs?: number;
  /** The numeric output value that means full power. Default 1. */
  readonly fullScale?: number;
  /** The sensor point goes stale after this long without a report (with `sweepStale`). Default 3 s. */
  readonly staleAfterMs?: number;
}

export class PlantHarness {
  readonly plant: ThermalPlant;
  /** Every write that reached the heater, in order. */
  readonly writes: HeaterWrite[] = [];
  /** While false the sensor is silent (the device stopped answering); the plant keeps running. */
  reporting = true;
  readonly #options: PlantHarnessOptions;
  readonly #stepMs: number;
  #timer: TimerHandle | undefined;

  constructor(options: PlantHarnessOptions) {
    this.#options = options;
    this.plant = options.plant;
    this.#stepMs = options.stepMs ?? 100;
    const { points, input, output, clock } = options;
    points.declare({ name: input, unit: 'Cel', staleAfterMs: options.staleAfterMs ?? 3000 });
    points.declare({ name: output, writable: true });
    points.onWrite(output, async (value, source) => {
      this.writes.push({ value, source, monoMs: clock.monotonicMs() });
    });
  }

  /** The heater's duty (0–1) as the plant receives it. */
  get duty(): number {
    const value = this.#options.points.get(this.#options.output)?.value;
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'number') return value / (this.#options.fullScale ?? 1);
    return 0;
  }

  /** The heater's writes by `source` (the loop is `loop:<name>`), values only. */
  writesBy(source: string): PointValue[] {
    return this.writes.filter((w) => w.source === source).map((w) => w.value);
  }

  start(): void {
    this.#timer ??= this.#options.clock.setInterval(() => this.#tick(), this.#stepMs);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** The sensor reports a failure (bad CRC, NACK): the point's quality becomes `fault`. */
  fault(): void {
    this.#options.points.setQuality(this.#options.input, 'fault');
  }

  #tick(): void {
    this.plant.step(this.#stepMs / 1000, this.duty);
    if (this.reporting) {
      this.#options.points.update(this.#options.input, this.plant.measure().temperatureC, 'sim:chamber');
    }
  }
}
