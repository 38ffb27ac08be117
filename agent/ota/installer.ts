/**
 * Executes an install plan (plan-install.ts): one executor per step kind, each of which changes the
 * world (a slot, the boot environment, the report queue) first and then journals the new phase, so a
 * power cut between the two repeats an idempotent step rather than skipping one. After every step
 * the plan is made again from the journal record; the loop ends when the plan is empty (done, or
 * waiting for a reboot) or the signal aborts (the agent is stopping; the journal holds the place).
 *
 * A failure before the target is armed — or the technician's cancel, which stops a download at once —
 * rejects the install (reported with the error's reason, the target left marked bad); a failure after it leaves the journal as it is and rethrows, so the next
 * start tries the same step again — by then the boot environment may be writable again.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { ensurePrivateDir } from '../core/durable-file.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { AdaptiveSource } from './adaptive-source.js';
import { LiveSlotBackend } from './boot/live.js';
import type { BootBackend, SlotName } from './boot/types.js';
import type { CommittedStore } from './committed-state.js';
import {
  FilePayloadSource,
  HttpPayloadSource,
  type HttpSourceOptions,
  type PayloadSource,
} from './download.js';
import type { HealthMonitor, HealthVerdict } from './health.js';
import { InstallError, isInstallError } from './install-errors.js';
import type { Journal } from './journal.js';
import type { LiveBinding } from './live-component.js';
import type { Manifest } from './manifest.js';
import { chunkIndexDir, openAdaptiveSource } from './open-adaptive-source.js';
import {
  type FinalState,
  type InstallRecord,
  type PlanContext,
  PRE_ARM_PHASES,
  planInstall,
  type Step,
} from './plan-install.js';
import type { OtaReport, ReportQueue } from './report-queue.js';
import { compareSlotWithTar, unpackIntoSlot } from './slots/dir-slot.js';
import { openReadBack } from './slots/medium-verify.js';
import { digestPrefix, RawWriter, resumePoint } from './slots/raw-writer.js';
import type { SlotSpec } from './slots/slot-device.js';
import { transfer } from './transfer.js';

export interface OtaComponent {
  readonly name: string;
  readonly slots: Readonly<Record<SlotName, SlotSpec>>;
  readonly boot: BootBackend;
  /** A model or rule set: switched live by its consumer (its `boot` is then a LiveSlotBackend). */
  readonly live?: LiveBinding | undefined;
}

/** Headers and TLS settings for a payload URL; never journaled (a token is a secret). */
export type DownloadOptionsFor = (url: string) => Pick<HttpSourceOptions, 'headers' | 'tls'>;

export interface InstallSettings {
  /** `medium`: read the slot back with O_DIRECT where it allows it (slots/medium-verify.ts). */
  readonly readBack: 'medium' | 'page-cache';
  /** Unit of durable progress when the manifest has no per-chunk hashes. */
  readonly checkpointBytes: number;
  /** With per-chunk hashes: sync and journal every this many bytes or ms (see transfer.ts). */
  readonly syncIntervalBytes: number;
  readonly syncIntervalMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly lowSpeedBytesPerS: number;
  readonly lowSpeedWindowMs: number;
  readonly idleTimeoutMs: number;
  readonly headerTimeoutMs: number;
  /** The whole download of one run (see transfer.ts). */
  readonly deadlineMs: number;
  /** Fetch only the chunks the device does not already hold (adaptive-source.ts). */
  readonly adaptive?: boolean | undefined;
}

export interface OtaProgress {
  readonly installId: string;
  readonly component: string;
  readonly version: string;
  readonly phase: InstallRecord['phase'];
  /** Payload bytes durable in the target so far. */
  readonly bytes: number;
  readonly totalBytes: number;
  /** Adaptive installs: payload bytes received from the server so far (the rest came from the device). */
  readonly fetchedBytes?: number | undefined;
}

