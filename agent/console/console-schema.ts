/**
 * The `console:` section of the agent configuration: where the console listens (a serial port, a Unix
 * socket, stdin/stdout), who may log in (scrypt hashes made by `edge-agent passwd`), how guessing is
 * slowed and locked out, how long a socket connection may take to log in and how many may be open,
 * how big the audit trail grows, and when an idle session is logged out.
 */
import { z } from 'zod';
import { CONFIG_LIMITS } from '../core/config-limits.js';
import { isHashString } from './password-hash.js';
import { USER_NAME_PATTERN } from './user-name.js';

export const consoleSchema = z
  .strictObject({
    /** The technician's serial port, e.g. /dev/ttyGS0 (USB gadget) or /dev/ttyAMA0; none by default. */
    serial: z
      .strictObject({
        path: z.string().min(1),
        baudRate: z.number().int().positive().default(115200),
        /** Serial terminal emulators render ANSI; false for a line printer or a logger on the port. */
        ansi: z.boolean().default(true),
      })
      .optional(),
    socket: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Default: $RUNTIME_DIRECTORY/console.sock (/run/edge-agent under systemd), else <stateDir>/console.sock. */
        path: z.string().min(1).optional(),
        /** Connections open at once; one more is told so in one line and closed. */
        maxConnections: z.number().int().min(1).max(1024).default(16),
      })
      .default({}),
    /** A console on the agent's stdin/stdout (development; `npm start` turns it on). */
    stdio: z.boolean().default(false),
    users: z
      .array(
        z.strictObject({
          name: z.string().regex(USER_NAME_PATTERN, 'expected a lower-case user name (a-z 0-9 _ -)'),
          passwordHash: z
            .string()
            .refine(isHashString, 'expected a $scrypt$… hash: make one with `edge-agent passwd`'),
        }),
      )
      .max(CONFIG_LIMITS.users)
      .default([]),
    lockout: z
      .strictObject({
        /** Failed logins in a row before the name is locked. */
        maxFailures: z.number().int().min(1).max(100).default(5),
        /** Pause after the first failure; doubles with each further one. */
        slowdownMs: z.number().int().min(0).max(60_000).default(1000),
        maxSlowdownMs: z.number().int().min(0).max(600_000).default(30_000),
        lockoutMs: z.number().int().min(0).max(86_400_000).default(300_000),
      })
      .default({}),
    /** A socket connection not logged in after this long is closed; 0 never. */
    loginTimeoutMs: z.number().int().min(0).default(60_000),
    /** The audit trail: rotated at `maxBytes`, `generations` older files kept (`.1` … `.N`). */
    audit: z
      .strictObject({
        maxBytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(1024 * 1024),
        generations: z.number().int().min(1).max(100).default(4),
      })
      .default({}),
    /** Log out after this long without a key; 0 never. */
    idleTimeoutMs: z.number().int().min(0).default(900_000),
    /** How often `points watch` refreshes. */
    watchIntervalMs: z.number().int().min(100).max(60_000).default(1000),
    /** Recent log lines kept in memory for `logs`. */
    logLines: z.number().int().min(10).max(10_000).default(500),
  })
  .default({});

export type ConsoleConfig = z.infer<typeof consoleSchema>;
