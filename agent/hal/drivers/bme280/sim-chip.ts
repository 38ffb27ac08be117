/**
 * A simulated Bosch BME280 with the real register map (datasheet BST-BME280-DS002 §5.3): chip id
 * 0xD0, soft reset 0xE0, calibration 0x88–0xA1 and 0xE1–0xE7, ctrl_hum 0xF2 (takes effect only at
 * the next ctrl_meas write, §5.4.3), status 0xF3, ctrl_meas 0xF4, config 0xF5 (ignored in normal mode,
 * §5.4.6) and data 0xF7–0xFE, which read 0x80000 / 0x8000 after reset and for a skipped measurement.
 *
 * `setEnvironment` only stores the physical values, so a plant model may call it every tick. When a
 * measurement completes, the chip finds the ADC codes the datasheet's own compensation (§8.1, shared
 * with the driver) maps closest to them — by bisection, the formulas being monotonic in each code —
 * then rounds them to the resolution the oversampling gives (16 + osrs − 1 bits, 20 with the IIR
 * filter on, §3.4.2–3.4.3). With a clock, forced measurements take the typical time of §9.1 and
 * `status.measuring` is set meanwhile; without one they complete at once. The IIR filter's smoothing
 * and normal mode's standby cadence are not modelled: in normal mode the data follow the environment.
 */
import type { Clock } from '../../../core/clock.js';
import { SimRegisterChip } from '../../i2c/sim-register-chip.js';
import {
  BME280_CALIB_H_REG,
  BME280_CALIB_TP_REG,
  type Bme280Calibration,
  compensateHumidity,
  compensatePressure,
  compensateTemperature,
  encodeBme280Calibration,
} from './compensation.js';

export interface Bme280Environment {
  readonly temperatureC: number;
  readonly humidityPct: number;
  readonly pressurePa: number;
}

/**
 * Temperature and pressure trims of the datasheet's worked example (BMP280 datasheet §3.12, which
 * the BME280 shares); the datasheet gives no humidity example, so dig_H1–H6 are typical values of a
 * production part.
 */
export const SIM_BME280_CALIBRATION: Bme280Calibration = {
  digT1: 27504,
  digT2: 26435,
  digT3: -1000,
  digP1: 36477,
  digP2: -10685,
  digP3: 3024,
  digP4: 2855,
  digP5: 140,
  digP6: -7,
  digP7: 15500,
  digP8: -14600,
  digP9: 6000,
  digH1: 75,
  digH2: 362,
  digH3: 0,
  digH4: 313,
  digH5: 50,
  digH6: 30,
};

export interface SimBme280ChipOptions {
  /** Times measurements and the 2 ms NVM copy after reset; without it they are instantaneous. */
  readonly clock?: Clock;
  readonly calibration?: Bme280Calibration;
  /** 0x60 for a BME280; 0x58 makes it answer as a BMP280 (a wrong part on the board). */
  readonly chipId?: number;
  readonly environment?: Partial<Bme280Environment>;
}

export type Bme280Mode = 'sleep' | 'forced' | 'normal';

const REG = { id: 0xd0, reset: 0xe0, ctrlHum: 0xf2, status: 0xf3, ctrlMeas: 0xf4, config: 0xf5, data: 0xf7 };
const SKIPPED_20 = 0x80000;
const SKIPPED_16 = 0x8000;
const STARTUP_MS = 2;

export class SimBme280Chip extends SimRegisterChip {
  readonly #clock: Clock | undefined;
  readonly #calibration: Bme280Calibration;
  #environment: Bme280Environment = { temperatureC: 25, humidityPct: 40, pressurePa: 101_325 };
  #mode: Bme280Mode = 'sleep';
  /** osrs_h in effect: ctrl_hum is latched by a ctrl_meas write. */
  #osrsH = 0;
  #measureDoneAtMs: number | undefined;
  #normalDataFromMs = 0;
  #nvmReadyAtMs = 0;

