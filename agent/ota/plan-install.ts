/**
 * The install as a state machine, planned purely: given the journal's record and what this boot
 * knows (which slot is running, whether the device rebooted since the record was written), `planInstall`
 * returns the steps still to do. The installer executes the first step, journals, and plans again,
 * so a restart at any point — a crash, a power cut, a reboot — continues from the journal by the
 * same rules (balena-supervisor's plan/apply; STYLE.md "Plan, then execute").
 *
 * Phases, in order: accepted → target-bad → writing (each unit written, synced and read back) →
 * written → (tar only: unpacked → verified, the tree read back) → armed (target primary for one trial
 * boot) → [reboot] → healthy → committed; or after arming:
 * failed-trial → fell-back → [reboot] → rolled back; or rejected at any point before arming.
 *
 * Rules a restart follows:
 *  - Before `armed`, the target slot is never booted (it was marked bad first). If the running slot
 *    is the target anyway (an environment lost behind our back) the install is rejected rather than
 *    writing under the running system.
 *  - `armed` and not yet rebooted: reboot. Rebooted into the target: health checks, then commit.
 *    Rebooted into the other slot: the bootloader fell back (the trial spent its attempts), so the
 *    target is marked bad and the rollback reported.
 *  - `failed-trial` (unhealthy, or rolled back by hand): point the environment back at the old slot
 *    and reboot; once running the old slot, report the rollback.
 *  - After arming, nothing is decided while the running slot cannot be told (no `rauc.slot=`).
 *  - `committed`, `rejected`: report and clear the journal (the report queue makes this idempotent).
 */
import type { SlotName } from './boot/types.js';

export type InstallPhase =
  | 'accepted'
  | 'target-bad'
  | 'writing'
  | 'written'
  | 'unpacked'
  | 'verified'
  | 'armed'
  | 'healthy'
  | 'committed'
  | 'failed-trial'
  | 'fell-back'
  | 'rejected';

export const INSTALL_PHASES: readonly InstallPhase[] = [
  'accepted',
  'target-bad',
  'writing',
  'written',
  'unpacked',
  'verified',
  'armed',
  'healthy',
  'committed',
  'failed-trial',
  'fell-back',
  'rejected',
];

/** Before the target is armed: a failure (or the technician's cancel) rejects the install. */
export const PRE_ARM_PHASES: ReadonlySet<InstallPhase> = new Set<InstallPhase>([
  'accepted',
  'target-bad',
  'writing',
  'written',
  'unpacked',
  'verified',
]);

export type InstallSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'url'; readonly url: string };

/** The journal record of the one install in progress. */
export interface InstallRecord {
  readonly v: 1;
  readonly id: string;
  readonly component: string;
  readonly version: string;
  readonly seq: number;
  readonly format: 'raw' | 'tar';
  readonly sizeBytes: number;
  readonly source: InstallSource;
  /** The slot running when the install was accepted, and the one being written. */
  readonly from: SlotName;
  readonly target: SlotName;
  readonly phase: InstallPhase;
  /** Bytes of the payload durable in the target (or the staging file for tar). */
  readonly offsetBytes: number;
  /** Boot id when `phase` was recorded: a different one now means the device rebooted since. */
  readonly phaseBootId: string;
  /** Why it failed or rolled back: short code and a sentence. */
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  /** Wall-clock time it was accepted (POSIX ms). */
  readonly acceptedWallMs: number;
  /** Armed, the trial reboot waits for `ota reboot` (the console asked the technician first). */
  readonly holdReboot?: boolean | undefined;
  /**
   * Written and verified, arming waits for `OtaManager.activate()` (an update server's maintenance
   * window, or a download-only action): until then nothing on the boot path has changed.
   */
  readonly holdArm?: boolean | undefined;
  /** The update server's id for this install (a hawkBit action). */
  readonly actionId?: string | undefined;
  /** Adaptive installs: payload bytes received from the server over all runs. */
  readonly fetchedBytes?: number | undefined;
  /** A live component (model, rule set): switched by the running agent instead of a reboot. */
  readonly live?: true | undefined;
  /** Live switches started: journaled before each, so a switch that kills the agent is not retried forever. */
  readonly liveAttempts?: number | undefined;
}

