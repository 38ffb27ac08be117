/**
 * The `ota:` section of the agent configuration (absent: no updates). Paths are relative to the
 * configuration file. Each component (`rootfs`, `agent`, …) has an A/B pair of slots — image files,
 * block devices, or directories (for a tar bundle) — and its own boot backend (boot/registry.ts).
 */
import { z } from 'zod';
import { CONFIG_LIMITS, hasAtMostKeys, tooManyEntries } from '../core/config-limits.js';
import { bootOptionsSchema } from './boot/registry.js';
import { hawkbitSchema } from './hawkbit/hawkbit-schema.js';
import { COMPONENT_KINDS } from './live-component.js';

const componentName = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'expected a lower-case component name');

export const otaComponentSchema = z
  .strictObject({
    /**
     * `system` (default): booted, through `boot`. `model` / `rules`: switched live by the agent (an
     * inference model's `model.onnx`, a rule set's `rules.yaml`) — directory slots, no `boot`.
     */
    kind: z.enum(COMPONENT_KINDS).default('system'),
    slots: z.strictObject({
      kind: z.enum(['image', 'block', 'dir']),
      A: z.string().min(1),
      B: z.string().min(1),
      /** Capacity of an image file slot (a partition's size is read from sysfs). */
      sizeBytes: z.number().int().positive().optional(),
    }),
    /** Omitted on a system component: the board profile's `boot.backend` with its defaults (loadConfig). */
    boot: bootOptionsSchema.optional(),
    /** A live component's proof: good results in a row, within a deadline, before the old one is let go. */
    live: z
      .strictObject({
        goodOutputs: z.number().int().min(1).max(1000).default(3),
        deadlineMs: z.number().int().min(100).max(3_600_000).default(120_000),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.kind === 'system') {
      if (c.live) issue('live', 'only a model or rules component is switched live');
      return;
    }
    if (c.slots.kind !== 'dir') issue('slots', `a ${c.kind} component has directory slots (slots.kind: dir)`);
    if (c.boot) issue('boot', `a ${c.kind} component is switched live by the agent, not booted: remove boot`);
  });

export const otaSchema = z.strictObject({
  /** The fleet's trust root: a self-signed root file, or public key files with a threshold. */
  trust: z.union([
    z.strictObject({ root: z.string().min(1) }),
    z.strictObject({
      keys: z.array(z.string().min(1)).min(1).max(CONFIG_LIMITS.trustKeys),
      threshold: z.number().int().min(1).default(1),
    }),
  ]),
  /** Run to reboot; the boot backend may append arguments (tryboot: `0 tryboot`). */
  rebootCommand: z
    .array(z.string().min(1))
    .min(1)
    .max(CONFIG_LIMITS.commandWords)
    .default(['systemctl', 'reboot']),
  /**
   * The only directories `ota.install file=… manifest=…` may read from (symbolic links resolved
   * first); default `<stateDir>/ota/inbox`. Add a USB stick's mount point here to install from it.
   */
  localInstallDirs: z.array(z.string().min(1)).min(1).max(CONFIG_LIMITS.localInstallDirs).optional(),
  /** Where the running system learns its booted slot and boot id (the emulator points these elsewhere). */
  bootInfo: z
    .strictObject({
      cmdline: z.string().min(1).default('/proc/cmdline'),
      bootId: z.string().min(1).default('/proc/sys/kernel/random/boot_id'),
    })
    .default({}),
  download: z
    .strictObject({
      /**
       * With per-chunk hashes and a raw image: fetch only the chunks the device does not already hold
       * in its slots (the rest is copied locally, each chunk verified); false: always the whole payload.
       */
      adaptive: z.boolean().default(true),
      /**
       * How a raw slot is read back before it is armed: `medium` reads it from the disk with O_DIRECT
       * (where the filesystem refuses O_DIRECT, through the page cache anyway, logged); `page-cache`
       * compares the kernel's copy only — for a filesystem whose O_DIRECT misbehaves, or to measure.
       */
      readBack: z.enum(['medium', 'page-cache']).default('medium'),
      /** Durable-progress unit when a manifest has no per-chunk hashes. */
      checkpointBytes: z
        .number()
        .int()
        .min(65_536)
        .max(32 * 1024 * 1024)
        .default(4 * 1024 * 1024),
      /**
       * With per-chunk hashes, fdatasync and journal every this many bytes or ms: a resume
       * re-verifies chunks on the slot, so this bounds only what a power cut makes it fetch again.
       */
      syncIntervalBytes: z
        .number()
        .int()
        .min(65_536)
        .default(32 * 1024 * 1024),
      syncIntervalMs: z.number().int().min(10).default(1000),
      /** Consecutive failed attempts before the download gives up. */
      maxAttempts: z.number().int().min(1).max(100).default(10),
      retryBaseMs: z.number().int().min(1).default(1000),
      /** The longest wait between attempts; a server's `Retry-After` is honoured up to this and no further. */
      retryMaxMs: z.number().int().min(1).max(3_600_000).default(60_000),
      lowSpeedBytesPerS: z.number().int().min(0).default(1024),
      lowSpeedWindowMs: z.number().int().min(1000).default(60_000),
      idleTimeoutMs: z.number().int().min(1000).default(30_000),
      /** Each attempt must have its response headers within this (a dripping server defeats the idle timer). */
      headerTimeoutMs: z.number().int().min(1000).max(3_600_000).default(30_000),
      /**
       * The whole download — attempts and the waits between them — within this, else the install is
       * rejected (`deadline`). Counted from the start of the write, or its resumption after a restart.
       */
      deadlineMs: z
        .number()
        .int()
        .min(10_000)
        .max(7 * 86_400_000)
        .default(24 * 3_600_000),
    })
    .default({}),
  /** What must hold after a trial boot before the new slot is committed. */
  health: z
    .strictObject({
      /** How long the checks may take to pass before the trial is rolled back. */
      deadlineMs: z.number().int().min(100).default(120_000),
      pollMs: z.number().int().min(50).default(1000),
      /** A minimum trial: the checks must keep passing this long before the commit (0: at once). */
      soakMs: z.number().int().min(0).default(0),
      /** Points that must be `good`. */
      points: z.array(z.string().min(1)).max(CONFIG_LIMITS.healthPoints).default([]),
      /** Every control loop must be running. */
      loopsRunning: z.boolean().default(true),
      /** The fleet's server must accept a TCP connection. */
      link: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) }).optional(),
      /** A board script that must exit 0. */
      command: z.array(z.string().min(1)).min(1).max(CONFIG_LIMITS.commandWords).optional(),
    })
    .refine((h) => h.soakMs < h.deadlineMs, {
      message: 'soakMs must be shorter than deadlineMs (the soak has to fit in the time the trial gets)',
      path: ['soakMs'],
    })
    .default({}),
  /** An Eclipse hawkBit server to poll for updates (DDI API); absent: updates come by MQTT or console. */
  hawkbit: hawkbitSchema.optional(),
  components: z
    .record(componentName, otaComponentSchema)
    .refine((c) => Object.keys(c).length > 0, 'expected at least one component')
    .refine(hasAtMostKeys(CONFIG_LIMITS.otaComponents), tooManyEntries(CONFIG_LIMITS.otaComponents)),
});

export type OtaConfig = z.infer<typeof otaSchema>;
