/**
 * Runs declarative rules once per scan tick. Each rule's condition is evaluated against the point
 * table; a rule activates when it has held `true` for `forMs` and clears when it has been `false` for
 * `clearForMs`. An unknown condition (an input point not good) holds the rule where it is and restarts
 * both debounce timers, because "held continuously" cannot be claimed across a gap nobody saw.
 *
 * On activation a rule runs its actions in order — one-shot `set` writes, loop mode and setpoint
 * changes, its alarm — and takes its `force`s, which it holds until it clears. Interlock rules are
 * evaluated first and only they may force: a force is how an interlock outranks a loop that writes the
 * same output every tick (PointTable refuses the loop's write with `EFORCED`). On clear a rule
 * releases its forces, clears its alarm and runs `onClear`.
 *
 * Nothing here throws out of `evaluate()`: a failed action (a write the device refused, an unknown loop)
 * is logged — once per distinct failure, not once per tick — and a failed force is retried every tick
 * while the rule stays active, since an interlock that did not take is the one failure that must not
 * be left to chance. One-shot actions are not retried: a late `set` could overwrite a newer decision.
 */
import type { Clock } from '../core/clock.js';
import { AgentError, errorMessage, isAgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { PointTable, PointValue } from '../core/points.js';
import { type ConditionEvaluator, compileCondition, type Truth } from './conditions.js';
import { describeRule } from './describe-condition.js';
import type { Action, Rule } from './rule-schema.js';
import type { AlarmSink, LoopRegistry } from './types.js';

export interface RuleEngineDeps {
  readonly clock: Clock;
  readonly points: PointTable;
  readonly loops: LoopRegistry;
  readonly alarms: AlarmSink;
  readonly log: Logger;
}

export interface RuleStatus {
  readonly name: string;
  readonly interlock: boolean;
  readonly active: boolean;
  /** The condition in words: `chamber.temp > 70 (hyst 5) for 2 s`. */
  readonly when: string;
  /** The condition at the last evaluation; `undefined` when an input was not good (state held). */
  readonly condition: Truth;
  /** Monotonic time of the last activation or clear; `undefined` if it never changed. */
  readonly changedAtMonoMs: number | undefined;
  /** Points this active rule forces whose force has not taken yet (retried every tick). */
  readonly pendingForces: readonly string[];
}

interface HeldForce {
  readonly point: string;
  readonly value: PointValue;
  /** Where the action sits in the rule, for logs (`actions.1`). */
  readonly where: string;
  taken: boolean;
}

interface RuleRuntime {
  readonly rule: Rule;
  /** The source of its writes and the owner of its forces. */
  readonly source: string;
  readonly condition: ConditionEvaluator;
  active: boolean;
  lastTruth: Truth;
  trueSinceMs: number | undefined;
  falseSinceMs: number | undefined;
  changedAtMonoMs: number | undefined;
  forces: HeldForce[];
  /** Last failure message per action (`actions.0`), so a failure that repeats every tick logs once. */
  readonly failures: Map<string, string>;
}

export class RuleEngine {
  readonly #deps: RuleEngineDeps;
  /** Interlocks first, then the rest, each group in configuration order. */
  readonly #rules: readonly RuleRuntime[];
  #inFlight: Promise<void> | undefined;

  /**
   * Takes rules that passed `rulesSchema` (and `checkRules`). Throws a `TypeError` for the two
   * mistakes that would make the engine itself unsound: duplicate names (alarm ids and force owners
   * would collide) and a `force` outside an interlock rule, or in `onClear`.
   */
  constructor(deps: RuleEngineDeps, rules: readonly Rule[]) {
    this.#deps = deps;
    const seen = new Set<string>();
    for (const [i, rule] of rules.entries()) {
      if (seen.has(rule.name))
        throw new TypeError(`rules[${i}]: duplicate rule name ${JSON.stringify(rule.name)}`);
      seen.add(rule.name);
      if (!rule.interlock && rule.actions.some((a) => 'force' in a)) {
        throw new TypeError(`rules[${i}] (${rule.name}): only interlock rules may force a point`);
      }
      if (rule.onClear?.some((a) => 'force' in a)) {
        throw new TypeError(`rules[${i}] (${rule.name}): force is not allowed in onClear`);
      }
    }
    const ordered = [...rules.filter((r) => r.interlock), ...rules.filter((r) => !r.interlock)];
    this.#rules = ordered.map((rule) => ({
      rule,
      source: `rule:${rule.name}`,
      condition: compileCondition(rule.when, deps.points),
      active: false,
      lastTruth: undefined,
      trueSinceMs: undefined,
      falseSinceMs: undefined,
      changedAtMonoMs: undefined,
      forces: [],
      failures: new Map(),
    }));
  }

  /**
   * One scan: evaluates every rule at the clock's monotonic time and acts on the changes. Never
   * rejects. A call while the previous scan is still awaiting a device returns that scan's promise
   * rather than running two scans at once (the scheduler counts it as an overrun).
   */
  evaluate(): Promise<void> {
    this.#inFlight ??= this.#scan().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  isActive(name: string): boolean {
    return this.#rules.some((r) => r.rule.name === name && r.active);
  }

  /** Every rule's state, interlocks first, for the console and tests. */
  status(): RuleStatus[] {
    return this.#rules.map((r) => ({
      name: r.rule.name,
      interlock: r.rule.interlock ?? false,
      active: r.active,
      when: describeRule(r.rule),
      condition: r.lastTruth,
      changedAtMonoMs: r.changedAtMonoMs,
      pendingForces: r.forces.filter((f) => !f.taken).map((f) => f.point),
    }));
  }

  /** Actions failing now (each counted once until it succeeds): a rule set's proof needs none. */
  failingActions(): number {
    let n = 0;
    for (const r of this.#rules) n += r.failures.size;
    return n;
  }

  /**
   * Bumpless hand-over from the engine this one replaces: a rule whose name and condition are
   * unchanged keeps its state (active, debounce timers, its raised alarm), so a new rule set does not
   * clear and re-raise what is still true. Returns the names taken over.
   */
  adoptStateOf(previous: RuleEngine): Set<string> {
    const adopted = new Set<string>();
    for (const r of this.#rules) {
      const old = previous.#rules.find((o) => o.rule.name === r.rule.name);
      if (!old || !sameCondition(old.rule, r.rule)) continue;
      r.active = old.active;
      r.lastTruth = old.lastTruth;
      r.trueSinceMs = old.trueSinceMs;
      r.falseSinceMs = old.falseSinceMs;
      r.changedAtMonoMs = old.changedAtMonoMs;
      adopted.add(r.rule.name);
    }
    return adopted;
  }

  /**
   * Lets go of what this engine holds before it is dropped: the forces and alarms of its active
   * rules, except those of `keep` (rules a successor adopted). `onClear` does not run: the condition
   * did not clear, the rule went away.
   */
  async release(keep: ReadonlySet<string> = new Set()): Promise<void> {
    await this.#inFlight;
    for (const r of this.#rules) {
      if (!r.active || keep.has(r.rule.name)) continue;
      await this.#undoEffects(r);
      r.active = false;
    }
  }

  async #scan(): Promise<void> {
    const nowMs = this.#deps.clock.monotonicMs();
    for (const r of this.#rules) {
      try {
        await this.#step(r, nowMs);
      } catch (e) {
        // Every action already catches its own failure; this guards the engine against its own bugs,
        // so one broken rule cannot stop the interlocks after it.
        this.#deps.log.error({ rule: r.rule.name, err: errorMessage(e) }, 'rule evaluation failed');
      }
    }
  }

  async #step(r: RuleRuntime, nowMs: number): Promise<void> {
    const truth = r.condition.evaluate(nowMs);
    r.lastTruth = truth;
    if (truth !== true) r.trueSinceMs = undefined;
    if (truth !== false) r.falseSinceMs = undefined;
    if (!r.active) {
      if (truth !== true) return;
      r.trueSinceMs ??= nowMs;
      if (nowMs - r.trueSinceMs >= (r.rule.forMs ?? 0)) await this.#activate(r, nowMs);
      return;
    }
    if (truth === false) {
      r.falseSinceMs ??= nowMs;
      if (nowMs - r.falseSinceMs >= (r.rule.clearForMs ?? 0)) {
        await this.#deactivate(r, nowMs);
        return;
      }
    }
    for (const force of r.forces) if (!force.taken) await this.#force(r, force);
  }

  async #activate(r: RuleRuntime, nowMs: number): Promise<void> {
    r.active = true;
    r.trueSinceMs = undefined;
    r.changedAtMonoMs = nowMs;
    this.#deps.log.info({ rule: r.rule.name, interlock: r.rule.interlock ?? false }, 'rule activated');
    r.forces = [];
    r.failures.clear(); // a new occurrence: its failures are news even if they repeat the last one's
    for (const [i, action] of r.rule.actions.entries()) {
      const where = `actions.${i}`;
      if ('force' in action) {
        const force: HeldForce = {
          point: action.force.point,
          value: action.force.value,
          where,
          taken: false,
        };
        r.forces.push(force);
        await this.#force(r, force);
      } else {
        await this.#run(r, action, where);
      }
    }
  }

  /** Releases the rule's forces and clears its alarm. */
  async #undoEffects(r: RuleRuntime): Promise<void> {
    // A force that never took is still registered in the point table, so every force is released.
    for (const force of r.forces) {
      await this.#attempt(r, `${force.where}.release`, () =>
        this.#deps.points.release(force.point, r.source),
      );
    }
    r.forces = [];
    if (r.rule.actions.some((a) => 'alarm' in a)) {
      await this.#attempt(r, 'alarm.clear', () => this.#deps.alarms.clear(r.rule.name, r.source));
    }
  }

  async #deactivate(r: RuleRuntime, nowMs: number): Promise<void> {
    r.active = false;
    r.falseSinceMs = undefined;
    r.changedAtMonoMs = nowMs;
    this.#deps.log.info({ rule: r.rule.name }, 'rule cleared');
    await this.#undoEffects(r);
    for (const [i, action] of (r.rule.onClear ?? []).entries()) await this.#run(r, action, `onClear.${i}`);
  }

  async #force(r: RuleRuntime, force: HeldForce): Promise<void> {
    force.taken = await this.#attempt(r, force.where, () =>
      this.#deps.points.force(force.point, force.value, r.source),
    );
  }

  /** A one-shot action (anything but `force`). */
  #run(r: RuleRuntime, action: Action, where: string): Promise<boolean> {
    const { points, loops, alarms } = this.#deps;
    return this.#attempt(r, where, async () => {
      if ('set' in action) return points.write(action.set.point, action.set.value, r.source);
      if ('force' in action) throw new TypeError('force is not a one-shot action'); // excluded by the constructor
      if ('alarm' in action) {
        const { severity, message } = action.alarm;
        return alarms.raise({ id: r.rule.name, severity, message, source: r.source });
      }
      const name = 'loop' in action ? action.loop.name : action.setpoint.loop;
      const loop = loops.get(name);
      if (!loop) throw new AgentError('EUNKNOWN_LOOP', `unknown loop ${name}`);
      if ('setpoint' in action) return loop.setSetpoint(action.setpoint.value, r.source);
      if (action.loop.mode === 'manual') return loop.setMode('manual', r.source, action.loop.output);
      return loop.setMode('auto', r.source);
    });
  }

  /**
   * Runs one action, turning a throw or rejection into a log line and `false`. Logs a failure when it
   * first happens or changes, and the recovery, but not the same failure on every tick.
   */
  async #attempt(r: RuleRuntime, where: string, act: () => unknown): Promise<boolean> {
    const log = this.#deps.log;
    try {
      await act();
      if (r.failures.delete(where)) log.info({ rule: r.rule.name, action: where }, 'rule action succeeded');
      return true;
    } catch (e) {
      const message = errorMessage(e);
      const fields = {
        rule: r.rule.name,
        action: where,
        code: isAgentError(e) ? e.code : undefined,
        err: message,
      };
      if (r.failures.get(where) === message) log.debug(fields, 'rule action failed again');
      else log.warn(fields, 'rule action failed');
      r.failures.set(where, message);
      return false;
    }
  }
}

/** The same condition with the same debounce: a rule whose state carries over to its replacement. */
function sameCondition(a: Rule, b: Rule): boolean {
  return (
    JSON.stringify([a.when, a.forMs, a.clearForMs, a.actions]) ===
    JSON.stringify([b.when, b.forMs, b.clearForMs, b.actions])
  );
}