/** A live switch that was started this many times without concluding is given up (it crashed the agent). */
export const MAX_LIVE_ATTEMPTS = 2;

export type FinalState = 'committed' | 'rolled-back' | 'rejected';

export type Step =
  | { readonly kind: 'mark-target-bad' }
  | { readonly kind: 'write'; readonly fromOffset: number }
  | { readonly kind: 'unpack' }
  | { readonly kind: 'read-back' }
  | { readonly kind: 'arm' }
  | { readonly kind: 'reboot'; readonly why: 'trial' | 'rollback' }
  | { readonly kind: 'switch-live' }
  | { readonly kind: 'check-health' }
  | { readonly kind: 'fail-trial'; readonly reason: string; readonly message: string }
  | { readonly kind: 'commit' }
  | { readonly kind: 'fall-back' }
  | { readonly kind: 'reject'; readonly reason: string; readonly message: string }
  | { readonly kind: 'conclude'; readonly state: FinalState };

export interface PlanContext {
  /** This boot's id. */
  readonly bootId: string;
  /** The slot running now (get-current), if it can be told. */
  readonly booted: SlotName | undefined;
  /** This process already asked for a reboot: nothing more to do until it happens. */
  readonly rebootRequested: boolean;
  /** A technician's decision about the trial, which replaces the health checks. */
  readonly request?:
    | { readonly kind: 'commit' }
    | { readonly kind: 'rollback'; readonly who: string }
    | undefined;
}

export function planInstall(record: InstallRecord | undefined, ctx: PlanContext): Step[] {
  if (!record || ctx.rebootRequested) return [];
  const rebooted = ctx.bootId !== record.phaseBootId;
  const onTarget = ctx.booted === record.target;
  const toTrial = (): Step[] =>
    record.live
      ? record.holdArm
        ? []
        : [{ kind: 'arm' }, { kind: 'switch-live' }]
      : record.holdArm
        ? []
        : record.holdReboot
          ? [{ kind: 'arm' }]
          : [{ kind: 'arm' }, { kind: 'reboot', why: 'trial' }];
  const fromRead = (): Step[] => [{ kind: 'read-back' }, ...toTrial()];
  // A raw slot is read back unit by unit as it is written; a tar is unpacked and the tree compared.
  const fromWritten = (): Step[] =>
    record.format === 'tar' ? [{ kind: 'unpack' }, ...fromRead()] : toTrial();
  const fromWrite = (offset: number): Step[] => [{ kind: 'write', fromOffset: offset }, ...fromWritten()];

  const preArm: Partial<Record<InstallPhase, () => Step[]>> = {
    accepted: () => [{ kind: 'mark-target-bad' }, ...fromWrite(0)],
    'target-bad': () => fromWrite(0),
    writing: () => fromWrite(record.offsetBytes),
    written: fromWritten,
    unpacked: fromRead,
    verified: toTrial,
  };
  const before = preArm[record.phase];
  if (before) {
    // The phase before arming may legitimately find the target running: the arm landed, its journal
    // entry did not.
    const beforeArm = record.format === 'tar' ? 'verified' : 'written';
    if (onTarget && record.phase !== beforeArm && record.phase !== 'verified') {
      return [
        {
          kind: 'reject',
          reason: 'target-booted',
          message: `slot ${record.target} is running although it was being written`,
        },
        { kind: 'conclude', state: 'rejected' },
      ];
    }
    return before();
  }

  if (record.live) return planLive(record, ctx);
  switch (record.phase) {
    case 'armed':
      if (!rebooted) {
        return ctx.request?.kind === 'rollback'
          ? [
              { kind: 'fail-trial', reason: 'manual-rollback', message: `cancelled by ${ctx.request.who}` },
              { kind: 'fall-back' },
              { kind: 'conclude', state: 'rolled-back' },
            ]
          : record.holdReboot
            ? []
            : [{ kind: 'reboot', why: 'trial' }];
      }
      if (ctx.booted === undefined) return [];
      if (!onTarget) return [{ kind: 'fall-back' }, { kind: 'conclude', state: 'rolled-back' }];
      if (ctx.request?.kind === 'commit')
        return [{ kind: 'commit' }, { kind: 'conclude', state: 'committed' }];
      if (ctx.request?.kind === 'rollback') {
        return [
          { kind: 'fail-trial', reason: 'manual-rollback', message: `rolled back by ${ctx.request.who}` },
          { kind: 'fall-back' },
          { kind: 'reboot', why: 'rollback' },
        ];
      }
      return [{ kind: 'check-health' }, { kind: 'commit' }, { kind: 'conclude', state: 'committed' }];
    case 'healthy':
      if (ctx.booted === undefined) return [];
      return onTarget
        ? [{ kind: 'commit' }, { kind: 'conclude', state: 'committed' }]
        : [{ kind: 'fall-back' }, { kind: 'conclude', state: 'rolled-back' }];
    case 'committed':
      return [{ kind: 'conclude', state: 'committed' }];
    case 'failed-trial':
      if (ctx.booted === undefined) return [];
      return onTarget
        ? [{ kind: 'fall-back' }, { kind: 'reboot', why: 'rollback' }]
        : [{ kind: 'fall-back' }, { kind: 'conclude', state: 'rolled-back' }];
    case 'fell-back':
      if (ctx.booted === undefined) return [];
      if (!onTarget) return [{ kind: 'conclude', state: 'rolled-back' }];
      // Still on the target: reboot into the old slot (again, if a reboot did not take).
      return rebooted
        ? [{ kind: 'fall-back' }, { kind: 'reboot', why: 'rollback' }]
        : [{ kind: 'reboot', why: 'rollback' }];
    case 'rejected':
      return [{ kind: 'conclude', state: 'rejected' }];
    default:
      return [];
  }
}

