/**
 * Wiring: the devices a site connects to its board, and, on a simulated board, the plant they sit in.
 * It belongs to the site, not to the board, so it is written in agent.yaml (`devices:`, `sim:`) or in
 * wiring files that agent.yaml names (`wiring:`), each holding the same two sections. Driver options
 * are validated afterwards by each driver's own schema (resolve-wiring.ts), so this file knows no
 * driver.
 */
import { z } from 'zod';
import { CONFIG_LIMITS, hasAtMostKeys, tooManyEntries } from '../core/config-limits.js';

const id = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case id: letters, digits, _ and -');
const pointName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected a dotted point name such as chamber.temp');

export const deviceEntrySchema = z.strictObject({
  id,
  driver: z.string().min(1),
  description: z.string().optional(),
  /** Poll period for polled drivers. */
  pollMs: z.number().int().min(10).max(3_600_000).default(1000),
  /** Consecutive failed transactions before the device's points go `fault`. */
  faultAfter: z.number().int().min(1).max(1000).default(3),
  /** Channel → point name; unmapped channels are `<id>.<channel>`. */
  points: z
    .record(z.string(), pointName)
    .refine(hasAtMostKeys(CONFIG_LIMITS.deviceFields), tooManyEntries(CONFIG_LIMITS.deviceFields))
    .default({}),
  /** Driver-specific; validated by the driver's schema. */
  options: z
    .record(z.string(), z.unknown())
    .refine(hasAtMostKeys(CONFIG_LIMITS.deviceFields), tooManyEntries(CONFIG_LIMITS.deviceFields))
    .default({}),
});

/** The devices of a wiring section, in order. */
export const devicesSchema = z.array(deviceEntrySchema).max(CONFIG_LIMITS.devices).default([]);

/**
 * The simulated plant (agent/hal/sim/world-schema.ts), kept as raw data here and validated once the
 * devices it names are known; only allowed when the board is `backend: sim`.
 */
export const simSectionSchema = z.record(z.string(), z.unknown());

/** A wiring file: `devices:` and, for the simulated board, `sim:`. */
export const wiringFileSchema = z.strictObject({
  devices: devicesSchema,
  sim: simSectionSchema.optional(),
});

export type DeviceEntry = z.infer<typeof deviceEntrySchema>;
