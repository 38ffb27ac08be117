/**
 * The OTA facade the commands, the fleet link and build-agent.ts use: accept an offer (verify the manifest
 * against the trust root, this board, the committed seq, the slot's size and free space), run the
 * install single-flight, resume it at start from the journal (including the trial boot: health
 * checks, then commit or roll back), and report — `progress` and `report` events for a live listener,
 * the durable `reports` queue (`pending()` / `ack()`) for the fleet, which may be offline.
 *
 * `start()` returns at once; the resumed flow runs in the background (its health checks wait for the
 * rest of the agent). `idle()` resolves when no flow runs. On a normal boot (no install pending) the
 * running slot of every component is marked good, as RAUC's mark-good service does.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Clock } from '../core/clock.js';
import { ensurePrivateDir, readIfExists, unlinkDurable, writeDurable } from '../core/durable-file.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { BootSlotInfo } from './boot/boot-slot-info.js';
import type { SlotName } from './boot/types.js';
import { checkOffer, type InstallRequest, type OfferContext } from './check-offer.js';
import { CommittedStore } from './committed-state.js';
import type { HealthMonitor } from './health.js';
import { InstallError } from './install-errors.js';
import type {
  DownloadOptionsFor,
  FlowOutcome,
  InstallSettings,
  OtaComponent,
  OtaProgress,
} from './installer.js';
import { Journal } from './journal.js';
import type { LiveConsumer } from './live-component.js';
import { isComponentName, type Manifest, verifySignedManifest } from './manifest.js';
import { componentStatus, type OtaStatus } from './ota-status.js';
import { type InstallRecord, isInstallRecord, type PlanContext, PRE_ARM_PHASES } from './plan-install.js';
import { type OtaReport, ReportQueue } from './report-queue.js';
import { switchToOtherSlot } from './switch-slot.js';
import type { TrustRoot } from './trust.js';

export type { InstallRequest } from './check-offer.js';
export type { ComponentStatus, OtaStatus } from './ota-status.js';

export interface OtaEvents {
  progress: [OtaProgress];
  report: [OtaReport];
}

export interface OtaManagerDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** The OTA state directory (journal, reports, committed seqs, staging). */
  readonly stateDir: string;
  /** This board's id, which a manifest's `hw` must list. */
  readonly board: string;
  readonly components: readonly OtaComponent[];
  readonly trust: () => Promise<TrustRoot>;
  readonly bootInfo: BootSlotInfo;
  readonly health: HealthMonitor;
  readonly settings: InstallSettings;
  /** Runs the configured reboot command with the backend's extra arguments. */
  reboot(args: readonly string[]): Promise<void>;
  /** A minor-GC hint for downloads (gc-hint.ts). */
  readonly collectGarbage?: (() => void) | undefined;
  /** The built agent's directory, for the read-back worker (slots/medium-verify.ts). */
  readonly codeDir?: URL | undefined;
  /** Where `ota.install` may read payloads and manifests (local-paths.ts); default `<stateDir>/inbox`. */
  readonly localInstallDirs?: readonly string[] | undefined;
  /** Report queues of further consumers (the hawkBit client's), each given every report. */
  readonly reportMirrors?: readonly string[] | undefined;
  /** Headers and TLS for payload URLs (an update server's token or client certificate). */
  readonly downloadOptions?: DownloadOptionsFor | undefined;
}

export type InstallResult =
  | {
      readonly ok: true;
      readonly installId: string;
      readonly component: string;
      readonly version: string;
      readonly seq: number;
      readonly target: SlotName;
      /** Settles when this run of the install ends (concluded, or waiting for the reboot). */
      readonly done: Promise<void>;
    }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export type OfferPreview =
  | {
      readonly ok: true;
      readonly component: string;
      readonly version: string;
      readonly sizeBytes: number;
      /** The manifest's SHA-256 of the whole payload, hex. */
      readonly sha256: string;
      readonly from: SlotName;
      readonly target: SlotName;
    }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export type RollbackResult =
  | { readonly rolledBack: string; readonly reboot: boolean }
  | { readonly cancelled: string; readonly reboot: false };

