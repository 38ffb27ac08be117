/**
 * Whether the last update rolled back, for the evidence's private claim -70001. The OTA manager reports
 * each install's end once (`committed` or `rolled-back`, the latter in the process that booted back into
 * the old slot); this keeps the latest of them in a small file, because the report queue forgets a
 * report once the fleet has it, while evidence must keep telling the truth until the next update.
 */
import path from 'node:path';
import { readIfExists, writeDurable } from '../core/durable-file.js';

export class UpdateOutcome {
  readonly #file: string;

  constructor(dir: string) {
    this.#file = path.join(dir, 'last-update.json');
  }

  /** Records the end of an install (`rolledBack` true for a fallback to the old slot). */
  async record(outcome: { readonly rolledBack: boolean; readonly installId: string }): Promise<void> {
    await writeDurable(this.#file, `${JSON.stringify({ v: 1, ...outcome })}\n`, { mode: 0o644 });
  }

  /** The last install's outcome; false when no install has ended yet. */
  async rolledBack(): Promise<boolean> {
    const text = await readIfExists(this.#file);
    if (!text) return false;
    try {
      return (JSON.parse(text.toString('utf8')) as { rolledBack?: unknown }).rolledBack === true;
    } catch {
      return false;
    }
  }
}
