/**
 * The device side of hawkBit's DDI API: poll the controller base at the server's `polling.sleep` (never
 * faster than `pollMinS`), send the device's attributes when asked or changed, take a deployment —
 * its signed manifest checked first (deployment.ts), the payload streamed by the same installer as
 * every other update (Range resume, chunk hashes, read-back) — answer cancel requests, and feed back
 * progress and the outcome. Feedback waits in a durable queue and is re-sent until the server takes
 * it (feedback.ts); the outcome of the trial boot arrives after a reboot through the OTA manager's
 * mirrored reports. Failures back off exponentially with full jitter (`retry`), reset by a success.
 *
 * Which actions this device has finished is kept on disk (`actions.json`): a hawkBit that has not
 * yet received the final feedback still offers the action, and it must not be installed twice.
 */
import path from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { ensurePrivateDir, readIfExists, writeDurable } from '../../core/durable-file.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { OtaProgress } from '../installer.js';
import type {
  InstallRequest,
  InstallResult,
  OfferPreview,
  OtaStatus,
  RollbackResult,
} from '../ota-manager.js';
import { ReportQueue } from '../report-queue.js';
import { type DdiHttp, DdiStatusError } from './ddi-http.js';
import {
  artifactHref,
  type DdiBase,
  type DdiDeploymentBase,
  ddiBaseSchema,
  ddiCancelSchema,
  ddiDeploymentBaseSchema,
  sleepMs,
} from './ddi-types.js';
import { actionIdOf, agreesWithManifest, chooseArtifacts } from './deployment.js';
import { FeedbackQueue, feedback, feedbackOfReport, isFinal } from './feedback.js';
import type { HawkbitConfig } from './hawkbit-schema.js';

/** What the client needs of the OTA manager. */
export interface HawkbitOta {
  preview(request: InstallRequest): Promise<OfferPreview>;
  install(request: InstallRequest): Promise<InstallResult>;
  activate(): Promise<unknown>;
  cancelUnstarted(who: string): Promise<RollbackResult>;
  status(): Promise<OtaStatus>;
  on(event: 'progress', listener: (p: OtaProgress) => void): unknown;
  off(event: 'progress', listener: (p: OtaProgress) => void): unknown;
}

export interface HawkbitClientDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly ota: HawkbitOta;
  readonly http: DdiHttp;
  /** `<stateDir>/ota/hawkbit`: the mirrored reports, the feedback queue, finished actions. */
  readonly stateDir: string;
  readonly controllerId: string;
  /** The attributes hawkBit keeps for this target (`configData`). */
  attributes(): Promise<Record<string, string>>;
  /** [0, 1): the backoff's jitter. */
  readonly random?: () => number;
}

export interface HawkbitStatus {
  /** The controller base URL polled. */
  readonly server: string;
  readonly lastPoll: { readonly ok: boolean; readonly at: number; readonly error?: string } | undefined;
  readonly pendingFeedback: number;
}

/** Where the OTA manager mirrors its reports for this client. */
export function hawkbitReportDir(stateDir: string): string {
  return path.join(stateDir, 'reports');
}

const FINISHED_KEPT = 64;
/** Progress is fed back in steps of this many percent. */
const PROGRESS_STEP = 10;

interface Persisted {
  readonly finished: readonly string[];
  readonly attributesSent?: string | undefined;
}

