/**
 * The `telemetry:` configuration section. Everything has a default: with no section at all the agent
 * keeps every point's readings in a 64 MiB outbox under `<stateDir>/telemetry` and sends them when a
 * `link:` is configured. Per-point filters (`points:`) are keyed by point name or glob (`air.*`); the
 * first matching key wins, merged over `defaults`.
 */
import { z } from 'zod';
import { CONFIG_LIMITS, hasAtMostKeys, tooManyEntries } from '../core/config-limits.js';
import { parseByteSize } from '../core/units.js';
import { PRIORITIES } from './reading.js';

const nonNegative = z.number().finite().min(0);

/**
 * A size in bytes, written as a number of bytes or as text by agent/core/units.ts's rule: `64MiB` or
 * `64M` (1024-based), `500MB` (1000-based).
 */
const byteSize = z
  .union([z.number().int().positive(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const size = parseByteSize(v);
    if (size.ok) return size.value;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: size.reason });
    return z.NEVER;
  })
  .refine((bytes) => bytes >= 64 * 1024, { message: 'the budget must be at least 64KiB' });

export const filterSchema = z.strictObject({
  /** LwM2M pmin: at least this many seconds between reports. */
  pmin: nonNegative.optional(),
  /** LwM2M pmax: at most this many seconds between reports (repeats the last value). */
  pmax: nonNegative.optional(),
  /** LwM2M st (step): report when the value moved at least this much since the last report. */
  st: nonNegative.optional(),
  /** LwM2M gt / lt: report when the value crosses this threshold. */
  gt: z.number().finite().optional(),
  lt: z.number().finite().optional(),
  /** Send min/max/mean/count per window instead of raw readings. */
  aggregate: z.strictObject({ windowS: z.number().positive().max(86_400) }).optional(),
  /** EWMA z-score anomaly flag: an outlier is sent at once with priority high. */
  anomaly: z
    .strictObject({
      alpha: z.number().gt(0).lt(1).default(0.05),
      z: z.number().positive().default(4),
      warmup: z.number().int().min(1).default(30),
    })
    .optional(),
  /** Eviction drops low first, high last. */
  priority: z.enum(PRIORITIES as [string, ...string[]]).optional(),
});

export const telemetrySchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Outbox directory, relative to the state directory. */
    dir: z.string().min(1).default('telemetry'),
    /** Group commit interval: an accepted reading is on disk (fsynced) within about this long. */
    commitIntervalMs: z.number().int().min(1).max(1000).default(50),
    /** Commit early when this many readings are waiting. */
    commitMaxReadings: z.number().int().min(1).max(1_000_000).default(20_000),
    /** A batch (one MQTT message) is closed after this long… */
    batchMaxAgeMs: z.number().int().min(10).max(60_000).default(500),
    /** …or this many readings. */
    batchMaxReadings: z.number().int().min(1).max(100_000).default(2000),
    /** While the link is down a batch may stay open this long (fewer, bigger batches in a long outage). */
    offlineBatchMaxAgeMs: z.number().int().min(10).max(3_600_000).default(60_000),
    /** Disk budget of the outbox: bytes, or text with a unit (`64MiB`, `500MB`, `2GiB`). */
    budget: byteSize.default('64MiB'),
    /** Aggregation window used when old raw data is downsampled to stay within the budget. */
    downsampleWindowS: z.number().positive().max(86_400).default(60),
    /** Unacknowledged MQTT messages at most. */
    inFlight: z.number().int().min(1).max(1000).default(16),
    /** Backlog drain pace after an outage (fresh readings are not paced). */
    drainReadingsPerS: z.number().positive().default(100_000),
    drainBurstReadings: z.number().positive().default(20_000),
    /** `ntp`: trust the wall clock once NTP synced (or it is past the last trusted time); `system`: always. */
    timeTrust: z.enum(['ntp', 'system']).default('ntp'),
    /** How long readings of this boot wait for a trusted clock before they are sent flagged. */
    trustWaitS: z.number().min(0).max(86_400).default(300),
    /** How often the telemetry.* and link.* metric points are updated. */
    metricsPeriodMs: z.number().int().min(100).max(600_000).default(1000),
    /** Points to send (globs); `exclude` wins. Metric points are excluded: no feedback loop. */
    include: z.array(z.string().min(1)).max(CONFIG_LIMITS.telemetryPatterns).default(['*']),
    exclude: z
      .array(z.string().min(1))
      .max(CONFIG_LIMITS.telemetryPatterns)
      .default(['telemetry.*', 'link.*']),
    defaults: filterSchema.default({}),
    points: z
      .record(z.string().min(1), filterSchema)
      .refine(hasAtMostKeys(CONFIG_LIMITS.telemetryPoints), tooManyEntries(CONFIG_LIMITS.telemetryPoints))
      .default({}),
  })
  .default({});

export type TelemetryConfig = z.infer<typeof telemetrySchema>;

/** `*` matches any characters (dots included); everything else literally. */
export function globMatcher(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return (name) => res.some((re) => re.test(name));
}
