import { describe, expect, it } from 'vitest';
import { type InstallRecord, type PlanContext, planInstall } from '../../../agent/ota/plan-install.js';

const record = (over: Partial<InstallRecord>): InstallRecord => ({
  v: 1,
  id: 'rootfs-7-abcd',
  component: 'rootfs',
  version: '2.0.0',
  seq: 7,
  format: 'raw',
  sizeBytes: 1000,
  source: { kind: 'file', path: '/media/usb/rootfs.img' },
  from: 'A',
  target: 'B',
  phase: 'accepted',
  offsetBytes: 0,
  phaseBootId: 'boot-1',
  acceptedWallMs: 0,
  ...over,
});
const sameBoot: PlanContext = { bootId: 'boot-1', booted: 'A', rebootRequested: false };
const kinds = (r: InstallRecord | undefined, ctx: PlanContext = sameBoot) =>
  planInstall(r, ctx).map((s) => s.kind);

describe('planning an install from its journal record', () => {
  it('has nothing to do without a record, or while a reboot is on its way', () => {
    expect(kinds(undefined)).toEqual([]);
    expect(kinds(record({ phase: 'armed' }), { ...sameBoot, rebootRequested: true })).toEqual([]);
  });

  it('lays out the whole first boot for an accepted raw install', () => {
    expect(kinds(record({}))).toEqual(['mark-target-bad', 'write', 'arm', 'reboot']);
  });

  it('unpacks a tar payload between writing and reading back', () => {
    expect(kinds(record({ format: 'tar', phase: 'target-bad' }))).toEqual([
      'write',
      'unpack',
      'read-back',
      'arm',
      'reboot',
    ]);
  });

  it('resumes the write from the journaled offset, after a restart or a reboot alike', () => {
    const r = record({ phase: 'writing', offsetBytes: 640 });
    expect(planInstall(r, sameBoot)[0]).toEqual({ kind: 'write', fromOffset: 640 });
    expect(planInstall(r, { ...sameBoot, bootId: 'boot-2' })[0]).toEqual({ kind: 'write', fromOffset: 640 });
  });

  it('continues from each later phase without repeating finished steps', () => {
    expect(kinds(record({ phase: 'written' }))).toEqual(['arm', 'reboot']);
    expect(kinds(record({ phase: 'written', format: 'tar' }))).toEqual([
      'unpack',
      'read-back',
      'arm',
      'reboot',
    ]);
    expect(kinds(record({ phase: 'unpacked', format: 'tar' }))).toEqual(['read-back', 'arm', 'reboot']);
    expect(kinds(record({ phase: 'verified' }))).toEqual(['arm', 'reboot']);
  });

  it('rejects rather than write under a target that turns out to be running', () => {
    expect(planInstall(record({ phase: 'writing' }), { ...sameBoot, booted: 'B' })).toEqual([
      { kind: 'reject', reason: 'target-booted', message: 'slot B is running although it was being written' },
      { kind: 'conclude', state: 'rejected' },
    ]);
    // …except after arming landed without its journal entry: arm again from the target and go on.
    expect(kinds(record({ phase: 'verified' }), { ...sameBoot, booted: 'B', bootId: 'boot-2' })).toEqual([
      'arm',
      'reboot',
    ]);
    expect(kinds(record({ phase: 'written' }), { ...sameBoot, booted: 'B', bootId: 'boot-2' })).toEqual([
      'arm',
      'reboot',
    ]);
  });

  it('reboots an armed install that has not rebooted yet (the agent merely restarted)', () => {
    expect(kinds(record({ phase: 'armed' }))).toEqual(['reboot']);
  });

  it('stops written, the boot untouched, while arming is held (a maintenance window), and arms once released', () => {
    expect(kinds(record({ holdArm: true }))).toEqual(['mark-target-bad', 'write']);
    expect(kinds(record({ phase: 'written', holdArm: true }))).toEqual([]);
    expect(kinds(record({ phase: 'written', holdArm: false }))).toEqual(['arm', 'reboot']);
  });

  it('stops at armed when the reboot is held for a technician, and goes on when the device reboots', () => {
    expect(kinds(record({ holdReboot: true }))).toEqual(['mark-target-bad', 'write', 'arm']);
    expect(kinds(record({ phase: 'armed', holdReboot: true }))).toEqual([]);
    expect(kinds(record({ phase: 'armed', holdReboot: false }))).toEqual(['reboot']);
    const onTarget: PlanContext = { bootId: 'boot-2', booted: 'B', rebootRequested: false };
    expect(kinds(record({ phase: 'armed', holdReboot: true }), onTarget)).toEqual([
      'check-health',
      'commit',
      'conclude',
    ]);
  });

  it('checks health and commits after rebooting into the target', () => {
    const ctx = { ...sameBoot, bootId: 'boot-2', booted: 'B' as const };
    expect(kinds(record({ phase: 'armed' }), ctx)).toEqual(['check-health', 'commit', 'conclude']);
    expect(kinds(record({ phase: 'healthy' }), ctx)).toEqual(['commit', 'conclude']);
    expect(kinds(record({ phase: 'committed' }), ctx)).toEqual(['conclude']);
  });

  it('reports a bootloader fallback when the trial reboot came back on the old slot', () => {
    const ctx = { ...sameBoot, bootId: 'boot-4', booted: 'A' as const };
    expect(planInstall(record({ phase: 'armed' }), ctx)).toEqual([
      { kind: 'fall-back' },
      { kind: 'conclude', state: 'rolled-back' },
    ]);
  });

  it('takes a technician decision instead of the health checks', () => {
    const ctx = { ...sameBoot, bootId: 'boot-2', booted: 'B' as const };
    expect(kinds(record({ phase: 'armed' }), { ...ctx, request: { kind: 'commit' } })).toEqual([
      'commit',
      'conclude',
    ]);
    expect(
      planInstall(record({ phase: 'armed' }), {
        ...ctx,
        request: { kind: 'rollback', who: 'console:tech' },
      })[0],
    ).toEqual({
      kind: 'fail-trial',
      reason: 'manual-rollback',
      message: 'rolled back by console:tech',
    });
    expect(
      kinds(record({ phase: 'armed' }), { ...sameBoot, request: { kind: 'rollback', who: 'x' } }),
    ).toEqual(['fail-trial', 'fall-back', 'conclude']);
  });

  it('goes back to the old slot after a failed trial and reports once there', () => {
    const failed = record({ phase: 'failed-trial', reason: 'unhealthy', phaseBootId: 'boot-2' });
    expect(kinds(failed, { ...sameBoot, bootId: 'boot-2', booted: 'B' })).toEqual(['fall-back', 'reboot']);
    expect(kinds(failed, { ...sameBoot, bootId: 'boot-3', booted: 'A' })).toEqual(['fall-back', 'conclude']);
    const fell = record({ phase: 'fell-back', phaseBootId: 'boot-2' });
    expect(kinds(fell, { ...sameBoot, bootId: 'boot-2', booted: 'B' })).toEqual(['reboot']);
    expect(kinds(fell, { ...sameBoot, bootId: 'boot-3', booted: 'A' })).toEqual(['conclude']);
  });

  it('decides nothing after arming while the running slot cannot be told', () => {
    const ctx = { ...sameBoot, bootId: 'boot-2', booted: undefined };
    for (const phase of ['armed', 'healthy', 'failed-trial', 'fell-back'] as const) {
      expect(kinds(record({ phase }), ctx)).toEqual([]);
    }
  });

  it('reports a rejected install', () => {
    expect(kinds(record({ phase: 'rejected', reason: 'digest-mismatch' }))).toEqual(['conclude']);
  });
});
