/** A zod schema for a number from a fixed set (register encodings, addresses), with a plain message. */
import { z } from 'zod';

export function numberIn<const T extends readonly number[]>(values: T) {
  const hex = values.every((v) => v >= 0x10 && Number.isInteger(v)) && values.some((v) => v > 0x40);
  const shown = values.map((v) => (hex ? `0x${v.toString(16)}` : String(v))).join(', ');
  return z
    .number()
    .refine((v): v is T[number] => values.includes(v), { message: `expected one of ${shown}` });
}
