/**
 * Tells the fleet the truth about updates on `edge/<id>/ota/status`: byte-level progress while an
 * install runs (QoS 0, at most once a second: a lost progress message is replaced by the next) and
 * every final state — installed, committed, rolled-back, rejected — from the durable report queue
 * (QoS 1). A report leaves the queue only after the broker's PUBACK, so one made offline, or just
 * before a reboot, is sent when the link is next up. Payloads are plain CBOR maps with text keys in RFC 8949 §4.1
 * preferred serialization (core/preferred-cbor-map.ts).
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { encodePreferredMap } from '../core/preferred-cbor-map.js';
import type { Link } from '../link/types.js';
import type { OtaProgress } from './installer.js';
import type { OtaEvents } from './ota-manager.js';
import type { ReportQueue } from './report-queue.js';

/** What the reporter uses of the link: its state, the status topic, publishing and up events. */
export type ReporterLink = Pick<Link, 'connected' | 'topics' | 'publish' | 'on' | 'off'>;

/** What the reporter uses of the manager: its progress and report events and the report queue. */
export interface ReporterOta {
  on<E extends keyof OtaEvents>(event: E, listener: (...args: OtaEvents[E]) => void): unknown;
  off<E extends keyof OtaEvents>(event: E, listener: (...args: OtaEvents[E]) => void): unknown;
  readonly reports: Pick<ReportQueue, 'pending' | 'ack'>;
}

export interface OtaReporterDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly link: ReporterLink;
  readonly ota: ReporterOta;
}

const PROGRESS_EVERY_MS = 1000;

export class OtaReporter {
  readonly #deps: OtaReporterDeps;
  #lastProgressMs = Number.NEGATIVE_INFINITY;
  #flushing: Promise<void> | undefined;
  readonly #onProgress = (p: OtaProgress) => this.#progress(p);
  readonly #onReport = () => void this.flush();
  readonly #onUp = () => void this.flush();

  constructor(deps: OtaReporterDeps) {
    this.#deps = deps;
  }

  start(): void {
    const { ota, link } = this.#deps;
    ota.on('progress', this.#onProgress);
    ota.on('report', this.#onReport);
    link.on('up', this.#onUp);
    void this.flush();
  }

  stop(): void {
    const { ota, link } = this.#deps;
    ota.off('progress', this.#onProgress);
    ota.off('report', this.#onReport);
    link.off('up', this.#onUp);
  }

  /** Publishes the pending final-state reports, oldest first; each is acknowledged after PUBACK. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    const { link, ota, log } = this.#deps;
    if (!link.connected) return;
    for (const report of await ota.reports.pending()) {
      try {
        await link.publish(link.topics.otaStatus, encodePreferredMap({ type: 'report', ...report }), {
          qos: 1,
        });
        await ota.reports.ack(report.id);
        log.info({ report: report.id, state: report.state }, 'ota report sent');
      } catch (error) {
        log.warn(
          { report: report.id, err: errorMessage(error) },
          'ota report not sent; kept for the next connection',
        );
        return;
      }
    }
  }

  #progress(p: OtaProgress): void {
    const { link, clock } = this.#deps;
    const now = clock.monotonicMs();
    if (!link.connected || (now - this.#lastProgressMs < PROGRESS_EVERY_MS && p.bytes < p.totalBytes)) return;
    this.#lastProgressMs = now;
    link
      .publish(link.topics.otaStatus, encodePreferredMap({ type: 'progress', ...p }), { qos: 0 })
      .catch(() => undefined);
  }
}
