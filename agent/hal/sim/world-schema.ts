/**
 * The `sim:` section of the wiring on a simulated board (beside its `devices:`, in agent.yaml or a
 * wiring file): the plant that links the heater relay to the chamber sensor, and how each simulated
 * peer behaves. Every field has a default, so `sim: {}` gives a working world.
 */
import { z } from 'zod';

const deviceId = z.string().min(1);

export const simWorldSchema = z.strictObject({
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
});

export type SimWorldParams = z.infer<typeof simWorldSchema>;
export type SimPeerParams = SimWorldParams['devices'][string];
