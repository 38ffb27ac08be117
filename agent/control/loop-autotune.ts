/**
 * A loop's relay autotune, apart from the loop: starting the relay around the current output (within
 * the output limits), stepping it each sample, turning the ultimate gain and period into tunings by
 * the chosen rule, and the outcome — kept for `status()`, logged, and alarmed on abort (the alarm
 * clears on the next success). The loop owns the PID and the state: it applies the tunings and
 * restores its mode; this class never touches them.
 */
import type { Logger } from '../core/log.js';
import { type AutotuneResult, RelayAutotuner, type TuningRule, tuningsFromUltimate } from './autotune.js';
import type { LoopConfig } from './loop-schema.js';
import type { AlarmSink, PidTunings } from './types.js';

export type AutotuneOutcome =
  | {
      readonly ok: true;
      readonly rule: TuningRule;
      readonly tunings: PidTunings;
      readonly result: AutotuneResult;
    }
  | { readonly ok: false; readonly reason: string };

export interface LoopAutotuneDeps {
  readonly log: Logger;
  readonly alarms: AlarmSink;
  /** The loop's name, and the source its alarms are raised with. */
  readonly name: string;
  readonly source: string;
  readonly config: Pick<LoopConfig, 'autotune' | 'outputLimits' | 'direction'>;
}

/** A finished autotune: its outcome, and the gain schedule region it was started in. */
export interface FinishedAutotune {
  readonly outcome: AutotuneOutcome;
  readonly region: string | undefined;
}

interface RunningAutotune {
  readonly tuner: RelayAutotuner;
  readonly rule: TuningRule;
  readonly region: string | undefined;
}

export class LoopAutotune {
  readonly #deps: LoopAutotuneDeps;
  #running: RunningAutotune | undefined;
  #last: AutotuneOutcome | undefined;

  constructor(deps: LoopAutotuneDeps) {
    this.#deps = deps;
  }

  get running(): boolean {
    return this.#running !== undefined;
  }

  get last(): AutotuneOutcome | undefined {
    return this.#last;
  }

  /**
   * Starts the relay around `bias` (the current output) for `setpoint`. The loop checks first that
   * an autotune may start.
   */
  start(at: {
    setpoint: number;
    bias: number;
    region: string | undefined;
    rule: TuningRule | undefined;
    source: string;
  }): void {
    const { config } = this.#deps;
    const cfg = config.autotune;
    const { min, max } = config.outputLimits;
    const { bias } = at;
    // Swing symmetrically around the current output, never past the output limits (a configured
    // amplitude that does not fit is reduced to what does); at a limit, swing over the whole range.
    const amplitude = Math.min(cfg.amplitude ?? Number.POSITIVE_INFINITY, bias - min, max - bias);
    const tuner = new RelayAutotuner({
      setpoint: at.setpoint,
      ...(amplitude > 0 ? { bias, amplitude } : { outputHigh: max, outputLow: min }),
      hysteresis: cfg.hysteresis,
      cycles: cfg.cycles,
      maxDurationMs: cfg.maxDurationMs,
      maxInput: cfg.maxInput,
      minInput: cfg.minInput,
      direction: config.direction,
    });
    this.#running = { tuner, rule: at.rule ?? cfg.rule, region: at.region };
    this.#deps.log.info(
      { loop: this.#deps.name, rule: this.#running.rule, source: at.source },
      'autotune started',
    );
  }

  /**
   * One sample of a running autotune: the relay's output, or (once it is done or aborted) the
   * outcome, which the loop applies and then hands to `report`.
   */
  step(input: number, nowMs: number): { readonly output: number } | FinishedAutotune {
    const running = this.#running;
    if (!running) throw new TypeError(`loop ${this.#deps.name} is not autotuning`);
    const step = running.tuner.step(input, nowMs);
    if ('output' in step) return { output: step.output };
    this.#running = undefined;
    if ('done' in step) {
      const tunings = tuningsFromUltimate(
        step.done.kuFundamental ?? step.done.ku,
        step.done.puS,
        running.rule,
      );
      return {
        outcome: { ok: true, rule: running.rule, tunings, result: step.done },
        region: running.region,
      };
    }
    return { outcome: { ok: false, reason: step.aborted }, region: running.region };
  }

  /** Records, logs and alarms the outcome of a finished autotune (after the loop applied it). */
  report(outcome: AutotuneOutcome): void {
    const { log, alarms, name, source } = this.#deps;
    this.#last = outcome;
    if (outcome.ok) {
      // An earlier abort's alarm: its condition (the loop has no autotuned gains) is over.
      alarms.clear(`loop.${name}.autotune`, source);
      log.info(
        { loop: name, tunings: outcome.tunings, ku: outcome.result.ku, puS: outcome.result.puS },
        'autotune done',
      );
    } else {
      log.warn({ loop: name, reason: outcome.reason }, 'autotune aborted; previous tunings kept');
      alarms.raise({
        id: `loop.${name}.autotune`,
        severity: 'warning',
        message: `loop ${name}: autotune aborted (${outcome.reason}); previous tunings and mode restored`,
        source,
      });
    }
  }

  /** Stops a running autotune (recorded as not ok); false if none was running. */
  cancel(reason: string): boolean {
    if (!this.#running) return false;
    this.#running = undefined;
    this.#last = { ok: false, reason };
    this.#deps.log.info({ loop: this.#deps.name, reason }, 'autotune cancelled');
    return true;
  }

  /** Drops a running autotune without an outcome (the loop is stopping). */
  abandon(): void {
    this.#running = undefined;
  }
}
