/**
 * Logs every point as it changes value or quality: what a developer watching `npm start`, or an
 * operator reading the journal, wants to see. Readings of points that `isReading` accepts (sensor
 * and actuator points of devices) log at info; the rest (loop outputs, counters) at debug, so the
 * journal is not flooded by a 1 Hz controller output. Quality changes always log at warn.
 * Returns the unsubscribe function.
 */
import type { Logger } from './log.js';
import type { PointSnapshot, PointTable } from './points.js';

export function logPointChanges(
  points: PointTable,
  log: Logger,
  isReading: (p: PointSnapshot) => boolean = () => true,
): () => void {
  return points.subscribe('*', (p, prev) => {
    if (p.value === prev.value && p.quality === prev.quality) return;
    const fields = { point: p.name, value: p.value, unit: p.unit, quality: p.quality, source: p.source };
    if (p.quality === 'good') {
      if (isReading(p)) log.info(fields, 'reading');
      else log.debug(fields, 'reading');
    } else log.warn(fields, `point ${p.quality}`);
  });
}
