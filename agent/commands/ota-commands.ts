/**
 * Update commands for the technician and the fleet: `ota.status` (slots, their states, which runs,
 * the install in progress and its bytes), `ota.install` (a local payload file and its signed manifest,
 * `<file>.cose` beside it unless named, both inside `ota.localInstallDirs`), `ota.commit` and
 * `ota.rollback` (which also cancels an install not armed yet). `ota.install` returns once
 * the offer is accepted or rejected; the install continues in the background (watch `ota.status`).
 */
import { z } from 'zod';
import { formatBytes } from '../core/units.js';
import type { HawkbitStatus } from '../ota/hawkbit/hawkbit-client.js';
import type { OtaProgress } from '../ota/installer.js';
import { confineLocalPath, readLocalFile } from '../ota/local-paths.js';
import { MANIFEST_LIMITS } from '../ota/manifest.js';
import type { InstallRequest, InstallResult, OtaManager } from '../ota/ota-manager.js';
import type { OtaReport } from '../ota/report-queue.js';
import { trackLastReport } from './last-report.js';
import { type CommandContext, CommandError, type CommandRegistry, sourceOf } from './registry.js';
import { toLastUpdate } from './status-command.js';

export function registerOtaCommands(
  registry: CommandRegistry,
  deps: { ota: OtaManager; hawkbit?: { status(): Promise<HawkbitStatus> } | undefined },
): void {
  const { ota } = deps;
  const lastReport = trackLastReport(ota);
  registry.register({
    name: 'ota.status',
    summary: 'A/B slots and their states, the running slot, the install in progress and its progress',
    args: z.strictObject({ verbose: z.boolean().optional() }),
    run: async ({ verbose }) => {
      const s = await ota.status();
      return {
        ...(verbose ? { verbose } : {}),
        lastInstall: toLastUpdate(await lastReport()),
        busy: s.busy,
        rebootPending: s.rebootPending,
        install: s.install && {
          id: s.install.id,
          component: s.install.component,
          version: s.install.version,
          seq: s.install.seq,
          phase: s.install.phase,
          from: s.install.from,
          target: s.install.target,
          bytes: Math.max(s.install.offsetBytes, s.progress?.bytes ?? 0),
          durableBytes: s.install.offsetBytes,
          totalBytes: s.install.sizeBytes,
          ...(s.install.fetchedBytes !== undefined ? { fetchedBytes: s.install.fetchedBytes } : {}),
          waitingForReboot: s.install.phase === 'armed' && s.install.holdReboot === true,
          waitingToInstall: s.install.holdArm === true,
          actionId: s.install.actionId,
          percent: Math.floor(
            (100 * Math.max(s.install.offsetBytes, s.progress?.bytes ?? 0)) / s.install.sizeBytes,
          ),
          reason: s.install.reason,
        },
        components: s.components,
        pendingReports: s.pendingReports,
        lastError: s.lastError,
        ...(deps.hawkbit ? { hawkbit: await deps.hawkbit.status() } : {}),
      };
    },
  });
  registry.register({
    name: 'ota.install',
    summary: 'install an update from a local file (its signed manifest is <file>.cose unless given)',
    actuates: true,
    args: z.strictObject({
      file: z.string().min(1),
      manifest: z.string().min(1).optional(),
      component: z.string().min(1).optional(),
    }),
    check: async (args) => void (await localOffer(ota, args)),
    describe: async (args) => {
      const offer = await localOffer(ota, args);
      const p = await ota.preview(offer);
      if (!p.ok) throw new CommandError('EREJECTED', `update rejected (${p.code}): ${p.reason}`);
      return [
        `${p.component} ${p.version}, ${formatBytes(p.sizeBytes)}, into slot ${p.target} (running: ${p.from})`,
        `once written, the gateway reboots into slot ${p.target} for a trial (asked first unless --yes)`,
      ];
    },
    run: async (args, ctx) => {
      // A console (it draws progress) stays attached until the slot is written, and asks before the
      // reboot; anyone else gets the answer at acceptance and the install reboots by itself.
      const attached = ctx.progress !== undefined;
      const result = await ota.install({ ...(await localOffer(ota, args)), holdReboot: attached });
      const answer = accepted(result);
      if (!attached || !result.ok) return answer;
      return { ...answer, ...(await followInstall(ota, result.installId, result.done, ctx.progress!)) };
    },
  });
  registry.register({
    name: 'ota.offer',
    summary: 'install an update offered by the fleet: a signed manifest whose url is downloaded',
    actuates: true,
    args: z.strictObject({
      /** The COSE manifest: bytes (the fleet channel's CBOR) or base64 text (the console). */
      manifest: z.union([z.instanceof(Uint8Array), z.string().min(1)]),
      component: z.string().min(1).optional(),
    }),
    run: async ({ manifest, component }) => {
      const bytes = typeof manifest === 'string' ? new Uint8Array(Buffer.from(manifest, 'base64')) : manifest;
      return accepted(await ota.install({ manifest: bytes, component }));
    },
  });
  registry.register({
    name: 'ota.reboot',
    summary: 'reboot into the slot an install armed and holds (ota install answered No to the reboot)',
    actuates: true,
    args: z.strictObject({}),
    describe: async () => {
      const { install } = await ota.status();
      if (!install?.holdReboot || install.phase !== 'armed') return [];
      return [
        `the gateway reboots into slot ${install.target} for the trial of ${install.component} ${install.version}`,
      ];
    },
    run: async () => ota.rebootIntoTrial(),
  });
  registry.register({
    name: 'ota.commit',
    summary: 'confirm the running trial slot now (skipping the health checks), or mark the running slot good',
    actuates: true,
    args: z.strictObject({ component: z.string().min(1).optional() }),
    run: async ({ component }) => ota.commit(component),
  });
  registry.register({
    name: 'ota.rollback',
    summary:
      'abandon the trial and reboot into the previous slot, cancel an install not armed yet, or switch to the other good slot',
    actuates: true,
    args: z.strictObject({ component: z.string().min(1).optional() }),
    describe: async () => {
      const { install } = await ota.status();
      if (!install) return ['switches to the other good slot: the gateway reboots'];
      if (['armed', 'healthy'].includes(install.phase))
        return [
          `abandons the trial of ${install.component} ${install.version}: the gateway reboots into slot ${install.from}`,
        ];
      return [
        `cancels the install of ${install.component} ${install.version} (${install.phase}); nothing reboots`,
      ];
    },
    run: async ({ component }, ctx) => ota.rollback(sourceOf(ctx), component),
  });
}