export class HawkbitClient {
  readonly #d: HawkbitClientDeps;
  readonly #c: HawkbitConfig;
  readonly #log: Logger;
  readonly #base: string;
  readonly #reports: ReportQueue;
  readonly #feedback: FeedbackQueue;
  readonly #stateFile: string;
  #state: Persisted = { finished: [] };
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #failures = 0;
  #lastProgress = new Map<string, number>();
  #installedChecked: string | undefined;
  #lastPoll: HawkbitStatus['lastPoll'];
  /** Progress being queued as feedback, in order; `stop()` waits for it. */
  #progressing: Promise<void> = Promise.resolve();
  readonly #onProgress = (p: OtaProgress) => {
    this.#progressing = this.#progressing
      .then(() => this.#progress(p))
      .catch((e: unknown) => this.#log.warn({ err: errorMessage(e) }, 'hawkbit progress lost'));
  };

  constructor(config: HawkbitConfig, deps: HawkbitClientDeps) {
    this.#c = config;
    this.#d = deps;
    this.#log = deps.log.child({ mod: 'hawkbit' });
    this.#base = `${config.url}/${config.tenant}/controller/v1/${encodeURIComponent(deps.controllerId)}`;
    this.#reports = new ReportQueue(hawkbitReportDir(deps.stateDir));
    this.#feedback = new FeedbackQueue(path.join(deps.stateDir, 'feedback'), {
      http: deps.http,
      base: this.#base,
      log: this.#log,
    });
    this.#stateFile = path.join(deps.stateDir, 'actions.json');
  }

  async start(): Promise<void> {
    await ensurePrivateDir(this.#d.stateDir);
    const saved = await readIfExists(this.#stateFile);
    try {
      if (saved) this.#state = JSON.parse(saved.toString('utf8')) as Persisted;
    } catch (e) {
      // Only a repeat of a finished action is at stake: hawkBit's installedBase and the seq check catch it.
      this.#log.warn(
        { file: this.#stateFile, err: errorMessage(e) },
        'hawkbit state unreadable; starting afresh',
      );
    }
    this.#stopped = false;
    this.#d.ota.on('progress', this.#onProgress);
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#d.ota.off('progress', this.#onProgress);
    await this.#running;
    await this.#progressing;
    await this.#feedback.idle();
  }

  /** For `ota status`: the server, the last poll, feedback not yet delivered. */
  async status(): Promise<HawkbitStatus> {
    return {
      server: this.#base,
      lastPoll: this.lastPoll,
      pendingFeedback: (await this.#feedback.pending()).length,
    };
  }

  get lastPoll(): HawkbitStatus['lastPoll'] {
    return this.#lastPoll;
  }

  /** One poll: what the timer runs each time (tests step it directly). Resolves the next delay. */
  async pollOnce(): Promise<number> {
    await this.#forwardReports();
    await this.#sendFeedback();
    const base = await this.#getJson(this.#base, ddiBaseSchema, 'controller base');
    const links = base._links;
    if (links.installedBase) await this.#installedBase(links.installedBase.href);
    await this.#configData(base);
    if (links.cancelAction) await this.#cancel(links.cancelAction.href);
    else if (links.deploymentBase) await this.#deployment(links.deploymentBase.href);
    await this.#forwardReports();
    await this.#sendFeedback();
    return Math.max(this.#c.pollMinS * 1000, sleepMs(base.config.polling.sleep));
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = this.#d.clock.setTimeout(() => {
      this.#running = this.#tick().finally(() => {
        this.#running = undefined;
      });
    }, delayMs);
  }

  async #tick(): Promise<void> {
    let next: number;
    try {
      next = await this.pollOnce();
      this.#failures = 0;
      this.#lastPoll = { ok: true, at: this.#d.clock.nowMs() };
    } catch (e) {
      this.#failures++;
      const ceiling = Math.min(
        this.#c.retry.maxMs,
        this.#c.retry.baseMs * 2 ** Math.min(this.#failures - 1, 30),
      );
      next = Math.max(10, Math.round((this.#d.random ?? Math.random)() * ceiling));
      this.#lastPoll = { ok: false, at: this.#d.clock.nowMs(), error: errorMessage(e) };
      this.#log.warn(
        { err: errorMessage(e), failures: this.#failures, retryMs: next },
        'hawkbit poll failed',
      );
    }
    this.#schedule(next);
  }

  async #getJson<T>(url: string, schema: { parse(v: unknown): T }, what: string): Promise<T> {
    const answer = await this.#d.http.get(url);
    if (answer.status !== 200) throw new DdiStatusError(what, answer);
    try {
      return schema.parse(JSON.parse(answer.body.toString('utf8')));
    } catch (e) {
      throw new Error(`hawkBit's ${what} is malformed: ${errorMessage(e).slice(0, 300)}`);
    }
  }

  /** The attributes, when hawkBit asks for them or they changed since they were last taken. */
  async #configData(base: DdiBase): Promise<void> {
    const data = await this.#d.attributes();
    const text = JSON.stringify(data);
    if (!base._links.configData && text === this.#state.attributesSent) return;
    const answer = await this.#d.http.put(`${this.#base}/configData`, { mode: 'merge', data });
    if (answer.status < 200 || answer.status > 299) throw new DdiStatusError('configData', answer);
    await this.#save({ ...this.#state, attributesSent: text });
    this.#log.info({ attributes: data }, 'hawkbit attributes sent');
  }

  /**
   * hawkBit's idea of what this target last installed, read once per action it names: an action this
   * device never finished (its state was wiped, or it replaced another device under the same
   * controller id) is logged, and the attributes are sent again so the server sees what really runs.
   */
  async #installedBase(href: string): Promise<void> {
    const actionId = actionIdOf(href);
    if (!actionId || actionId === this.#installedChecked) return;
    const installed = await this.#getJson(href, ddiDeploymentBaseSchema, `installed base ${actionId}`);
    this.#installedChecked = actionId;
    if (this.#state.finished.includes(actionId)) return;
    this.#log.warn(
      { actionId, modules: installed.deployment.chunks.map((c) => `${c.name} ${c.version}`) },
      'hawkbit lists an installed action this device did not finish; sending its attributes again',
    );
    await this.#save({ ...this.#state, attributesSent: undefined });
  }

  async #deployment(href: string): Promise<void> {
    const actionId = actionIdOf(href);
    if (!actionId) return;
    // The install first, then its reports: the OTA manager queues a final report before it clears
    // the install, so an install concluded in between is seen in one or the other — never taken again.
    const install = (await this.#d.ota.status()).install;
    await this.#forwardReports();
    if (this.#state.finished.includes(actionId)) return;
    const action = await this.#getJson(href, ddiDeploymentBaseSchema, `deployment ${actionId}`);
    const { deployment } = action;
    const hold = deployment.update === 'skip' || deployment.maintenanceWindow === 'unavailable';
    if (install?.actionId === actionId) {
      if (install.holdArm && !hold) {
        this.#log.info({ actionId }, 'hawkbit: installing the downloaded update (maintenance window open)');
        await this.#queue(actionId, 'activate', feedback('proceeding', 'none', ['installing now']));
        await this.#sendFeedback();
        await this.#d.ota.activate();
      }
      return;
    }
    if (install) {
      // A newer action replaces an update only downloaded; anything further along finishes first.
      if (!install.holdArm) return;
      await this.#d.ota.cancelUnstarted(`hawkBit action ${actionId}`);
    }
    if (deployment.download === 'skip') return;
    await this.#take(actionId, deployment, hold);
  }

  async #take(actionId: string, deployment: DdiDeploymentBase['deployment'], hold: boolean): Promise<void> {
    const choice = chooseArtifacts(deployment);
    if (!choice.ok) return this.#fail(actionId, choice.reason, choice.message);
    const answer = await this.#d.http.get(artifactHref(choice.manifest), '*/*');
    if (answer.status !== 200) throw new DdiStatusError(`manifest ${choice.manifest.filename}`, answer);
    const request: InstallRequest = {
      manifest: new Uint8Array(answer.body),
      url: artifactHref(choice.payload),
      actionId,
      ...(hold ? { holdArm: true } : {}),
    };
    const preview = await this.#d.ota.preview(request);
    if (!preview.ok) return this.#fail(actionId, preview.code, preview.reason);
    const disagreement = agreesWithManifest(choice.payload, preview);
    if (disagreement) return this.#fail(actionId, 'hash-mismatch', disagreement);
    await this.#queue(
      actionId,
      'download',
      feedback('download', 'none', [
        `${preview.component} ${preview.version} (${choice.module}) into slot ${preview.target}`,
      ]),
    );
    const result = await this.#d.ota.install(request);
    // A refusal here is reported by the OTA manager (with this action id), like every other outcome.
    if (result.ok) this.#log.info({ actionId, installId: result.installId }, 'hawkbit deployment accepted');
  }

  async #fail(actionId: string, reason: string, message: string): Promise<void> {
    this.#log.warn({ actionId, reason, message }, 'hawkbit deployment refused');
    await this.#queue(actionId, 'closed', feedback('closed', 'failure', [`${reason}: ${message}`]));
    await this.#finished(actionId);
  }

  async #cancel(href: string): Promise<void> {
    const cancel = await this.#getJson(href, ddiCancelSchema, 'cancel action');
    const stopId = cancel.cancelAction.stopId;
    const install = (await this.#d.ota.status()).install;
    let answer: ReturnType<typeof feedback>;
    if (install?.actionId === stopId) {
      try {
        await this.#d.ota.cancelUnstarted(`hawkBit cancel ${cancel.id}`);
        answer = feedback('closed', 'success', [`action ${stopId} cancelled before its slot was written`]);
      } catch (e) {
        answer = feedback('rejected', 'none', [`action ${stopId} cannot be cancelled: ${errorMessage(e)}`]);
      }
    } else {
      answer = feedback('closed', 'success', [`action ${stopId} was not started on this device`]);
    }
    this.#log.info({ stopId, execution: answer.status.execution }, 'hawkbit cancel answered');
    await this.#feedback.put({
      id: `${cancel.id}.cancel.${answer.status.execution}`,
      actionId: cancel.id,
      channel: 'cancelAction',
      body: answer,
    });
    if (answer.status.execution === 'closed') await this.#finished(stopId);
  }

  async #progress(p: OtaProgress): Promise<void> {
    const install = (await this.#d.ota.status()).install;
    const actionId = install?.id === p.installId ? install.actionId : undefined;
    if (actionId === undefined) return;
    if ((p.phase === 'written' || p.phase === 'verified') && install?.holdArm) {
      await this.#queue(
        actionId,
        'downloaded',
        feedback('downloaded', 'none', ['written and verified; waiting to install']),
      );
      // Said now, not at the next poll: the operator is waiting for it (the next poll retries).
      await this.#sendFeedback().catch(() => undefined);
      return;
    }
    if (p.phase !== 'writing' || p.totalBytes === 0) return;
    const percent = Math.floor(((p.bytes / p.totalBytes) * 100) / PROGRESS_STEP) * PROGRESS_STEP;
    if (percent <= (this.#lastProgress.get(actionId) ?? -1)) return;
    this.#lastProgress.set(actionId, percent);
    await this.#queue(
      actionId,
      `progress-${percent}`,
      feedback('proceeding', 'none', [`writing: ${p.bytes} of ${p.totalBytes} bytes`], {
        cnt: percent,
        of: 100,
      }),
    );
  }

  /** The OTA manager's reports of hawkBit's actions become feedback (then the report is done with). */
  async #forwardReports(): Promise<void> {
    for (const report of await this.#reports.pending()) {
      if (report.actionId !== undefined) {
        const body = feedbackOfReport(report);
        if (body) await this.#queue(report.actionId, report.state, body);
        if (isFinal(report)) await this.#finished(report.actionId);
      }
      await this.#reports.ack(report.id);
    }
  }

  async #queue(actionId: string, what: string, body: ReturnType<typeof feedback>): Promise<void> {
    await this.#feedback.put({ id: `${actionId}.${what}`, actionId, channel: 'deploymentBase', body });
  }

  /** Sends queued feedback in order, one sender at a time; throws what stopped it. */
  #sendFeedback(): Promise<void> {
    return this.#feedback.send();
  }

  async #finished(actionId: string): Promise<void> {
    if (this.#state.finished.includes(actionId)) return;
    await this.#save({ ...this.#state, finished: [...this.#state.finished, actionId].slice(-FINISHED_KEPT) });
  }

  async #save(state: Persisted): Promise<void> {
    this.#state = state;
    await writeDurable(this.#stateFile, `${JSON.stringify(state)}\n`);
  }
}
