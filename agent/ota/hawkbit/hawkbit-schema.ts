/**
 * `ota.hawkbit`: an Eclipse hawkBit server the device polls for updates over the DDI API (README
 * "hawkBit"). Tokens can stay out of the file like the link password: every field has its
 * `EDGE_AGENT_OTA_HAWKBIT_*` override (`EDGE_AGENT_OTA_HAWKBIT_AUTH_TARGET_TOKEN`). Without a token the
 * device authenticates by the client certificate of `link.tls` (hawkBit behind a TLS-terminating
 * proxy that maps certificates to targets).
 */
import { z } from 'zod';

export const hawkbitSchema = z.strictObject({
  /** `https://hawkbit.example.com` (the server root; the DDI paths are added). */
  url: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'expected http:// or https:// followed by host[:port]')
    .transform((u) => u.replace(/\/+$/, '')),
  tenant: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'expected a hawkBit tenant name')
    .default('DEFAULT'),
  /** The target's controller id; default: the device id. */
  controllerId: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1-64 letters, digits, . _ : -')
    .optional(),
  auth: z
    .strictObject({
      /** The target's security token (`Authorization: TargetToken …`). */
      targetToken: z.string().min(1).optional(),
      /** The tenant's gateway token (`Authorization: GatewayToken …`). */
      gatewayToken: z.string().min(1).optional(),
    })
    .refine((a) => !(a.targetToken && a.gatewayToken), {
      message: 'give targetToken or gatewayToken, not both',
    })
    .default({}),
  /** The shortest poll interval, whatever the server's `config.polling.sleep` says. */
  pollMinS: z.number().min(0.1).max(86_400).default(10),
  /** After a failed poll or feedback: exponential backoff with full jitter, from base to max. */
  retry: z
    .strictObject({
      baseMs: z.number().int().min(10).max(600_000).default(5000),
      maxMs: z.number().int().min(100).max(86_400_000).default(600_000),
    })
    .default({})
    .refine((r) => r.maxMs >= r.baseMs, { message: 'maxMs must be >= baseMs' }),
  /** Each request's deadline (connect, headers and body). */
  requestTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
});

export type HawkbitConfig = z.infer<typeof hawkbitSchema>;