  constructor(options: SimBme280ChipOptions = {}) {
    super({ writes: 'pairs' });
    this.#clock = options.clock;
    this.#calibration = options.calibration ?? SIM_BME280_CALIBRATION;
    const { tp, h } = encodeBme280Calibration(this.#calibration);
    this.registers.set(tp, BME280_CALIB_TP_REG);
    this.registers.set(h, BME280_CALIB_H_REG);
    this.registers[REG.id] = options.chipId ?? 0x60;
    this.setEnvironment(options.environment ?? {});
    this.powerCycle();
  }

  get environment(): Bme280Environment {
    return this.#environment;
  }

  get mode(): Bme280Mode {
    this.#settle();
    return this.#mode;
  }

  /** Device side: what the sensor is exposed to. Cheap (stores only); fields left out keep their value. */
  setEnvironment(environment: Partial<Bme280Environment>): void {
    for (const [name, v] of Object.entries(environment)) {
      if (!Number.isFinite(v)) throw new TypeError(`environment.${name} must be a finite number, got ${v}`);
    }
    this.#settle(); // a measurement that finished before now saw the old environment
    this.#environment = { ...this.#environment, ...environment };
  }

  /** Device side: a brown-out — every register back to its reset value, as after a soft reset. */
  powerCycle(): void {
    this.registers[REG.reset] = 0;
    this.registers[REG.ctrlHum] = 0;
    this.registers[REG.ctrlMeas] = 0;
    this.registers[REG.config] = 0;
    this.registers.set([0x80, 0, 0, 0x80, 0, 0, 0x80, 0], REG.data);
    this.#mode = 'sleep';
    this.#osrsH = 0;
    this.#measureDoneAtMs = undefined;
    this.#nvmReadyAtMs = this.#nowMs() + (this.#clock ? STARTUP_MS : 0);
  }

  override onWrite(bytes: Uint8Array): 'ack' | 'nack' {
    this.#settle();
    return super.onWrite(bytes);
  }

  override onRead(length: number): Uint8Array {
    this.#settle();
    return super.onRead(length);
  }

  override peek(register: number): number {
    this.#settle();
    return super.peek(register);
  }

  protected override readRegister(register: number): number {
    if (register === REG.status) {
      const measuring = this.#measureDoneAtMs !== undefined ? 0x08 : 0;
      const imUpdate = this.#nowMs() < this.#nvmReadyAtMs ? 0x01 : 0;
      return measuring | imUpdate;
    }
    return super.readRegister(register);
  }

  protected override writeRegister(register: number, value: number): void {
    switch (register) {
      case REG.reset:
        if (value === 0xb6) this.powerCycle();
        break;
      case REG.ctrlHum:
        this.registers[REG.ctrlHum] = value & 0x07;
        break;
      case REG.ctrlMeas:
        this.#writeCtrlMeas(value);
        break;
      case REG.config:
        if (this.#mode !== 'normal') this.registers[REG.config] = value & 0xfd;
        break;
      default: // id, calibration, status and data are read-only
    }
  }

  #writeCtrlMeas(value: number): void {
    this.registers[REG.ctrlMeas] = value;
    this.#osrsH = this.registers[REG.ctrlHum]! & 0x07;
    this.#measureDoneAtMs = undefined;
    const mode = value & 0x03;
    if (mode === 0) {
      this.#mode = 'sleep';
    } else if (mode === 3) {
      this.#mode = 'normal';
      this.#normalDataFromMs = this.#nowMs() + this.#measurementMs();
    } else {
      this.#mode = 'forced';
      this.#measureDoneAtMs = this.#nowMs() + this.#measurementMs();
    }
    this.#settle();
  }

  /** Completes what time has completed: a forced measurement, or normal mode's continuous one. */
  #settle(): void {
    const now = this.#nowMs();
    if (this.#measureDoneAtMs !== undefined && now >= this.#measureDoneAtMs) {
      this.#measureDoneAtMs = undefined;
      this.#latch();
      this.#mode = 'sleep';
      this.registers[REG.ctrlMeas] = this.registers[REG.ctrlMeas]! & 0xfc;
    } else if (this.#mode === 'normal' && now >= this.#normalDataFromMs) {
      this.#latch();
    }
  }

