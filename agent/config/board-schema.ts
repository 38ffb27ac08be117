/**
 * A board profile (`boards/*.yaml`) is data about the board alone: which board it is (`matches`), its
 * backend, the buses it has — GPIO chips, I2C buses, serial ports, the BLE adapter — and, where its
 * firmware fixes it, the boot backend OTA components use by default. What is
 * wired to those buses belongs to the site (wiring-schema.ts), so one profile serves every kit.
 */
import { z } from 'zod';
import { CONFIG_LIMITS } from '../core/config-limits.js';
import { BOOT_BACKEND_KINDS } from '../ota/boot/registry.js';

export const CAPABILITIES = ['gpio', 'i2c', 'serial', 'ble'] as const;

const id = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case id: letters, digits, _ and -');

export const boardProfileSchema = z.strictObject({
  id,
  name: z.string().min(1),
  /** Substrings of /proc/device-tree/model that identify this board (empty for the simulator). */
  matches: z.array(z.string().min(1)).max(CONFIG_LIMITS.boardItems).default([]),
  /** `linux`: real buses; `sim`: simulated buses, with the plant of the wiring's `sim:` behind them. */
  backend: z.enum(['linux', 'sim']),
  capabilities: z.array(z.enum(CAPABILITIES)).max(CONFIG_LIMITS.boardItems).default([]),
  gpio: z
    .strictObject({
      /**
       * On `backend: linux`, how lines are driven: `sysfs` (/sys/class/gpio through onoff; gone from
       * JetPack 6 kernels) or `chardev` (the GPIO character device through the libgpiod v2 tools,
       * Debian/Ubuntu package `gpiod` >= 2.0). Default `sysfs`.
       */
      backend: z.enum(['sysfs', 'chardev']).default('sysfs'),
      /** The gpiochips of this board, by kernel label (the sim creates them; linux checks them). */
      chips: z
        .array(z.strictObject({ label: z.string().min(1), ngpio: z.number().int().min(1).max(1024) }))
        .max(CONFIG_LIMITS.boardItems),
    })
    .optional(),
  i2c: z
    .strictObject({ buses: z.array(z.number().int().min(0).max(255)).max(CONFIG_LIMITS.boardItems) })
    .optional(),
  serial: z.strictObject({ ports: z.array(z.string().min(1)).max(CONFIG_LIMITS.boardItems) }).optional(),
  ble: z.strictObject({ adapter: z.string().default('hci0') }).optional(),
  /**
   * How this board's firmware chooses the A/B slot: the boot backend (with its default options) of an
   * OTA component whose `boot:` is omitted. A board whose firmware has one way (a Jetson's nvbootctrl)
   * names it; boards with a choice of bootloader leave it out, and components must then say.
   */
  boot: z.strictObject({ backend: z.enum(BOOT_BACKEND_KINDS) }).optional(),
});

export type BoardProfile = z.infer<typeof boardProfileSchema>;
