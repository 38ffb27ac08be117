/**
 * The alarm list, after ISA-18.2's state model: a raised alarm is `active-unacked`; a technician's
 * acknowledgement makes it `active-acked`; when its condition clears it returns to `normal` if it was
 * acknowledged, else it waits in `cleared-unacked` until someone acknowledges it — so an alarm that
 * came and went at 3 a.m. is still on the list in the morning. Rules and loops raise and clear through
 * `AlarmSink`; the console and telemetry read `list()` and subscribe to the `alarm` event, which is
 * emitted once per state change (a repeated raise of an active alarm is the same occurrence, not news).
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import type { AlarmRaise, AlarmSeverity, AlarmSink, AlarmState } from './types.js';

/** One state change of one alarm, as telemetry and the console receive it. */
export interface AlarmEvent {
  readonly id: string;
  readonly state: AlarmState;
  readonly previousState: AlarmState;
  readonly severity: AlarmSeverity;
  readonly message: string;
  /** Who caused this change: the raiser (`rule:overtemp`), the clearer, or the acknowledger. */
  readonly source: string;
  /** Wall-clock time of the change (POSIX ms; wrong until NTP syncs on a board without an RTC). */
  readonly wallMs: number;
}

export interface AlarmEvents {
  alarm: [AlarmEvent];
}

/** An alarm that is not `normal`, as `list()` shows it. */
export interface AlarmRecord {
  readonly id: string;
  readonly state: Exclude<AlarmState, 'normal'>;
  readonly severity: AlarmSeverity;
  readonly message: string;
  /** Who raised it most recently. */
  readonly source: string;
  /** When this occurrence was first raised (it left `normal`). */
  readonly raisedAtWallMs: number;
  readonly raisedAtMonoMs: number;
  /** When its condition last cleared, while it waits for an acknowledgement. */
  readonly clearedAtWallMs: number | undefined;
  readonly ackedBy: string | undefined;
  readonly ackedAtWallMs: number | undefined;
  /**
   * How many times it became active since it was last `normal`: 1 on the first raise, +1 each time
   * it is raised again from `cleared-unacked` (a chattering alarm). A raise while already active is
   * the same occurrence and does not count.
   */
  readonly raiseCount: number;
}

export type AckResult =
  | { readonly ok: true; readonly state: 'active-acked' | 'normal' }
  | { readonly ok: false; readonly reason: 'unknown-alarm' | 'already-acked' };

const SEVERITY_RANK: Record<AlarmSeverity, number> = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

