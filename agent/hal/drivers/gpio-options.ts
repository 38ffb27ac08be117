/**
 * Option pieces shared by the GPIO drivers (relay, digital input, pulse counter): how a board profile
 * names a line and its pull, and how a line the host does not have becomes `DeviceAbsentError` — a
 * wrong chip label is the GPIO equivalent of a wrong chip id, retried and reported, not fatal.
 */
import { z } from 'zod';
import { DeviceAbsentError } from '../device.js';
import { isLineAbsent } from '../gpio/errors.js';
import type { GpioBias } from '../gpio/types.js';

/** `{ chip: 'pinctrl-bcm2711', offset: 17 }`: gpiochip label and line offset (see resolve-line.ts). */
export const gpioLineOption = z.strictObject({
  chip: z.string().min(1),
  offset: z.number().int().min(0).max(4095),
});

/** Input pull; absent leaves the firmware's setting. Sysfs cannot set it (the Linux backend warns). */
export const pullOption = z.enum(['up', 'down', 'none']).optional();

export function biasOf(pull: z.infer<typeof pullOption>): GpioBias {
  return pull === 'up' ? 'pull-up' : pull === 'down' ? 'pull-down' : pull === 'none' ? 'disabled' : 'as-is';
}

/** Maps an open failure: a line that is not on this host is an absent device; anything else is kept. */
export function openError(error: unknown): unknown {
  return isLineAbsent(error) ? new DeviceAbsentError(error.message, { cause: error }) : error;
}