/**
 * After arming, a live component: the agent switches to the target itself and proves it (live-component.ts),
 * so there is no reboot and no bootloader fallback. Its current slot changes only once it proved
 * itself; a failed proof leaves the old slot running, and the target is marked bad.
 */
function planLive(record: InstallRecord, ctx: PlanContext): Step[] {
  const onTarget = ctx.booted === record.target;
  const giveUp = (reason: string, message: string): Step[] => [
    { kind: 'fail-trial', reason, message },
    { kind: 'fall-back' },
    { kind: 'conclude', state: 'rolled-back' },
  ];
  switch (record.phase) {
    case 'armed':
      if (onTarget) return [{ kind: 'commit' }, { kind: 'conclude', state: 'committed' }];
      if (ctx.request?.kind === 'rollback')
        return giveUp('manual-rollback', `cancelled by ${ctx.request.who}`);
      if ((record.liveAttempts ?? 0) >= MAX_LIVE_ATTEMPTS) {
        return giveUp(
          'switch-crashed',
          `the agent stopped ${record.liveAttempts} times while switching to slot ${record.target}`,
        );
      }
      return [{ kind: 'switch-live' }, { kind: 'commit' }, { kind: 'conclude', state: 'committed' }];
    case 'healthy':
      return onTarget
        ? [{ kind: 'commit' }, { kind: 'conclude', state: 'committed' }]
        : [{ kind: 'switch-live' }, { kind: 'commit' }, { kind: 'conclude', state: 'committed' }];
    case 'committed':
      return [{ kind: 'conclude', state: 'committed' }];
    case 'failed-trial':
      return [{ kind: 'fall-back' }, { kind: 'conclude', state: 'rolled-back' }];
    case 'fell-back':
      return [{ kind: 'conclude', state: 'rolled-back' }];
    case 'rejected':
      return [{ kind: 'conclude', state: 'rejected' }];
    default:
      return [];
  }
}

export function isInstallRecord(v: unknown): v is InstallRecord {
  const r = v as Partial<InstallRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.v === 1 &&
    typeof r.id === 'string' &&
    typeof r.component === 'string' &&
    typeof r.phase === 'string' &&
    INSTALL_PHASES.includes(r.phase) &&
    (r.from === 'A' || r.from === 'B') &&
    (r.target === 'A' || r.target === 'B') &&
    typeof r.offsetBytes === 'number' &&
    typeof r.sizeBytes === 'number' &&
    typeof r.phaseBootId === 'string'
  );
}
