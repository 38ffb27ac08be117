/**
 * A board profile (`boards/*.yaml`) is data: what the board is, which buses it has, and which devices
 * are wired to them. Driver options are validated afterwards by each driver's own schema
 * (load-board.ts), so this file knows no driver.
 */
import { z } from 'zod';

export const CAPABILITIES = ['gpio', 'i2c', 'serial', 'ble'] as const;
export type Capability = (typeof CAPABILITIES)[number];

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
  points: z.record(z.string(), pointName).default({}),
  /** Driver-specific; validated by the driver's schema. */
  options: z.record(z.string(), z.unknown()).default({}),
});

export const boardProfileSchema = z.strictObject({
  id,
  name: z.string().min(1),
  /** Substrings of /proc/device-tree/model that identify this board (empty for the simulator). */
  matches: z.array(z.string().min(1)).default([]),
  /** `linux`: real buses; `sim`: the simulated world of `sim:`. */
  backend: z.enum(['linux', 'sim']),
  capabilities: z.array(z.enum(CAPABILITIES)).default([]),
  gpio: z
    .strictObject({
      /** The gpiochips of this board, by kernel label (the sim creates them; linux checks them). */
      chips: z.array(z.strictObject({ label: z.string().min(1), ngpio: z.number().int().min(1).max(1024) })),
    })
    .optional(),
  i2c: z.strictObject({ buses: z.array(z.number().int().min(0).max(255)) }).optional(),
  serial: z.strictObject({ ports: z.array(z.string().min(1)) }).optional(),
  ble: z.strictObject({ adapter: z.string().default('hci0') }).optional(),
  devices: z.array(deviceEntrySchema).default([]),
  /** Parameters of the simulated world; only read when `backend: sim`. */
  sim: z.record(z.string(), z.unknown()).optional(),
});

export type BoardProfile = z.infer<typeof boardProfileSchema>;
export type DeviceEntry = z.infer<typeof deviceEntrySchema>;
