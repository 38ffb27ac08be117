/**
 * Logs every point as it changes value or quality: what a developer watching `npm start`, or an
 * operator reading the journal, wants to see. Returns the unsubscribe function.
 */
import type { Logger } from './log.js';
import type { PointTable } from './points.js';

export function logPointChanges(points: PointTable, log: Logger): () => void {
  return points.subscribe('*', (p, prev) => {
    if (p.value === prev.value && p.quality === prev.quality) return;
    const fields = { point: p.name, value: p.value, unit: p.unit, quality: p.quality, source: p.source };
    if (p.quality === 'good') log.info(fields, 'reading');
    else log.warn(fields, `point ${p.quality}`);
  });
}