export class OtaManager extends EventEmitter<OtaEvents> {
  readonly reports: ReportQueue;
  readonly #d: OtaManagerDeps;
  readonly #log: Logger;
  readonly #journal: Journal<InstallRecord>;
  readonly #committed: CommittedStore;
  readonly #manifestFile: string;
  readonly #components: Map<string, OtaComponent>;
  #record: InstallRecord | undefined;
  #flow: Promise<void> | undefined;
  /** Marking the running slots good after a normal boot: requests wait for it, not refuse. */
  #housekeeping: Promise<void> | undefined;
  #request: PlanContext['request'];
  #rebootRequested = false;
  #lastError: string | undefined;
  #progress: OtaProgress | undefined;
  #abort = new AbortController();
  /** The technician's cancel of the running flow (`rollback` before the target is armed). */
  #cancel = new AbortController();
  #installerModule: Promise<typeof import('./installer.js')> | undefined;

  constructor(deps: OtaManagerDeps) {
    super();
    this.#d = deps;
    this.#log = deps.log.child({ mod: 'ota' });
    this.#journal = new Journal(path.join(deps.stateDir, 'install.json'), isInstallRecord);
    this.#committed = new CommittedStore(path.join(deps.stateDir, 'committed.json'));
    this.#manifestFile = path.join(deps.stateDir, 'install.cose');
    this.reports = new ReportQueue(path.join(deps.stateDir, 'reports'), { mirrors: deps.reportMirrors });
    this.#components = new Map(deps.components.map((c) => [c.name, c]));
  }

  /** The directories local installs may read from (the default inbox is made at start). */
  get localInstallDirs(): readonly string[] {
    return this.#d.localInstallDirs ?? [path.join(this.#d.stateDir, 'inbox')];
  }

  /**
   * Makes `consumer` the one that switches live component `name` (a model, a rule set). Throws a
   * TypeError for a name that is not a live component: a configuration mistake build-agent.ts checks.
   */
  bindLive(name: string, consumer: LiveConsumer): void {
    const live = this.#components.get(name)?.live;
    if (!live) throw new TypeError(`ota component ${name} is not a model or rules component`);
    live.bind(consumer);
  }

  /** The slot directory a live component runs from (what its consumer loads at start). */
  async liveSlotDir(name: string): Promise<string | undefined> {
    const comp = this.#components.get(name);
    if (!comp?.live) return undefined;
    const current = await comp.boot.getCurrent();
    return current ? comp.slots[current].path : undefined;
  }

  /** Resumes an install from the journal, or marks the running slots good. Returns at once. */
  async start(): Promise<void> {
    this.#abort = new AbortController();
    await ensurePrivateDir(this.#d.stateDir);
    if (!this.#d.localInstallDirs) await ensurePrivateDir(path.join(this.#d.stateDir, 'inbox'));
    const loaded = await this.#journal.load();
    if (loaded.kind === 'corrupt') {
      this.#log.error({ err: loaded.error }, 'ota journal is corrupt; abandoning the install it held');
      await this.#journal.clear();
    }
    if (loaded.kind === 'record') {
      this.#record = loaded.record;
      this.#launch();
    } else {
      this.#housekeeping = this.#markRunningGood().finally(() => {
        this.#housekeeping = undefined;
      });
    }
  }

  /** Stops a running flow at its next safe point (the journal keeps its place). */
  async stop(): Promise<void> {
    this.#abort.abort(new InstallError('ECANCELLED', 'stopped', 'the agent is stopping'));
    await this.idle();
  }

