/**
 * `ota.rollback` with no install in progress: the boot backend makes the other slot primary — only
 * when that slot is marked good, since nothing else says it boots — and a `rolled-back` report
 * (`manual-rollback`) says who switched. The caller reboots.
 */
import type { Clock } from '../core/clock.js';
import { otherSlot } from './boot/types.js';
import { InstallError } from './install-errors.js';
import type { OtaComponent } from './installer.js';
import type { OtaReport, ReportQueue } from './report-queue.js';

export async function switchToOtherSlot(
  comp: OtaComponent,
  who: string,
  installId: string,
  deps: { readonly reports: ReportQueue; readonly clock: Clock },
): Promise<OtaReport> {
  const booted = await comp.boot.getCurrent();
  if (!booted) throw new InstallError('ESTATE', 'booted-unknown', 'the running slot cannot be told');
  const other = otherSlot(booted);
  if ((await comp.boot.getState(other)) !== 'good') {
    throw new InstallError(
      'ESTATE',
      'no-fallback',
      `slot ${other} is not marked good; nothing to roll back to`,
    );
  }
  await comp.boot.setPrimary(other);
  return deps.reports.put({
    id: `${installId}.rolled-back`,
    installId,
    state: 'rolled-back',
    component: comp.name,
    version: undefined,
    seq: undefined,
    targetSlot: other,
    bootedSlot: booted,
    reason: 'manual-rollback',
    message: `switched to slot ${other} by ${who}`,
    wallMs: deps.clock.nowMs(),
  });
}