  #latch(): void {
    const ctrlMeas = this.registers[REG.ctrlMeas]!;
    const filterOn = (this.registers[REG.config]! & 0x1c) !== 0;
    const osrsT = ctrlMeas >> 5;
    const osrsP = (ctrlMeas >> 2) & 0x07;
    const cal = this.#calibration;
    const env = this.#environment;

    let adcT = SKIPPED_20;
    let adcP = SKIPPED_20;
    let adcH = SKIPPED_16;
    if (osrsT !== 0) {
      const exact = nearestCode((x) => compensateTemperature(x, cal).temperatureC, env.temperatureC, 0xfffff);
      adcT = quantize(exact, filterOn ? 20 : 15 + Math.min(osrsT, 5), 20);
    }
    // Pressure and humidity need t_fine; a skipped temperature leaves them meaningless (§4.2.3).
    const { tFine } = compensateTemperature(adcT, cal);
    if (osrsP !== 0) {
      const exact = nearestCode((x) => compensatePressure(x, tFine, cal), env.pressurePa, 0xfffff);
      adcP = quantize(exact, filterOn ? 20 : 15 + Math.min(osrsP, 5), 20);
    }
    if (this.#osrsH !== 0) {
      adcH = quantize(
        nearestCode((x) => compensateHumidity(x, tFine, cal), env.humidityPct, 0xffff),
        16,
        16,
      );
    }
    this.registers.set(
      [
        adcP >> 12,
        (adcP >> 4) & 0xff,
        (adcP & 0x0f) << 4,
        adcT >> 12,
        (adcT >> 4) & 0xff,
        (adcT & 0x0f) << 4,
      ],
      REG.data,
    );
    this.registers.set([adcH >> 8, adcH & 0xff], REG.data + 6);
  }

  /** Typical measurement time, datasheet §9.1: 1 + 2·T_osr + (2·P_osr + 0.5) + (2·H_osr + 0.5) ms. */
  #measurementMs(): number {
    if (!this.#clock) return 0;
    const ctrlMeas = this.registers[REG.ctrlMeas]!;
    const factor = (osrs: number) => (osrs === 0 ? 0 : 2 ** (Math.min(osrs, 5) - 1));
    const t = factor(ctrlMeas >> 5);
    const p = factor((ctrlMeas >> 2) & 0x07);
    const h = factor(this.#osrsH);
    return 1 + 2 * t + (p ? 2 * p + 0.5 : 0) + (h ? 2 * h + 0.5 : 0);
  }

  #nowMs(): number {
    return this.#clock?.monotonicMs() ?? 0;
  }
}

/**
 * The integer code in [0, max] whose compensated value is nearest `target`, for `f` monotonic
 * (either direction). A target beyond the reachable range saturates at the end code, like an ADC.
 */
function nearestCode(f: (code: number) => number, target: number, max: number): number {
  const increasing = f(max) >= f(0);
  const reached = (x: number) => (increasing ? f(x) >= target : f(x) <= target);
  if (!reached(max)) return max;
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (reached(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo > 0 && Math.abs(f(lo - 1) - target) <= Math.abs(f(lo) - target) ? lo - 1 : lo;
}

/**
 * Rounds a `width`-bit code to `bits` of resolution (the low bits read as zero). A genuine reading
 * that lands on the skipped marker (0x80000 / 0x8000) moves one step up, since a driver must take
 * that code for "skipped".
 */
function quantize(code: number, bits: number, width: number): number {
  const step = 2 ** (width - bits);
  const max = 2 ** width - step;
  const q = Math.min(max, Math.round(code / step) * step);
  return q === 2 ** (width - 1) ? q + step : q;
}
