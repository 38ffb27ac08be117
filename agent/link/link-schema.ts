/**
 * The `link:` configuration section: which MQTT broker, as whom, over what. No `url` means no link:
 * the agent runs offline and telemetry only buffers (within its byte budget). Paths of TLS files are
 * relative to the configuration file. Every field has an `EDGE_AGENT_LINK_*` override, which is the
 * way to keep a password out of the file (`EDGE_AGENT_LINK_PASSWORD`, e.g. from a systemd credential).
 */
import { z } from 'zod';

const url = z
  .string()
  .regex(
    /^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/,
    'expected mqtt://, mqtts://, ws:// or wss:// followed by host[:port]',
  );

export const linkSchema = z
  .strictObject({
    /** `mqtts://broker.example.com:8883`; absent: offline. */
    url: url.optional(),
    /** MQTT client id; default: the device id. */
    clientId: z.string().min(1).max(128).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    tls: z
      .strictObject({
        /** CA bundle (PEM) that signed the broker's certificate; default: the system's. */
        ca: z.string().min(1).optional(),
        /** Client certificate and key (PEM) for mutual TLS. */
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean().default(true),
      })
      .default({})
      .refine((t) => (t.cert === undefined) === (t.key === undefined), {
        message: 'cert and key go together',
      }),
    /** First topic level: `<topicPrefix>/<deviceId>/telemetry`. */
    topicPrefix: z
      .string()
      .regex(/^[^#+/]+(\/[^#+/]+)*$/, 'expected topic levels without wildcards')
      .default('edge'),
    keepaliveS: z.number().int().min(5).max(3600).default(30),
    /**
     * MQTT 5 session expiry: 0 (the default) starts clean every time; above 0 the broker keeps the
     * session that long after the device drops off — its subscription and the QoS 1 commands sent
     * meanwhile, delivered at the next connect (clean start off). For broker clusters with offline queues.
     */
    sessionExpiryS: z.number().int().min(0).max(4_294_967_295).default(0),
    connectTimeoutMs: z.number().int().min(1000).max(120_000).default(10_000),
    /** Reconnect delay: exponential with full jitter between attempts. */
    backoff: z
      .strictObject({
        baseMs: z.number().int().min(10).max(60_000).default(1000),
        maxMs: z.number().int().min(100).max(3_600_000).default(60_000),
      })
      .default({})
      .refine((b) => b.maxMs >= b.baseMs, { message: 'maxMs must be >= baseMs' }),
  })
  .default({});
