/**
 * The simulated world behind the simulated buses of `boards/sim.yaml`: for every device in the
 * wiring a simulated peer on the device side of its bus (a BME280 or SHT31 chip at its address, a
 * PMS5003 pushing frames into its serial port, a BTHome thermometer advertising, a door contact and a
 * flow meter driving their GPIO lines), and a thermal chamber plant that follows the heater relay's
 * line and sets what the chamber sensor measures. Each peer lives in its driver's folder
 * (`hal/drivers/<driver>/sim-*.ts`); this file only places them. The drivers talk to these through the
 * same bus contracts as on a Pi; nothing here knows about points, loops or telemetry.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { SimBle } from '../ble/sim.js';
import type { Buses } from '../buses.js';
import { SimBme280Chip } from '../drivers/bme280/sim-chip.js';
import { SimBthomeSensor } from '../drivers/bthome/sim-sensor.js';
import { SimContact } from '../drivers/digital-input/sim-contact.js';
import { SimPms5003 } from '../drivers/pms5003/sim-sensor.js';
import { SimPulseSource } from '../drivers/pulse-counter/sim-pulse-source.js';
import { SimSht31Chip } from '../drivers/sht31/sim-chip.js';
import { SimGpio } from '../gpio/sim.js';
import type { GpioLineRef } from '../gpio/types.js';
import { SimI2c } from '../i2c/sim.js';
import { SimSerial } from '../serial/sim.js';
import { type Random, seededRandom } from './random.js';
import { ThermalPlant } from './thermal-plant.js';
import type { SimPeerParams, SimWorldParams } from './world-schema.js';

/** What the world needs to know of a device: its id, driver and validated options. */
export interface SimDeviceSpec {
  readonly id: string;
  readonly driver: string;
  readonly options: unknown;
}

export interface SimWorldSpec {
  readonly gpioChips: readonly { label: string; ngpio: number }[];
  readonly i2cBuses: readonly number[];
  readonly devices: readonly SimDeviceSpec[];
  readonly params: SimWorldParams;
}

export interface SimWorldDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly ble: SimBle;
}

type Ticker = (dtS: number) => void;

export class SimWorld {
  readonly gpio: SimGpio;
  readonly i2c: SimI2c;
  readonly serial: SimSerial;
  readonly ble: SimBle;
  readonly buses: Buses;
  /** The chamber plant, when the profile has one. */
  readonly plant: ThermalPlant | undefined;
  readonly #deps: SimWorldDeps;
  readonly #params: SimWorldParams;
  readonly #random: Random;
  readonly #tickers: Ticker[] = [];
  readonly #starters: (() => () => void)[] = [];
  readonly #stoppers: (() => void)[] = [];
  #timer: TimerHandle | undefined;
  #lastMs = 0;

  constructor(deps: SimWorldDeps, spec: SimWorldSpec) {
    this.#deps = deps;
    this.#params = spec.params;
    this.#random = seededRandom(spec.params.seed);
    this.gpio = new SimGpio({ clock: deps.clock, chips: spec.gpioChips });
    this.i2c = new SimI2c({ buses: [...spec.i2cBuses] });
    this.serial = new SimSerial();
    this.ble = deps.ble;
    this.buses = { gpio: this.gpio, i2c: this.i2c, serial: this.serial, ble: this.ble };
    const chamber = spec.params.chamber;
    this.plant = chamber
      ? new ThermalPlant({ ...chamber, faults: spec.params.faults }, this.#random)
      : undefined;
    for (const device of spec.devices) this.#addPeer(device, spec.params.devices[device.id] ?? {});
  }

  start(): void {
    this.#lastMs = this.#deps.clock.monotonicMs();
    for (const start of this.#starters) this.#stoppers.push(start());
    this.#timer = this.#deps.clock.setInterval(() => this.#step(), this.#params.stepMs);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const stop of this.#stoppers.splice(0)) stop();
  }

  #step(): void {
    const now = this.#deps.clock.monotonicMs();
    const dtS = (now - this.#lastMs) / 1000;
    this.#lastMs = now;
    for (const tick of this.#tickers) tick(dtS);
  }

  #addPeer(device: SimDeviceSpec, peer: SimPeerParams): void {
    const o = device.options as Record<string, unknown>;
    const chamber = this.#params.chamber;
    const clock = this.#deps.clock;
    switch (device.driver) {
      case 'bme280':
      case 'sht31': {
        const chip = device.driver === 'bme280' ? new SimBme280Chip({ clock }) : new SimSht31Chip({ clock });
        chip.setEnvironment({
          temperatureC: peer.temperatureC ?? 21,
          humidityPct: peer.humidityPct ?? 45,
          ...(device.driver === 'bme280' ? { pressurePa: peer.pressurePa ?? 101_325 } : {}),
        });
        this.i2c.attach(o.bus as number, o.address as number, chip);
        if (chamber?.sensor === device.id) {
          this.#tickers.push(() => chip.setEnvironment(this.plant?.measure() ?? {}));
        }
        return;
      }
      case 'relay': {
        const line = this.gpio.line(o.line as GpioLineRef);
        line.onWrite((level) => this.#deps.log.debug({ device: device.id, value: level }, 'sim output'));
        if (chamber?.heater === device.id) {
          // The heater's power follows the relay contact (active-high in the sim wiring).
          this.#tickers.push((dtS) => this.plant?.step(dtS, line.value === (o.activeLow ? 0 : 1) ? 1 : 0));
        }
        return;
      }
      case 'digital-input': {
        const contact = new SimContact(this.gpio.line(o.line as GpioLineRef), {
          toggleEveryS: peer.toggleEveryS,
          activeForS: peer.activeForS,
          onChange: (level) => this.#deps.log.debug({ device: device.id, value: level }, 'sim input'),
        });
        this.#tickers.push((dtS) => contact.step(dtS));
        return;
      }
      case 'pulse-counter': {
        const source = new SimPulseSource(this.gpio.line(o.line as GpioLineRef), {
          fallingEdge: (o.edge as string) === 'falling',
          pulsesPerS: peer.pulsesPerS ?? 0,
          random: this.#random,
        });
        this.#tickers.push((dtS) => source.step(dtS));
        return;
      }
      case 'pms5003': {
        const sensor = new SimPms5003({
          clock,
          port: this.serial.port(o.port as string),
          periodMs: peer.periodMs,
        });
        sensor.setConcentrations({ pm1_0: peer.pm1_0 ?? 4, pm2_5: peer.pm2_5 ?? 9, pm10: peer.pm10 ?? 14 });
        this.#starters.push(() => {
          sensor.start();
          return () => sensor.stop();
        });
        return;
      }
      case 'bthome': {
        const sensor = new SimBthomeSensor({
          clock,
          ble: this.ble,
          address: o.address as string,
          intervalMs: peer.periodMs ?? 10_000,
          advertiseEveryMs: peer.advertiseEveryMs ?? 1000,
        });
        const env = { temperatureC: peer.temperatureC ?? 8, humidityPct: peer.humidityPct ?? 70 };
        sensor.set({ ...env, batteryPct: peer.batteryPct ?? 93 });
        this.#starters.push(() => {
          sensor.start();
          return () => sensor.stop();
        });
        return;
      }
      default:
        this.#deps.log.warn(
          { device: device.id, driver: device.driver },
          'no simulated peer for this driver',
        );
    }
  }
}
