/**
 * Progress of a long command (an update install) as the technician sees it. On an ANSI terminal one
 * line redrawn in place (`[##########----------]  50%  writing  512.0/1024.0 MiB`); on a dumb peer
 * a new line at each tenth and at each change of phase, so a serial log stays readable. ASCII only:
 * a serial console may not be set up for UTF-8.
 */
import { formatMiB } from '../core/units.js';
import type { Terminal } from './terminal.js';

/** What a command reports through its context's `progress` (the console's command context). */
export interface CommandProgress {
  /** 0–1, if known directly. */
  readonly fraction?: number;
  readonly doneBytes?: number;
  readonly totalBytes?: number;
  /** What it is doing: `downloading`, `verifying`, … */
  readonly phase?: string;
}

const BAR = 20;

export class ProgressBar {
  readonly #term: Terminal;
  #drawn = false;
  #lastTenth = -1;
  #lastPhase: string | undefined;

  constructor(term: Terminal) {
    this.#term = term;
  }

  update(p: CommandProgress): void {
    const fraction = clamp(
      p.fraction ?? (p.doneBytes !== undefined && p.totalBytes ? p.doneBytes / p.totalBytes : Number.NaN),
    );
    const percent = Number.isNaN(fraction) ? '' : `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    const filled = Number.isNaN(fraction) ? 0 : Math.round(fraction * BAR);
    const bytes =
      p.doneBytes !== undefined && p.totalBytes !== undefined
        ? `${formatMiB(p.doneBytes)}/${formatMiB(p.totalBytes)} MiB`
        : '';
    const text = [`[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}]`, percent, p.phase ?? '', bytes]
      .filter((s) => s !== '')
      .join('  ');
    if (this.#term.ansi) {
      this.#term.write(`\r${text}\x1b[K`);
      this.#drawn = true;
      return;
    }
    const tenth = Number.isNaN(fraction) ? -1 : Math.floor(fraction * 10);
    if (tenth !== this.#lastTenth || p.phase !== this.#lastPhase) this.#term.line(text);
    this.#lastTenth = tenth;
    this.#lastPhase = p.phase;
  }

  /** Ends the bar's line (before the result is printed). */
  end(): void {
    if (this.#drawn) this.#term.line('');
    this.#drawn = false;
  }
}

function clamp(x: number): number {
  return Number.isNaN(x) ? x : Math.min(1, Math.max(0, x));
}