  /** Resolves when no install, commit or rollback is running. */
  async idle(): Promise<void> {
    while (this.#flow || this.#housekeeping) await (this.#flow ?? this.#housekeeping)!.catch(() => undefined);
  }

  /** What an install of `request` would do, checked as an offer is, changing nothing. */
  async preview(request: InstallRequest): Promise<OfferPreview> {
    await this.#housekeeping;
    if (this.#rebootRequested || this.#flow || this.#record)
      return { ok: false, code: 'busy', reason: `an install is ${this.#record?.phase ?? 'running'}` };
    const v = await checkOffer(request, await this.#offerContext());
    if (!v.ok) return { ok: false, code: v.code, reason: v.reason };
    const { version, size: sizeBytes } = v.manifest;
    const sha256 = Buffer.from(v.manifest.sha256).toString('hex');
    return {
      ok: true,
      component: v.component.name,
      version,
      sizeBytes,
      sha256,
      from: v.booted,
      target: v.target,
    };
  }

  async install(request: InstallRequest): Promise<InstallResult> {
    await this.#housekeeping;
    this.#assertIdle();
    let release!: () => void;
    this.#flow = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      return await this.#accept(request);
    } finally {
      release();
      if (!this.#record) this.#flow = undefined;
    }
  }

  /** Reboots into the target of an install held at `armed` (`holdReboot`: the console asked first). */
  async rebootIntoTrial(): Promise<{ rebooting: SlotName }> {
    await this.#housekeeping;
    const r = this.#record;
    if (r?.phase !== 'armed' || !r.holdReboot || this.#flow)
      throw new InstallError('ESTATE', 'not-held', 'no install is armed and waiting for its reboot');
    this.#record = { ...r, holdReboot: false };
    await this.#journal.save(this.#record);
    this.#launch();
    await this.idle();
    return { rebooting: r.target };
  }

  /** Arms and reboots into an install held written (`holdArm`: an update server's maintenance window). */
  async activate(): Promise<{ rebooting: SlotName }> {
    await this.#housekeeping;
    const r = this.#record;
    if (!r?.holdArm || this.#flow)
      throw new InstallError('ESTATE', 'not-held', 'no install is written and waiting to be activated');
    this.#record = { ...r, holdArm: false };
    await this.#journal.save(this.#record);
    this.#launch();
    await this.idle();
    return { rebooting: r.target };
  }

  /**
   * An update server's cancel: taken while nothing is being written — the install not started, or
   * held written with the boot untouched — refused (`writing`) while the slot is written or once armed.
   */
  async cancelUnstarted(who: string): Promise<RollbackResult> {
    await this.#housekeeping;
    const r = this.#record;
    if (!r) throw new InstallError('ESTATE', 'no-install', 'no install to cancel');
    const idle = r.phase === 'accepted' || r.phase === 'target-bad' || (r.holdArm === true && !this.#flow);
    if (!idle)
      throw new InstallError('EBUSY', 'writing', `the install is ${r.phase}: it can no longer be cancelled`);
    return this.#cancelInstall(r, who);
  }

  /** Commits the trial now (skipping the health checks), or marks the running slot good. */
  async commit(component?: string): Promise<{ committed?: string; markedGood?: SlotName }> {
    await this.#housekeeping;
    const r = this.#record;
    if (r && (r.phase === 'armed' || r.phase === 'healthy')) {
      if ((await this.#component(r.component).boot.getCurrent()) !== r.target) {
        throw new InstallError(
          'ESTATE',
          'not-trial',
          `slot ${r.target} is armed but not running yet (reboot first)`,
        );
      }
      this.#request = { kind: 'commit' };
      if (!this.#flow) this.#launch();
      await this.idle();
      if (this.#record)
        throw new InstallError('ESTATE', 'commit-failed', this.#lastError ?? 'commit did not complete');
      return { committed: r.id };
    }
    if (r || this.#flow) throw new InstallError('EBUSY', 'busy', `an install is ${r?.phase ?? 'running'}`);
    const comp = this.#component(component);
    const booted = await comp.boot.getCurrent();
    if (!booted) throw new InstallError('ESTATE', 'booted-unknown', 'the running slot cannot be told');
    await comp.boot.setState(booted, 'good');
    return { markedGood: booted };
  }

  /**
   * Abandons the trial (reboots into the old slot), cancels an install not armed yet (rejected as
   * `cancelled`, its target left bad), or switches to the other good slot and reboots.
   */
  async rollback(who: string, component?: string): Promise<RollbackResult> {
    await this.#housekeeping;
    const r = this.#record;
    if (r && PRE_ARM_PHASES.has(r.phase)) return this.#cancelInstall(r, who);
    if (r && (r.phase === 'armed' || r.phase === 'healthy')) {
      this.#request = { kind: 'rollback', who };
      if (!this.#flow) this.#launch();
      await this.idle();
      return { rolledBack: r.id, reboot: this.#rebootRequested };
    }
    if (r || this.#flow) throw new InstallError('EBUSY', 'busy', `an install is ${r?.phase ?? 'running'}`);
    const comp = this.#component(component);
    if (comp.live) {
      throw new InstallError(
        'ESTATE',
        'live-component',
        `${comp.name} is a ${comp.live.kind} component, switched live: go back by installing the version you want`,
      );
    }
    const id = this.#newId(comp.name, 0);
    const report = await switchToOtherSlot(comp, who, id, { reports: this.reports, clock: this.#d.clock });
    this.emit('report', report);
    await this.#d.reboot(await comp.boot.rebootArgs());
    this.#rebootRequested = true;
    return { rolledBack: id, reboot: true };
  }

  /** Stops the install at once (a download waiting or trickling included) and waits for its report. */
  async #cancelInstall(r: InstallRecord, who: string): Promise<RollbackResult> {
    const reason = new InstallError('ECANCELLED', 'cancelled', `cancelled by ${who}`);
    if (!this.#flow) this.#launch();
    this.#cancel.abort(reason);
    await this.idle();
    if (this.#record?.id === r.id) {
      throw new InstallError(
        'ESTATE',
        'cancel-failed',
        this.#rebootRequested
          ? 'the install was armed before the cancel took effect: roll the trial back after the reboot'
          : (this.#lastError ?? 'the install did not stop'),
      );
    }
    return { cancelled: r.id, reboot: false };
  }

  async status(): Promise<OtaStatus> {
    const committed = await this.#committed.load();
    return {
      busy: this.#flow !== undefined,
      rebootPending: this.#rebootRequested,
      install: this.#record,
      progress: this.#record && this.#progress?.installId === this.#record.id ? this.#progress : undefined,
      components: await Promise.all([...this.#components.values()].map((c) => componentStatus(c, committed))),
      pendingReports: (await this.reports.pending()).length,
      lastError: this.#lastError,
    };
  }

  #assertIdle(): void {
    if (this.#rebootRequested) throw new InstallError('EBUSY', 'reboot-pending', 'a reboot is pending');
    if (this.#flow || this.#record) {
      throw new InstallError('EBUSY', 'busy', `an install is already ${this.#record?.phase ?? 'running'}`);
    }
  }

  /**
   * The installer module (download, slot writers, tar), imported when there is an install to run so
   * that an idle agent does not hold it; an offer starts the import while it is being checked.
   */
  #installer(): Promise<typeof import('./installer.js')> {
    this.#installerModule ??= import('./installer.js');
    return this.#installerModule;
  }

  async #offerContext(): Promise<OfferContext> {
    const [trust, committed] = [await this.#d.trust(), await this.#committed.load()];
    return {
      trust,
      board: this.#d.board,
      components: this.#components,
      committed,
      wallMs: this.#d.clock.nowMs(),
    };
  }

  async #accept(request: InstallRequest): Promise<InstallResult> {
    this.#installer().catch(() => undefined); // failures surface where the flow awaits it
    const verdict = await checkOffer(request, await this.#offerContext());
    if (!verdict.ok) {
      const id = this.#newId(verdict.component ?? 'offer', 0);
      return this.#reject(
        id,
        verdict.manifest,
        verdict.component,
        verdict.code,
        verdict.reason,
        request.actionId,
      );
    }
    const { manifest: m, booted, target } = verdict;
    const name = verdict.component.name;
    const installId = this.#newId(name, m.seq);
    const record: InstallRecord = {
      v: 1,
      id: installId,
      component: name,
      version: m.version,
      seq: m.seq,
      format: m.format,
      sizeBytes: m.size,
      source:
        request.file !== undefined
          ? { kind: 'file', path: path.resolve(request.file) }
          : { kind: 'url', url: request.url ?? m.url! },
      from: booted,
      target,
      phase: 'accepted',
      offsetBytes: 0,
      phaseBootId: await this.#d.bootInfo.bootId(),
      acceptedWallMs: this.#d.clock.nowMs(),
      ...(request.holdReboot ? { holdReboot: true } : {}),
      ...(request.holdArm ? { holdArm: true } : {}),
      ...(request.actionId !== undefined ? { actionId: request.actionId } : {}),
      ...(verdict.component.live ? { live: true as const } : {}),
    };
    // The manifest first, then the journal: a journal entry always has its manifest beside it.
    await writeDurable(this.#manifestFile, request.manifest);
    await this.#journal.save(record);
    this.#record = record;
    this.#log.info(
      { installId, component: name, version: m.version, seq: m.seq, target, source: record.source },
      'ota install accepted',
    );
    const done = this.#launch();
    return { ok: true, installId, component: name, version: m.version, seq: m.seq, target, done };
  }

  async #reject(
    id: string,
    m: Manifest | undefined,
    component: string | undefined,
    code: string,
    reason: string,
    actionId: string | undefined,
  ): Promise<InstallResult> {
    this.#log.warn({ code, reason, version: m?.version, seq: m?.seq }, 'ota offer rejected');
    const report = await this.reports.put({
      id: `${id}.rejected`,
      installId: id,
      state: 'rejected',
      component: component ?? m?.component ?? 'unknown',
      version: m?.version,
      seq: m?.seq,
      targetSlot: undefined,
      bootedSlot: undefined,
      reason: code,
      message: reason,
      ...(actionId !== undefined ? { actionId } : {}),
      wallMs: this.#d.clock.nowMs(),
    });
    this.emit('report', report);
    return { ok: false, code, reason };
  }

  /** Runs the flow for the journal's record in the background; returns its completion. */
  #launch(): Promise<void> {
    const signal = this.#abort.signal;
    this.#cancel = new AbortController();
    const cancel = this.#cancel.signal;
    const run = async () => {
      const record = this.#record!;
      const comp = this.#components.get(record.component);
      if (!comp) {
        this.#log.error(
          { component: record.component },
          'ota journal names an unknown component; abandoning',
        );
        await this.#journal.clear();
        this.#record = undefined;
        return;
      }
      const manifest = await this.#storedManifest();
      const { runInstallFlow } = await this.#installer();
      const outcome: FlowOutcome = await runInstallFlow(
        {
          clock: this.#d.clock,
          log: this.#log,
          journal: this.#journal,
          reports: this.reports,
          committed: this.#committed,
          health: this.#d.health,
          settings: this.#d.settings,
          stagingDir: path.join(this.#d.stateDir, 'staging'),
          collectGarbage: this.#d.collectGarbage,
          codeDir: this.#d.codeDir,
          downloadOptions: this.#d.downloadOptions,
          reboot: (args) => this.#d.reboot(args),
          onRecord: (r) => {
            this.#record = r;
          },
          onProgress: (p) => {
            this.#progress = p;
            this.emit('progress', p);
          },
          onReport: (r) => this.emit('report', r),
        },
        {
          record,
          manifest,
          component: comp,
          bootId: await this.#d.bootInfo.bootId(),
          booted: await comp.boot.getCurrent(),
          signal,
          cancel,
          request: () => this.#request,
        },
      );
      if (outcome.rebootRequested) this.#rebootRequested = true;
      if (!this.#record) {
        await unlinkDurable(this.#manifestFile);
        if (!this.#rebootRequested) await this.#markRunningGood();
      }
    };
    const flow = run()
      .then(
        () => {
          this.#lastError = undefined;
        },
        (e: unknown) => {
          if (signal.aborted) return;
          this.#lastError = errorMessage(e);
          this.#log.error(
            { err: this.#lastError, phase: this.#record?.phase },
            'ota flow failed; will retry at next start',
          );
        },
      )
      .finally(() => {
        this.#flow = undefined;
        this.#request = undefined;
      });
    this.#flow = flow;
    return flow;
  }

  async #storedManifest(): Promise<Manifest | undefined> {
    const bytes = await readIfExists(this.#manifestFile);
    if (!bytes) return undefined;
    const signed = verifySignedManifest(new Uint8Array(bytes), await this.#d.trust());
    return signed.ok ? signed.manifest : undefined;
  }

  /** RAUC's mark-good: a system that came up confirms the slot it runs from (resets its budget). */
  async #markRunningGood(): Promise<void> {
    for (const comp of this.#components.values()) {
      try {
        const booted = await comp.boot.getCurrent();
        if (booted) await comp.boot.setState(booted, 'good');
      } catch (e) {
        this.#log.warn(
          { component: comp.name, err: errorMessage(e) },
          'ota: cannot mark the running slot good',
        );
      }
    }
  }

  #component(name?: string): OtaComponent {
    const comp = name ? this.#components.get(name) : this.#components.values().next().value;
    if (!comp) throw new InstallError('ESTATE', 'wrong-component', `no component ${name ?? ''}`.trim());
    return comp;
  }

  #newId(component: string, seq: number): string {
    // The id names report files: an offer's unchecked component ("../x") must not end up in it.
    const stem = isComponentName(component) ? component : 'offer';
    return `${stem}-${seq}-${randomBytes(4).toString('hex')}`;
  }
}
