/**
 * The latest update report — the outcome `status` and `ota status` show as the last install: the
 * newest one emitted since start, else the newest still queued for the fleet (a rollback concluded
 * at this boot, before anyone asked).
 */
import type { OtaReport } from '../ota/report-queue.js';

export interface ReportSource {
  readonly reports: { pending(): Promise<readonly OtaReport[]> };
  on(event: 'report', listener: (report: OtaReport) => void): unknown;
}

export function trackLastReport(ota: ReportSource | undefined): () => Promise<OtaReport | undefined> {
  let last: OtaReport | undefined;
  ota?.on('report', (report) => {
    last = report;
  });
  return async () => {
    if (last || !ota) return last;
    const pending = await ota.reports.pending().catch(() => []);
    return pending.reduce<OtaReport | undefined>((a, b) => (a && a.order > b.order ? a : b), undefined);
  };
}