/** The payload first (the file a technician named), then its manifest beside it. */
async function localOffer(
  ota: OtaManager,
  {
    file,
    manifest,
    component,
  }: { file: string; manifest?: string | undefined; component?: string | undefined },
): Promise<InstallRequest> {
  const dirs = ota.localInstallDirs;
  const payload = await confineLocalPath(file, dirs);
  if (!payload.ok) throw localError(payload, 'ENO_PAYLOAD');
  const signed = await readLocalFile(manifest ?? `${file}.cose`, dirs, MANIFEST_LIMITS.maxBytes);
  if (!signed.ok) throw localError(signed, 'ENO_MANIFEST');
  return { manifest: signed.bytes, file: payload.path, component };
}

/**
 * Forwards the install's progress to the console until this run of it ends; then either it is armed
 * and waits for its reboot (the console offers `ota.reboot` next), or it was rejected (the reason).
 */
async function followInstall(
  ota: OtaManager,
  installId: string,
  done: Promise<void>,
  progress: NonNullable<CommandContext['progress']>,
) {
  let rejected: OtaReport | undefined;
  const onProgress = (p: OtaProgress) => {
    if (p.installId === installId) progress({ doneBytes: p.bytes, totalBytes: p.totalBytes, phase: p.phase });
  };
  const onReport = (r: OtaReport) => {
    if (r.installId === installId && r.state === 'rejected') rejected = r;
  };
  ota.on('progress', onProgress);
  ota.on('report', onReport);
  try {
    await done;
  } finally {
    ota.off('progress', onProgress);
    ota.off('report', onReport);
  }
  if (rejected) {
    throw new CommandError(
      'EREJECTED',
      `install failed (${rejected.reason}): ${rejected.message ?? ''}`.trim(),
    );
  }
  const { install } = await ota.status();
  if (install?.id !== installId || install.phase !== 'armed') return { phase: install?.phase ?? 'done' };
  return {
    phase: 'armed',
    next: { question: `Reboot now into slot ${install.target} for the trial?`, command: 'ota.reboot' },
  };
}

function localError(e: { code: 'not-allowed' | 'unreadable'; reason: string }, unreadable: string) {
  return new CommandError(e.code === 'not-allowed' ? 'ENOT_ALLOWED' : unreadable, e.reason);
}

/** What `ota.install` and `ota.offer` answer once the offer is accepted; a rejection is the error. */
function accepted(result: InstallResult) {
  if (!result.ok) throw new CommandError('EREJECTED', `update rejected (${result.code}): ${result.reason}`);
  return {
    accepted: true,
    installId: result.installId,
    component: result.component,
    version: result.version,
    seq: result.seq,
    targetSlot: result.target,
  };
}
