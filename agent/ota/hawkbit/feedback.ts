/**
 * What the device tells hawkBit, as DDI feedback bodies, and the durable queue they wait in with its
 * sender: feedback is re-sent, in the order it was queued, until the server answers 2xx — across reboots, since the
 * final `closed` of an update is decided after the trial boot. The install's final reports (the
 * OTA manager's, mirrored into this client's report queue) become feedback here with the same reason
 * codes the MQTT reports carry.
 */
import { DurableQueue } from '../../core/durable-queue.js';
import type { Logger } from '../../core/log.js';
import type { OtaReport } from '../report-queue.js';
import { type DdiHttp, DdiStatusError } from './ddi-http.js';
import type { DdiExecution, DdiFeedback } from './ddi-types.js';

export interface QueuedFeedback {
  /** Unique per message: `<action>.<what>`; queuing the same id again replaces it. */
  readonly id: string;
  readonly actionId: string;
  /** `deploymentBase` feedback, or the answer to a `cancelAction`. */
  readonly channel: 'deploymentBase' | 'cancelAction';
  readonly body: DdiFeedback;
  readonly order: number;
}

/** The queue, and its sender: in order, one at a time, until the server takes each (2xx). */
export class FeedbackQueue extends DurableQueue<QueuedFeedback> {
  readonly #d: { readonly http: DdiHttp; readonly base: string; readonly log: Logger };
  #sending: Promise<void> = Promise.resolve();

  /** `base`: the controller's URL (`…/{tenant}/controller/v1/{controllerId}`). */
  constructor(dir: string, deps: { readonly http: DdiHttp; readonly base: string; readonly log: Logger }) {
    super(dir);
    this.#d = deps;
  }

  /** Sends what is queued; throws what stopped it (the rest waits for the next call). */
  send(): Promise<void> {
    const run = this.#sending.catch(() => undefined).then(() => this.#sendQueued());
    this.#sending = run;
    return run;
  }

  /** Resolves when no send runs. */
  async idle(): Promise<void> {
    await this.#sending.catch(() => undefined);
  }

  async #sendQueued(): Promise<void> {
    for (const item of await this.pending()) {
      const url = `${this.#d.base}/${item.channel}/${encodeURIComponent(item.actionId)}/feedback`;
      const answer = await this.#d.http.post(url, item.body);
      if (answer.status >= 200 && answer.status <= 299) {
        await this.ack(item.id);
        continue;
      }
      if (answer.status >= 400 && answer.status < 500 && ![401, 403, 429].includes(answer.status)) {
        // The server will never take this one (a closed or unknown action, a body it refuses).
        this.#d.log.warn(
          { id: item.id, status: answer.status, body: answer.body.toString('utf8').slice(0, 300) },
          'hawkbit dropped feedback',
        );
        await this.ack(item.id);
        continue;
      }
      throw new DdiStatusError(`feedback ${item.id}`, answer);
    }
  }
}

export function feedback(
  execution: DdiExecution,
  finished: 'success' | 'failure' | 'none',
  details: readonly string[] = [],
  progress?: { cnt: number; of: number },
): DdiFeedback {
  return {
    status: {
      execution,
      result: { finished, ...(progress ? { progress } : {}) },
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

/**
 * The feedback a final install report makes, or none: a cancelled install was already answered on
 * its cancel action (the deployment is closed as canceled by the server).
 */
export function feedbackOfReport(report: OtaReport): DdiFeedback | undefined {
  const what = `${report.component} ${report.version ?? ''}`.trim();
  const why = `${report.reason ?? 'failed'}: ${report.message ?? ''}`.trim();
  switch (report.state) {
    case 'installed':
      return feedback('proceeding', 'none', [
        `${what} written to slot ${report.targetSlot}; rebooting into it for a trial boot`,
      ]);
    case 'committed':
      return feedback('closed', 'success', [`${what} committed in slot ${report.targetSlot}`]);
    case 'rolled-back':
      return feedback('closed', 'failure', [`${what} rolled back to slot ${report.bootedSlot}`, why]);
    case 'rejected':
      return report.reason === 'cancelled'
        ? undefined
        : feedback('closed', 'failure', [`${what} rejected`, why]);
  }
}

/** Whether the report ends the action for hawkBit. */
export function isFinal(report: OtaReport): boolean {
  return report.state !== 'installed';
}
