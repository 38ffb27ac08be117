/**
 * The agent's configuration file (`/etc/edge-agent/agent.yaml`; `config/dev.yaml` for `npm start`).
 * One schema with defaults; every field can be overridden by `EDGE_AGENT_<PATH>` (see env-overrides.ts).
 * `version` exists so later releases can migrate old files instead of rejecting them.
 * Later capabilities (link, telemetry, loops, ota, console) add their sections here.
 */
import { z } from 'zod';
import { attestSchema, fleetSchema, identitySchema } from '../attest/attest-schema.js';
import { consoleSchema } from '../console/console-schema.js';
import { loopsSchema } from '../control/loop-schema.js';
import { rulesSchema } from '../control/rule-schema.js';
import { CONFIG_LIMITS } from '../core/config-limits.js';
import { inferenceSchema } from '../infer/infer-schema.js';
import { linkSchema } from '../link/link-schema.js';
import { otaSchema } from '../ota/ota-schema.js';
import { telemetrySchema } from '../telemetry/telemetry-schema.js';
import { devicesSchema, simSectionSchema } from './wiring-schema.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const agentConfigSchema = z.strictObject({
  version: z
    .literal(1, { errorMap: () => ({ message: 'expected 1 (the only configuration version so far)' }) })
    .default(1),
  /** Board profile, relative to this file; `--board` overrides it. */
  board: z.string().min(1).optional(),
  /**
   * Wiring files (each with `devices:`, and `sim:` for the simulated board), relative to this file.
   * Their devices come after this file's own `devices:`; an id may be defined only once in all.
   */
  wiring: z
    .union([z.string().min(1), z.array(z.string().min(1)).max(CONFIG_LIMITS.wiringFiles)], {
      errorMap: () => ({ message: 'expected a wiring file name or a list of them' }),
    })
    .optional(),
  /** Devices wired to the board (agent/config/wiring-schema.ts), besides those of `wiring:` files. */
  devices: devicesSchema,
  /** The simulated plant of a `backend: sim` board (agent/hal/sim/world-schema.ts), if not in a wiring file. */
  sim: simSectionSchema.optional(),
  /** Where the agent keeps state; relative to this file. Default: /var/lib/edge-agent. */
  stateDir: z.string().min(1).optional(),
  /** Overrides the identity-derived device id (a serial number printed on the cabinet). */
  deviceId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1–64 characters of A–Z a–z 0–9 . _ -')
    .optional(),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** `auto`: pretty when stdout is a terminal, JSON lines otherwise (journald). */
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .default({}),
  /** PID loops (agent/control/loop-schema.ts). */
  loops: loopsSchema,
  /** Rules and interlocks (agent/control/rule-schema.ts). */
  rules: rulesSchema.default([]),
  control: z
    .strictObject({
      /** How often rules and interlocks are evaluated. */
      rulesPeriodMs: z.number().int().min(10).max(60_000).default(100),
    })
    .default({}),
  /** Models run on windows of points, their outputs new points (agent/infer/infer-schema.ts). */
  inference: inferenceSchema,
  points: z
    .strictObject({
      /** How often point staleness is checked. */
      staleCheckMs: z.number().int().min(50).max(60_000).default(1000),
    })
    .default({}),
  /** The MQTT broker (agent/link/link-schema.ts); no `url`: offline, telemetry only buffers. */
  link: linkSchema,
  /** Filters, outbox and uplink of telemetry (agent/telemetry/telemetry-schema.ts). */
  telemetry: telemetrySchema,
  /** The technician's console (agent/console/console-schema.ts). */
  console: consoleSchema,
  /** A/B updates (agent/ota/ota-schema.ts); absent: the agent installs no updates. */
  ota: otaSchema.optional(),
  /** The device key: software Ed25519 or TPM P-256 (agent/attest/attest-schema.ts). */
  identity: identitySchema,
  /** What attestation evidence measures. */
  attest: attestSchema,
  /** The signed fleet command channel: trust, clock skew, limits. */
  fleet: fleetSchema,
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
