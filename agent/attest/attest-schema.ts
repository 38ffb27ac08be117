/**
 * Configuration sections for identity, attestation and the fleet command channel:
 *
 *   identity:               # the device key (default: software Ed25519 under the state directory)
 *     backend: tpm          # software | tpm
 *     tpm: { tcti: "device:/dev/tpmrm0", keyHandle: 0x81010020, akHandle: 0x81010021, pcr: 23 }
 *     signTelemetry: true   # telemetry and event batches go out as COSE_Sign1 by the device key
 *   attest:
 *     measure: { bundle: /opt/edge-agent }   # what to hash as the running software when OTA has no slots
 *   fleet:                  # signed commands on <prefix>/<id>/cmd
 *     trust: { root: /etc/edge-agent/root.cose }   # default: the `ota.trust` root
 *     clockSkewMs: 60000
 *     maxTtlS: 3600         # a command valid for longer is refused
 *
 * Paths are relative to the configuration file. The serial (`deviceId:`) stays top-level.
 */
import path from 'node:path';
import { z } from 'zod';
import { CONFIG_LIMITS } from '../core/config-limits.js';
import type { IdentitySettings } from './identity.js';

const persistentHandle = z
  .union([
    z.number().int(),
    z
      .string()
      .regex(/^0x[0-9a-fA-F]{8}$/)
      .transform((s) => Number.parseInt(s, 16)),
  ])
  .refine((h) => h >= 0x81000000 && h <= 0x81ffffff, 'expected a persistent handle 0x81000000..0x81ffffff');

export const identitySchema = z
  .strictObject({
    backend: z.enum(['software', 'tpm']).default('software'),
    tpm: z
      .strictObject({
        /** tpm2-tools TCTI: the kernel resource manager on a board, `swtpm:host=…,port=…` for a software TPM. */
        tcti: z.string().min(1).default('device:/dev/tpmrm0'),
        keyHandle: persistentHandle.default(0x81010020),
        akHandle: persistentHandle.default(0x81010021),
        /** The SHA-256 PCR the agent resets and extends its measurements into (23: application support). */
        pcr: z.number().int().min(0).max(23).default(23),
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      })
      .default({})
      .refine((t) => t.keyHandle !== t.akHandle, { message: 'keyHandle and akHandle must differ' }),
    /** Sign telemetry and event batches with the device key, for integrity end to end through the broker. */
    signTelemetry: z.boolean().default(false),
  })
  .default({});

export const attestSchema = z
  .strictObject({
    measure: z
      .strictObject({
        /** A file or directory measured as the agent's software; default: the OTA slots, else the agent's code. */
        bundle: z.string().min(1).optional(),
      })
      .default({}),
  })
  .default({});

export const fleetSchema = z
  .strictObject({
    /** Trust for commands: a self-signed root, or public key files with a threshold; default `ota.trust`. */
    trust: z
      .union([
        z.strictObject({ root: z.string().min(1) }),
        z.strictObject({
          keys: z.array(z.string().min(1)).min(1).max(CONFIG_LIMITS.trustKeys),
          threshold: z.number().int().min(1).default(1),
        }),
      ])
      .optional(),
    /** How far the fleet's and the device's clocks may disagree. */
    clockSkewMs: z.number().int().min(0).max(3_600_000).default(60_000),
    /** The longest `exp - iat` accepted. */
    maxTtlS: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(3600),
    maxCommandBytes: z
      .number()
      .int()
      .min(256)
      .max(1 << 20)
      .default(64 * 1024),
    /** Command ids remembered (a larger fleet rate of long-lived commands needs more). */
    replayCacheEntries: z.number().int().min(16).max(1_000_000).default(4096),
    maxQueued: z.number().int().min(1).max(1000).default(32),
    rejectReportsPerMinute: z.number().int().min(1).max(6000).default(30),
  })
  .default({});

export type IdentityConfig = z.infer<typeof identitySchema>;
export type AttestConfig = z.infer<typeof attestSchema>;

/** The identity settings for `loadIdentity` from the configuration and the state directory. */
export function identitySettingsFrom(
  config: { readonly identity: IdentityConfig; readonly deviceId?: string | undefined },
  stateDir: string,
): IdentitySettings {
  return {
    backend: config.identity.backend,
    dir: path.join(stateDir, 'identity'),
    serial: config.deviceId,
    tpm: config.identity.tpm,
  };
}
