/**
 * Final install reports (`installed`, `committed`, `rolled-back`, `rejected`), kept on disk
 * (core/durable-queue.ts) until the fleet link acknowledges them, so a report written just before a
 * reboot or while offline still arrives, and a step repeated after a power cut does not report twice.
 */
import { DurableQueue } from '../core/durable-queue.js';

export type OtaFinalState = 'installed' | 'committed' | 'rolled-back' | 'rejected';

export interface OtaReport {
  /** Unique per install and state: `<installId>.<state>`. */
  readonly id: string;
  readonly installId: string;
  readonly state: OtaFinalState;
  readonly component: string;
  /** Version and seq offered (for `rejected`, what the manifest said, when it could be read). */
  readonly version: string | undefined;
  readonly seq: number | undefined;
  /** The slot the install targeted and the slot the device runs after this state. */
  readonly targetSlot: string | undefined;
  readonly bootedSlot: string | undefined;
  /** Why (`rejected`, `rolled-back`): a short code and a sentence. */
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  /** Wall-clock time of the report (POSIX ms; may be wrong before NTP). */
  readonly wallMs: number;
  /** Adaptive installs: payload bytes fetched from the server, of the payload's `sizeBytes`. */
  readonly fetchedBytes?: number | undefined;
  readonly sizeBytes?: number | undefined;
  /** The update server's id for the install (a hawkBit action), when it came from one. */
  readonly actionId?: string | undefined;
  /** Position in the queue; increases with every new report. */
  readonly order: number;
}

/** The final reports, for the fleet link (and each mirror's consumer). */
export class ReportQueue extends DurableQueue<OtaReport> {
  readonly #mirrors: readonly ReportQueue[];

  /**
   * `mirrors`: directories of further consumers (an update server's feedback besides the fleet link),
   * each given every report to deliver and acknowledge on its own; they are written first, so a
   * report the fleet link may already have sent is never missing from them.
   */
  constructor(dir: string, options: { readonly mirrors?: readonly string[] } = {}) {
    super(dir);
    this.#mirrors = (options.mirrors ?? []).map((d) => new ReportQueue(d));
  }

  override async put(report: Omit<OtaReport, 'order'>): Promise<OtaReport> {
    for (const mirror of this.#mirrors) await mirror.put(report);
    return super.put(report);
  }
}
