/**
 * Logs every change of a point's value or quality — at `debug`, so the console's `logs -f` and a
 * debug journal keep every raw reading — and at `info` only what is worth a person's attention: a
 * sample `isReported` accepts (in the agent: a device's reading crossing its telemetry reporting
 * filter, telemetry/reporting-filters.ts), and a point coming back to good. A quality that is not good
 * always logs at `warn`.
 *
 * Why this rather than a status line every few seconds: a technician at `npm start` or on the journal
 * reads events — the chamber moved by its deadband, the door opened, an alarm — and a quiet plant
 * prints nothing, so the console's prompt and the output of the commands typed at it stay put. A
 * periodic line scrolls them away when nothing happens, and would need its own choice of points and
 * thresholds, where the reporting filters already say what matters at this site. The whole picture
 * is a command away (`points`, `points watch`, `status`).
 *
 * `isReported` sees every sample (a new time or value), as telemetry's filter does, so a change held
 * back by a minimum interval shows at the first sample after it — even one that repeats the value.
 * Returns the unsubscribe function.
 */
import type { Logger } from './log.js';
import type { PointSnapshot, PointTable, PointValue } from './points.js';

export function logPointChanges(
  points: PointTable,
  log: Logger,
  /** Called once per sample or quality change, in order (it may keep state): worth `info`? */
  isReported: (p: PointSnapshot) => boolean = () => true,
): () => void {
  /** The value each point last showed at info. */
  const shown = new Map<string, PointValue | undefined>();
  return points.subscribe('*', (p, prev) => {
    const changed = p.value !== prev.value || p.quality !== prev.quality;
    if (!changed && p.monoMs === prev.monoMs) return; // a force taken or released: no sample
    const reported = isReported(p);
    const fields = { point: p.name, value: p.value, unit: p.unit, quality: p.quality, source: p.source };
    if (p.quality !== 'good') {
      if (changed) log.warn(fields, `point ${p.quality}`);
      return;
    }
    // After a warning about it, the point's return is news, whatever the filter says.
    const recovered = prev.quality !== 'good' && prev.value !== undefined;
    if ((reported || recovered) && (changed || shown.get(p.name) !== p.value)) {
      shown.set(p.name, p.value);
      log.info(fields, 'reading');
    } else if (changed) log.debug(fields, 'reading');
  });
}
