/**
 * The `sim:` section of the wiring on a simulated board (beside its `devices:`, in agent.yaml or a
 * wiring file): the plant that links the heater relay to the chamber sensor, and how each simulated
 * peer behaves. Every field has a default, so `sim: {}` gives a working world.
 */
import { z } from 'zod';

const deviceId = z.string().min(1);

/** When a fault acts: from `atS` seconds after the world starts, for `forS` seconds (absent: to the end). */
const faultWindow = {
  atS: z.number().min(0),
  forS: z.number().positive().optional(),
};

/**
 * A fault injected into the chamber plant (see `thermal-plant.ts` for the physics):
 * - `heater-stuck-on`: the heater heats at full power whatever the relay line says (a welded contactor).
 * - `sensor-drift`: the chamber sensor's reading drifts from the true temperature by `driftCPerH` °C per
 *   hour (negative: reads low); true again at the end.
 * - `door-open`: the chamber loses heat to ambient `lossFactor` times faster than through its walls on
 *   top of them (τ and the heater's gain both divided by 1 + lossFactor).
 */
export const simFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('heater-stuck-on'), ...faultWindow }),
  z.strictObject({ kind: z.literal('sensor-drift'), ...faultWindow, driftCPerH: z.number().default(5) }),
  z.strictObject({
    kind: z.literal('door-open'),
    ...faultWindow,
    lossFactor: z.number().positive().default(1),
  }),
]);

export const simWorldSchema = z
  .strictObject({
    /** Seed of the world's random numbers (noise, door timing): the same seed, the same run. */
    seed: z.number().int().default(1),
    /** Plant integration step. */
    stepMs: z.number().int().min(10).max(10_000).default(100),
    /** A thermal chamber: a first-order-plus-dead-time plant heated by a relay, read by a sensor. */
    chamber: z
      .strictObject({
        heater: deviceId,
        sensor: deviceId,
        ambientC: z.number().default(21),
        gainC: z.number().positive().default(60),
        tauS: z.number().positive().default(240),
        deadTimeS: z.number().min(0).default(10),
        noiseC: z.number().min(0).default(0.03),
        driftC: z.number().min(0).default(0.5),
        driftPeriodS: z.number().positive().default(3600),
        ambientHumidityPct: z.number().min(0).max(100).default(45),
        pressurePa: z.number().min(30_000).max(110_000).default(101_325),
      })
      .optional(),
    /** Per-device behaviour of the simulated peers, by device id. */
    devices: z
      .record(
        z.string(),
        z.strictObject({
          /** digital-input: the contact closes (1) every `toggleEveryS` for `activeForS`. */
          toggleEveryS: z.number().positive().optional(),
          activeForS: z.number().positive().optional(),
          /** pulse-counter: mean pulse frequency, Hz. */
          pulsesPerS: z.number().min(0).max(5000).optional(),
          /** bthome: advertising period (the same packet repeated; a new one every `periodMs`). */
          advertiseEveryMs: z.number().int().min(20).max(10_000).optional(),
          /** pms5003: mass concentrations, µg/m³, and frame period; bthome: measurement period. */
          pm1_0: z.number().min(0).optional(),
          pm2_5: z.number().min(0).optional(),
          pm10: z.number().min(0).optional(),
          periodMs: z.number().int().min(50).optional(),
          /** bthome / sht31 / bme280 not in the chamber: fixed environment. */
          temperatureC: z.number().optional(),
          humidityPct: z.number().min(0).max(100).optional(),
          pressurePa: z.number().optional(),
          batteryPct: z.number().min(0).max(100).optional(),
        }),
      )
      .default({}),
    /** Faults injected into the chamber plant (needs `chamber`), e.g. to show the anomaly model firing. */
    faults: z.array(simFaultSchema).default([]),
  })
  .refine((w) => w.faults.length === 0 || w.chamber !== undefined, {
    message: 'faults act on the chamber plant: add sim.chamber (heater and sensor) or remove sim.faults',
    path: ['faults'],
  });

export type SimFault = z.infer<typeof simFaultSchema>;
export type SimWorldParams = z.infer<typeof simWorldSchema>;
export type SimPeerParams = SimWorldParams['devices'][string];