export interface AlarmManagerDeps {
  readonly clock: Clock;
  /**
   * Called when an `alarm` listener throws. The state change has already happened and the other
   * listeners still run. Default: rethrow on a microtask (an uncaught exception, like PointTable).
   */
  readonly onListenerError?: (error: unknown, event: AlarmEvent) => void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class AlarmManager extends EventEmitter<AlarmEvents> implements AlarmSink {
  readonly #clock: Clock;
  readonly #onListenerError: (error: unknown, event: AlarmEvent) => void;
  /** Only non-normal alarms are kept: `normal` is the absence of an entry. */
  readonly #alarms = new Map<string, Mutable<AlarmRecord>>();

  constructor(deps: AlarmManagerDeps) {
    super();
    this.#clock = deps.clock;
    this.#onListenerError =
      deps.onListenerError ??
      ((e) =>
        queueMicrotask(() => {
          throw e;
        }));
  }

  /**
   * Raises an alarm. From `normal` or `cleared-unacked` it becomes `active-unacked` (a return from
   * `cleared-unacked` needs a fresh acknowledgement: the technician acknowledged nothing about this
   * occurrence). Raising an active alarm again changes nothing unless its severity or message
   * changed, in which case the record is updated and one event reports the change with an
   * unchanged state (an escalation is news; a repeat is not).
   */
  raise(alarm: AlarmRaise): void {
    const existing = this.#alarms.get(alarm.id);
    const wallMs = this.#clock.nowMs();
    if (existing && existing.state !== 'cleared-unacked') {
      const changed = existing.severity !== alarm.severity || existing.message !== alarm.message;
      existing.severity = alarm.severity;
      existing.message = alarm.message;
      existing.source = alarm.source;
      if (changed) this.#emit(existing, existing.state, alarm.source, wallMs);
      return;
    }
    const previousState: AlarmState = existing?.state ?? 'normal';
    const record: Mutable<AlarmRecord> = existing ?? {
      id: alarm.id,
      state: 'active-unacked',
      severity: alarm.severity,
      message: alarm.message,
      source: alarm.source,
      raisedAtWallMs: wallMs,
      raisedAtMonoMs: this.#clock.monotonicMs(),
      clearedAtWallMs: undefined,
      ackedBy: undefined,
      ackedAtWallMs: undefined,
      raiseCount: 0,
    };
    record.state = 'active-unacked';
    record.severity = alarm.severity;
    record.message = alarm.message;
    record.source = alarm.source;
    record.clearedAtWallMs = undefined;
    record.ackedBy = undefined;
    record.ackedAtWallMs = undefined;
    record.raiseCount += 1;
    this.#alarms.set(alarm.id, record);
    this.#emit(record, previousState, alarm.source, wallMs);
  }

  /**
   * The alarm's condition has cleared: an acknowledged alarm returns to `normal`, an unacknowledged
   * one waits in `cleared-unacked`. Clearing an alarm that is not active does nothing (rules clear on
   * every deactivation, whether or not their alarm was ever raised).
   */
  clear(id: string, source: string): void {
    const record = this.#alarms.get(id);
    if (!record || record.state === 'cleared-unacked') return;
    const wallMs = this.#clock.nowMs();
    const previousState = record.state;
    if (record.state === 'active-acked') {
      this.#alarms.delete(id);
      this.#emit(record, previousState, source, wallMs, 'normal');
      return;
    }
    record.state = 'cleared-unacked';
    record.clearedAtWallMs = wallMs;
    this.#emit(record, previousState, source, wallMs);
  }

  /**
   * A technician (or the fleet) acknowledges an alarm: `active-unacked` → `active-acked`,
   * `cleared-unacked` → `normal`. Acknowledging twice, or an alarm that is not on the list, is not an
   * error the caller must catch but an answer to show: `{ ok: false, reason }`.
   */
  acknowledge(id: string, who: string): AckResult {
    const record = this.#alarms.get(id);
    if (!record) return { ok: false, reason: 'unknown-alarm' };
    if (record.state === 'active-acked') return { ok: false, reason: 'already-acked' };
    const wallMs = this.#clock.nowMs();
    const previousState = record.state;
    record.ackedBy = who;
    record.ackedAtWallMs = wallMs;
    if (record.state === 'cleared-unacked') {
      this.#alarms.delete(id);
      this.#emit(record, previousState, who, wallMs, 'normal');
      return { ok: true, state: 'normal' };
    }
    record.state = 'active-acked';
    this.#emit(record, previousState, who, wallMs);
    return { ok: true, state: 'active-acked' };
  }

  /** The alarm's current state; `normal` for one that is not on the list (or never existed). */
  state(id: string): AlarmState {
    return this.#alarms.get(id)?.state ?? 'normal';
  }

  /** Current non-normal alarms, most severe first, then oldest first (the order a technician works). */
  list(): AlarmRecord[] {
    return [...this.#alarms.values()]
      .map((r) => ({ ...r }))
      .sort(
        (a, b) =>
          SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.raisedAtMonoMs - b.raisedAtMonoMs,
      );
  }

  /**
   * Delivers one event to every listener even if one throws (EventEmitter's own `emit` would stop at
   * the first throw and propagate it into the rule engine's tick). `rawListeners` keeps `once`
   * wrappers, so a `once` listener still removes itself.
   */
  #emit(
    record: AlarmRecord,
    previousState: AlarmState,
    source: string,
    wallMs: number,
    state: AlarmState = record.state,
  ): void {
    const event: AlarmEvent = {
      id: record.id,
      state,
      previousState,
      severity: record.severity,
      message: record.message,
      source,
      wallMs,
    };
    for (const listener of this.rawListeners('alarm')) {
      try {
        listener(event);
      } catch (e) {
        this.#onListenerError(e, event);
      }
    }
  }
}
