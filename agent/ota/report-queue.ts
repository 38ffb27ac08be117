/**
 * Final install reports (`installed`, `committed`, `rolled-back`, `rejected`), kept on disk until the
 * fleet link acknowledges them, so a report written just before a reboot or while offline still
 * arrives. One file per report, written atomically; `put` of an id that is already queued replaces it
 * (a step repeated after a power cut does not report twice). `pending()` lists them oldest first.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, readIfExists, unlinkDurable, writeDurable } from '../core/durable-file.js';

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
  /** Position in the queue; increases with every new report. */
  readonly order: number;
}

const SUFFIX = '.json';

export class ReportQueue {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async put(report: Omit<OtaReport, 'order'>): Promise<OtaReport> {
    await ensurePrivateDir(this.#dir);
    const file = this.#file(report.id);
    const existing = await readIfExists(file);
    const order = existing
      ? (JSON.parse(existing.toString('utf8')) as OtaReport).order
      : Math.max(0, ...(await this.pending()).map((r) => r.order)) + 1;
    const full: OtaReport = { ...report, order };
    await writeDurable(file, `${JSON.stringify(full)}\n`);
    return full;
  }

  /** Every report not yet acknowledged, oldest first. */
  async pending(): Promise<OtaReport[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const reports: OtaReport[] = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX) || name.startsWith('.')) continue;
      const raw = await readIfExists(path.join(this.#dir, name));
      if (!raw) continue;
      try {
        reports.push(JSON.parse(raw.toString('utf8')) as OtaReport);
      } catch {
        // A damaged report cannot be delivered; leave it for an operator rather than crash.
      }
    }
    return reports.sort((a, b) => a.order - b.order);
  }

  /** Removes a delivered report; an unknown id is not an error (acks may repeat). */
  async ack(id: string): Promise<void> {
    await unlinkDurable(this.#file(id));
  }

  #file(id: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(id))
      throw new TypeError(`report id ${JSON.stringify(id)} is not a file name`);
    return path.join(this.#dir, `${id}${SUFFIX}`);
  }
}