export interface InstallerDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly journal: Journal<InstallRecord>;
  readonly reports: ReportQueue;
  readonly committed: CommittedStore;
  readonly health: HealthMonitor;
  readonly settings: InstallSettings;
  /** Where tar payloads are downloaded before unpacking. */
  readonly stagingDir: string;
  /** A minor-GC hint for downloads (gc-hint.ts). */
  readonly collectGarbage?: (() => void) | undefined;
  /** The built agent's directory, for the read-back worker (slots/medium-verify.ts). */
  readonly codeDir?: URL | undefined;
  /** What a download from `url` needs besides the URL: an update server's token or client certificate. */
  readonly downloadOptions?: DownloadOptionsFor | undefined;
  /** Runs the reboot command; resolves once it has been issued. */
  reboot(args: readonly string[]): Promise<void>;
  onRecord(record: InstallRecord | undefined): void;
  onProgress(progress: OtaProgress): void;
  onReport(report: OtaReport): void;
}

export interface FlowInput {
  readonly record: InstallRecord;
  /** The verified manifest; undefined if its stored copy was lost (then only post-arm steps can run). */
  readonly manifest: Manifest | undefined;
  readonly component: OtaComponent;
  readonly bootId: string;
  readonly booted: SlotName | undefined;
  readonly signal: AbortSignal;
  /** The technician's cancel: an install not armed yet is rejected with the signal's reason (target bad). */
  readonly cancel: AbortSignal;
  /** The technician's decision about the trial, read at each plan (it may arrive during checks). */
  request(): PlanContext['request'];
}

export interface FlowOutcome {
  /** The final report, when the install concluded in this run. */
  readonly report: OtaReport | undefined;
  /** A reboot was requested; the install continues after it. */
  readonly rebootRequested: boolean;
}

export async function runInstallFlow(deps: InstallerDeps, input: FlowInput): Promise<FlowOutcome> {
  const flow = new Flow(deps, input);
  return flow.run();
}

class Flow {
  readonly #d: InstallerDeps;
  readonly #in: FlowInput;
  readonly #log: Logger;
  #record: InstallRecord | undefined;
  #rebootRequested = false;
  #report: OtaReport | undefined;
  /** The running slot; a live component's changes during the flow. */
  #booted: SlotName | undefined;

  constructor(deps: InstallerDeps, input: FlowInput) {
    this.#d = deps;
    this.#in = input;
    this.#record = input.record;
    this.#booted = input.booted;
    this.#log = deps.log.child({ install: input.record.id });
  }

