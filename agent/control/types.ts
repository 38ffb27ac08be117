/**
 * Contracts inside the control layer: what rules may do to loops, and what an alarm is. Loops
 * (loop.ts) implement `LoopControl`; the rule engine (rule-engine.ts) acts through it and raises alarms
 * through `AlarmSink`; commands (agent/commands/) use both. Control imports only core/.
 */

export type LoopMode = 'auto' | 'manual';

export interface PidTunings {
  /** Proportional gain (output units per input unit). */
  readonly kp: number;
  /** Integral gain, per second (kp / Ti). */
  readonly ki: number;
  /** Derivative gain, seconds (kp · Td). */
  readonly kd: number;
}

/** What rules, commands and the console may do to a running loop. */
export interface LoopControl {
  readonly name: string;
  /**
   * Auto: the PID drives the output. Manual: the output holds `manualOutput` (or its current value);
   * the switch back to auto is bumpless.
   */
  setMode(mode: LoopMode, source: string, manualOutput?: number): void;
  setSetpoint(value: number, source: string): void;
  setTunings(tunings: PidTunings, source: string): void;
}

export interface LoopRegistry {
  get(name: string): LoopControl | undefined;
  names(): string[];
}

export type AlarmSeverity = 'critical' | 'major' | 'minor' | 'warning' | 'info';

/**
 * Alarm states after ISA-18.2: an alarm is raised unacknowledged; it may be acknowledged while
 * active; when its condition clears it returns to normal if acknowledged, else it stays
 * `cleared-unacked` until a technician acknowledges it.
 */
export type AlarmState = 'active-unacked' | 'active-acked' | 'cleared-unacked' | 'normal';

export interface AlarmRaise {
  /** Stable id, e.g. `chamber.overtemp` (the rule's name). */
  readonly id: string;
  readonly severity: AlarmSeverity;
  readonly message: string;
  /** Who raised it (`rule:overtemp`, `loop:chamber`). */
  readonly source: string;
}

export interface AlarmSink {
  raise(alarm: AlarmRaise): void;
  clear(id: string, source: string): void;
}