  async run(): Promise<FlowOutcome> {
    for (;;) {
      this.#in.signal.throwIfAborted();
      const r = this.#record;
      if (r && this.#in.cancel.aborted && PRE_ARM_PHASES.has(r.phase))
        await this.#rejectWith(r, this.#in.cancel.reason);
      const steps = planInstall(this.#record, {
        bootId: this.#in.bootId,
        booted: this.#booted,
        rebootRequested: this.#rebootRequested,
        request: this.#in.request(),
      });
      const step = steps[0];
      if (!step) return { report: this.#report, rebootRequested: this.#rebootRequested };
      const record = this.#record!;
      this.#log.info({ step: step.kind, phase: record.phase, plan: steps.map((s) => s.kind) }, 'ota step');
      try {
        await this.#execute(step, record);
      } catch (e) {
        if (this.#in.signal.aborted) throw this.#in.signal.reason;
        if (!PRE_ARM_PHASES.has(record.phase) || step.kind === 'conclude') throw e;
        await this.#rejectWith(record, e, step.kind);
      }
    }
  }

  async #rejectWith(record: InstallRecord, e: unknown, step?: Step['kind']): Promise<void> {
    const reason = isInstallError(e) ? e.reason : 'install-failed';
    this.#log.warn({ step, reason, err: errorMessage(e) }, 'ota install rejected');
    await this.#save({ ...record, phase: 'rejected', reason, message: errorMessage(e) });
  }

  async #execute(step: Step, r: InstallRecord): Promise<void> {
    const { boot } = this.#in.component;
    switch (step.kind) {
      case 'mark-target-bad':
        await boot.setState(r.target, 'bad');
        return this.#save({ ...r, phase: 'target-bad', offsetBytes: 0 });
      case 'write':
        return this.#write(r, step.fromOffset);
      case 'unpack':
        await unpackIntoSlot(this.#stagingFile(r), this.#slot(r).path);
        return this.#save({ ...r, phase: 'unpacked' });
      case 'read-back':
        await this.#readBack(r);
        return this.#save({ ...r, phase: 'verified' });
      case 'arm': {
        await boot.setPrimary(r.target);
        // Report before journaling: repeated after a power cut, the report replaces itself.
        await this.#put(r, 'installed', this.#booted);
        return this.#save({ ...r, phase: 'armed' });
      }
      case 'reboot': {
        const args = await boot.rebootArgs();
        this.#log.info({ why: step.why, args }, 'ota reboot');
        await this.#d.reboot(args);
        this.#rebootRequested = true;
        return;
      }
      case 'switch-live':
        return this.#switchLive(r);
      case 'check-health': {
        const verdict = await this.#d.health.run(this.#in.signal, () => this.#override());
        if (verdict.ok) return this.#save({ ...r, phase: 'healthy' });
        const message = verdict.failed.map((f) => `${f.name}: ${f.detail}`).join('; ');
        const manual = verdict.failed.some((f) => f.name === 'manual-rollback');
        this.#log.warn({ message }, 'ota trial unhealthy');
        return this.#save({
          ...r,
          phase: 'failed-trial',
          reason: manual ? 'manual-rollback' : 'unhealthy',
          message,
        });
      }
      case 'fail-trial':
        return this.#save({ ...r, phase: 'failed-trial', reason: step.reason, message: step.message });
      case 'commit': {
        await boot.setState(r.target, 'good');
        const created = this.#in.manifest?.created;
        const m = this.#in.manifest;
        await this.#d.committed.record(
          r.component,
          {
            seq: r.seq,
            version: r.version,
            slot: r.target,
            wallMs: this.#d.clock.nowMs(),
            ...(m ? { sizeBytes: m.size, sha256: Buffer.from(m.sha256).toString('hex') } : {}),
          },
          created !== undefined ? created * 1000 : 0,
        );
        return this.#save({ ...r, phase: 'committed' });
      }
      case 'fall-back': {
        await boot.setState(r.target, 'bad');
        await boot.setPrimary(r.from);
        const fellBack = r.phase === 'armed' || r.phase === 'healthy';
        return this.#save({
          ...r,
          phase: 'fell-back',
          reason: r.reason ?? (fellBack ? 'boot-failed' : undefined),
          message:
            r.message ??
            (fellBack
              ? `slot ${r.target} was not confirmed within its boot attempts; the bootloader fell back to ${this.#booted ?? r.from}`
              : undefined),
        });
      }
      case 'reject':
        return this.#save({ ...r, phase: 'rejected', reason: step.reason, message: step.message });
      case 'conclude':
        return this.#conclude(r, step.state);
    }
  }

  /** Hands the target to the component's consumer, which proves it or keeps the running one. */
  async #switchLive(r: InstallRecord): Promise<void> {
    const { live, boot, name } = this.#in.component;
    const consumer = live?.consumer;
    if (!live || !consumer || !(boot instanceof LiveSlotBackend)) {
      const what = live ? `${live.kind} component` : 'component';
      return this.#save({
        ...r,
        phase: 'failed-trial',
        reason: 'no-consumer',
        message: `nothing in this agent runs ${what} ${name} (no ${live?.kind === 'rules' ? 'rules component' : 'inference model'} names it)`,
      });
    }
    const attempt = { ...r, liveAttempts: (r.liveAttempts ?? 0) + 1 };
    await this.#save(attempt);
    this.#log.info({ slot: r.target, attempt: attempt.liveAttempts }, 'ota switching live');
    const result = await consumer.activate(this.#slot(r).path, { ...live.options, signal: this.#in.signal });
    this.#in.signal.throwIfAborted();
    if (!result.ok) {
      this.#log.warn(
        { reason: result.reason, message: result.message },
        'ota live switch failed; kept the running slot',
      );
      return this.#save({
        ...attempt,
        phase: 'failed-trial',
        reason: result.reason,
        message: result.message,
      });
    }
    await boot.setCurrent(r.target);
    this.#booted = r.target;
    return this.#save({ ...attempt, phase: 'healthy' });
  }

  #override(): HealthVerdict | undefined {
    const req = this.#in.request();
    if (req?.kind === 'commit') return { ok: true, checks: ['manual-commit'] };
    if (req?.kind === 'rollback')
      return { ok: false, failed: [{ name: 'manual-rollback', detail: `by ${req.who}` }] };
    return undefined;
  }

  #manifest(): Manifest {
    const m = this.#in.manifest;
    if (!m) throw new InstallError('ESTATE', 'manifest-lost', 'the stored manifest is missing or invalid');
    return m;
  }

  async #write(r: InstallRecord, fromOffset: number): Promise<void> {
    const m = this.#manifest();
    const s = this.#d.settings;
    const file = r.format === 'tar' ? this.#stagingFile(r) : this.#slot(r).path;
    const kind = r.format === 'tar' ? 'image' : (this.#slot(r).kind as 'image' | 'block');
    const chunk = m.chunk !== undefined && m.chunks ? { sizeBytes: m.chunk, sha256: m.chunks } : undefined;
    const unit = chunk?.sizeBytes ?? s.checkpointBytes;
    if (r.format === 'tar') await ensurePrivateDir(this.#d.stagingDir);
    const resume = await resumePoint(file, fromOffset, r.sizeBytes, chunk, unit);
    const start = resume.offsetBytes;
    if (start < fromOffset)
      this.#log.warn({ journaled: fromOffset, resumeAt: start }, 'ota resume point moved back');
    else if (start > 0) this.#log.info({ journaled: fromOffset, resumeAt: start }, 'ota resuming write');
    await this.#save({ ...r, phase: 'writing', offsetBytes: start });
    const writer = await RawWriter.open(file, kind);
    const mediumReadBack = await openReadBack(
      s.readBack,
      { file, unitBytes: unit, sizeBytes: r.sizeBytes, codeDir: this.#d.codeDir },
      this.#log,
    ).catch(async (e: unknown) => {
      await writer.close();
      throw e;
    });
    const signal = AbortSignal.any([this.#in.signal, this.#in.cancel]);
    const source = await this.#source(r, m, signal);
    let record = this.#record!;
    const fetchedBefore = r.fetchedBytes ?? 0;
    const fetched = () =>
      source instanceof AdaptiveSource ? { fetchedBytes: fetchedBefore + source.fetchedBytes } : {};
    try {
      await transfer({
        source,
        writer,
        sizeBytes: r.sizeBytes,
        sha256: m.sha256,
        chunk,
        mediumReadBack,
        checkpointBytes: s.checkpointBytes,
        syncIntervalBytes: s.syncIntervalBytes,
        syncIntervalMs: s.syncIntervalMs,
        startOffset: start,
        hash: resume.hash,
        resumedCrc32: resume.unitCrc32,
        clock: this.#d.clock,
        signal,
        maxAttempts: s.maxAttempts,
        retryBaseMs: s.retryBaseMs,
        retryMaxMs: s.retryMaxMs,
        deadlineMs: s.deadlineMs,
        onCheckpoint: async (offsetBytes) => {
          record = { ...record, offsetBytes, ...fetched() };
          await this.#save(record);
        },
        onProgress: (bytes) => this.#progress({ ...record, ...fetched() }, bytes),
        onRetry: (e, attempt, delayMs) =>
          this.#log.warn(
            { attempt, delayMs: Math.round(delayMs), err: errorMessage(e) },
            'ota download retry',
          ),
      });
    } finally {
      await source.close?.();
      await mediumReadBack?.close();
      await writer.close();
    }
    await this.#save({ ...this.#record!, phase: 'written', offsetBytes: r.sizeBytes, ...fetched() });
  }

  /** Tar only (a raw slot was read back unit by unit while it was written): the tree against the tar. */
  async #readBack(r: InstallRecord): Promise<void> {
    const want = Buffer.from(this.#manifest().sha256);
    const staging = this.#stagingFile(r);
    if (!(await digestPrefix(staging, r.sizeBytes)).equals(want)) {
      throw new InstallError('EPAYLOAD', 'readback-mismatch', 'staged tar does not read back as written');
    }
    const problems = await compareSlotWithTar(staging, this.#slot(r).path);
    if (problems.length > 0) {
      throw new InstallError(
        'EPAYLOAD',
        'readback-mismatch',
        `slot ${r.target}: ${problems.slice(0, 5).join('; ')}`,
      );
    }
    await rm(staging, { force: true });
  }

  async #conclude(r: InstallRecord, state: FinalState): Promise<void> {
    // A rejection may have come half-way through a boot-environment write (say, arming that did not
    // read back): make sure the target is not left bootable before saying it was not installed.
    if (state === 'rejected' && this.#booted !== r.target) {
      await this.#in.component.boot.setState(r.target, 'bad');
    }
    const booted = state === 'committed' ? r.target : state === 'rolled-back' ? r.from : this.#booted;
    const report = await this.#put(r, state, booted);
    if (r.format === 'tar') await rm(this.#stagingFile(r), { force: true });
    await this.#d.journal.clear();
    this.#record = undefined;
    this.#d.onRecord(undefined);
    this.#report = report;
    this.#log.info({ state, reason: r.reason, version: r.version }, 'ota install concluded');
  }

  async #put(r: InstallRecord, state: OtaReport['state'], booted: SlotName | undefined): Promise<OtaReport> {
    const report = await this.#d.reports.put({
      id: `${r.id}.${state}`,
      installId: r.id,
      state,
      component: r.component,
      version: r.version,
      seq: r.seq,
      targetSlot: r.target,
      bootedSlot: booted,
      ...(state === 'rolled-back' || state === 'rejected' ? { reason: r.reason, message: r.message } : {}),
      ...(r.actionId !== undefined ? { actionId: r.actionId } : {}),
      ...(r.fetchedBytes !== undefined ? { fetchedBytes: r.fetchedBytes, sizeBytes: r.sizeBytes } : {}),
      wallMs: this.#d.clock.nowMs(),
    });
    this.#d.onReport(report);
    return report;
  }

  async #save(record: InstallRecord): Promise<void> {
    const next = { ...record, phaseBootId: this.#in.bootId };
    await this.#d.journal.save(next);
    this.#record = next;
    this.#d.onRecord(next);
    this.#progress(next, next.offsetBytes);
  }

  #progress(r: InstallRecord, bytes: number): void {
    this.#d.onProgress({
      installId: r.id,
      component: r.component,
      version: r.version,
      phase: r.phase,
      bytes,
      totalBytes: r.sizeBytes,
      ...(r.fetchedBytes !== undefined ? { fetchedBytes: r.fetchedBytes } : {}),
    });
  }

  #slot(r: InstallRecord): SlotSpec {
    return this.#in.component.slots[r.target];
  }

  #stagingFile(r: InstallRecord): string {
    return path.join(this.#d.stagingDir, `${r.id}.tar`);
  }

  /**
   * The payload: the local file, the URL — or, for a raw image with chunk hashes (and
   * `ota.download.adaptive`), the URL for only the chunks this device does not already hold.
   */
  async #source(r: InstallRecord, m: Manifest, signal: AbortSignal): Promise<PayloadSource> {
    if (r.source.kind === 'file') return new FilePayloadSource(r.source.path);
    const http = this.#http(r.source.url, r);
    if (!this.#d.settings.adaptive) return http;
    const started = this.#d.clock.monotonicMs();
    const adaptive = await openAdaptiveSource({
      record: r,
      manifest: m,
      slots: this.#in.component.slots,
      committed: (await this.#d.committed.load()).components[r.component],
      remote: http,
      cacheDir: chunkIndexDir(this.#d.stagingDir),
      signal,
    });
    if (!adaptive) return http;
    this.#log.info(
      {
        chunks: m.chunks?.length,
        local: adaptive.source.plannedLocalChunks,
        indexCached: adaptive.indexCached,
        hashMs: Math.round(this.#d.clock.monotonicMs() - started),
      },
      'ota adaptive: chunks found on the device',
    );
    return adaptive.source;
  }

  #http(url: string, r: InstallRecord): HttpPayloadSource {
    const s = this.#d.settings;
    return new HttpPayloadSource({
      url,
      sizeBytes: r.sizeBytes,
      clock: this.#d.clock,
      lowSpeedBytesPerS: s.lowSpeedBytesPerS,
      lowSpeedWindowMs: s.lowSpeedWindowMs,
      idleTimeoutMs: s.idleTimeoutMs,
      headerTimeoutMs: s.headerTimeoutMs,
      collectGarbage: this.#d.collectGarbage,
      ...this.#d.downloadOptions?.(url),
    });
  }
}
