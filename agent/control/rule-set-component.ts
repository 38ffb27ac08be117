/**
 * Runs the rule set of a `kind: rules` OTA component beside agent.yaml's rules, and swaps it live.
 *
 * A swap (`activate`): the new set is read and checked first (a broken set never replaces a working
 * one: the error names the component, file, line and field); then its engine takes over in one step,
 * adopting the state of unchanged rules (rule-engine.ts `adoptStateOf`: nothing still true is cleared
 * and raised again), and its loop settings are applied bumplessly (the PID moves the change into its
 * integral). The old engine and the old loop settings are kept until the new set has run
 * `goodOutputs` scans without a failing action; a failing action, or no such run before the deadline,
 * puts the old engine and settings back and reports why.
 */
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { LiveActivation, LiveSwitchOptions } from '../core/live-switch.js';
import type { Logger } from '../core/log.js';
import type { PointTable } from '../core/points.js';
import { RuleEngine, type RuleStatus } from './rule-engine.js';
import type { Rule } from './rule-schema.js';
import type { AlarmSink, LoopControl, LoopRegistry, PidTunings } from './types.js';

/** Loops a rule set may tune: what rules may do to them, and their current settings. */
export interface TunableLoops extends LoopRegistry {
  get(name: string): (LoopControl & { status(): { setpoint: number; tunings: PidTunings } }) | undefined;
}

export interface RuleSetContent {
  readonly file: string;
  readonly rules: readonly Rule[];
  readonly loops: readonly {
    readonly name: string;
    readonly setpoint?: number | undefined;
    readonly tunings?: PidTunings | undefined;
  }[];
}

export interface RuleSetComponentDeps {
  readonly clock: Clock;
  readonly points: PointTable;
  readonly loops: TunableLoops;
  readonly alarms: AlarmSink;
  readonly log: Logger;
  /** Reads and checks a slot's rule set (config/rule-set-file.ts); throws a ConfigError. */
  read(dir: string): Promise<RuleSetContent>;
}

interface Applied {
  readonly engine: RuleEngine;
  readonly content: RuleSetContent | undefined;
}

type LoopSnapshot = { readonly name: string; readonly setpoint: number; readonly tunings: PidTunings };

export class RuleSetComponent {
  readonly name: string;
  readonly #d: RuleSetComponentDeps;
  readonly #log: Logger;
  #current: Applied;
  /** Scans run by the current engine since it took over, and whether one had a failing action. */
  #scans = 0;
  #failedScan: string | undefined;
  #switching = false;

  constructor(deps: RuleSetComponentDeps, name: string) {
    this.#d = deps;
    this.name = name;
    this.#log = deps.log.child({ mod: 'rules', component: name });
    this.#current = { engine: this.#engine([]), content: undefined };
  }

  /** Loads the slot the component runs from, at start; a set that does not load leaves no rules. */
  async load(dir: string): Promise<void> {
    try {
      const content = await this.#d.read(dir);
      this.#current = { engine: this.#engine(content.rules), content };
      await this.#applyLoops(content.loops, `rules:${this.name}`);
      this.#log.info({ file: content.file, rules: content.rules.length }, 'rule set loaded');
    } catch (e) {
      this.#log.error({ err: errorMessage(e) }, 'rule set not loaded: running without it');
    }
  }

  /** One scan of the current set (the scheduler's `rules.<component>` task). */
  async evaluate(): Promise<void> {
    const engine = this.#current.engine;
    await engine.evaluate();
    if (engine !== this.#current.engine) return;
    this.#scans += 1;
    if (engine.failingActions() > 0 && this.#failedScan === undefined) {
      this.#failedScan = `${engine.failingActions()} action(s) failing after ${this.#scans} scan(s)`;
    }
  }

  status(): RuleStatus[] {
    return this.#current.engine.status();
  }

  get file(): string | undefined {
    return this.#current.content?.file;
  }

  async activate(dir: string, options: LiveSwitchOptions): Promise<LiveActivation> {
    if (this.#switching) return { ok: false, reason: 'busy', message: 'another rule set is being switched' };
    this.#switching = true;
    try {
      return await this.#activate(dir, options);
    } finally {
      this.#switching = false;
    }
  }

  async #activate(dir: string, options: LiveSwitchOptions): Promise<LiveActivation> {
    let content: RuleSetContent;
    try {
      content = await this.#d.read(dir);
    } catch (e) {
      return { ok: false, reason: 'invalid', message: errorMessage(e) };
    }
    const previous = this.#current;
    const before = this.#snapshotLoops(content.loops.map((l) => l.name));
    const next: Applied = { engine: this.#engine(content.rules), content };
    const kept = next.engine.adoptStateOf(previous.engine);
    this.#takeOver(next);
    const applied = await this.#applyLoops(content.loops, `rules:${this.name}`);
    const verdict = applied ?? (await this.#prove(options));
    if (verdict === undefined) {
      await previous.engine.release(kept);
      this.#log.info({ file: content.file, rules: content.rules.length }, 'rule set switched');
      return { ok: true };
    }
    // Back to the old set: it adopts what the new one holds, the new one lets go of the rest.
    const restored: Applied = {
      engine: this.#engine(previous.content?.rules ?? []),
      content: previous.content,
    };
    const back = restored.engine.adoptStateOf(next.engine);
    this.#takeOver(restored);
    await next.engine.release(back);
    await this.#applyLoops(before, `rules:${this.name}:rollback`);
    this.#log.warn({ file: content.file, ...verdict }, 'rule set refused; the previous one runs again');
    return { ok: false, ...verdict };
  }

  /** Waits for `goodOutputs` scans of the new set without a failing action. */
  async #prove(options: LiveSwitchOptions): Promise<{ reason: string; message: string } | undefined> {
    const { clock } = this.#d;
    const deadline = clock.monotonicMs() + options.deadlineMs;
    for (;;) {
      if (this.#failedScan !== undefined) return { reason: 'bad-output', message: this.#failedScan };
      if (this.#scans >= options.goodOutputs) return undefined;
      if (options.signal?.aborted) return { reason: 'timeout', message: 'the agent is stopping' };
      if (clock.monotonicMs() >= deadline) {
        return {
          reason: 'timeout',
          message: `${this.#scans} of ${options.goodOutputs} scans within ${options.deadlineMs} ms`,
        };
      }
      await clock.sleep(50);
    }
  }

  #takeOver(applied: Applied): void {
    this.#current = applied;
    this.#scans = 0;
    this.#failedScan = undefined;
  }

  #engine(rules: readonly Rule[]): RuleEngine {
    const { clock, points, loops, alarms, log } = this.#d;
    return new RuleEngine({ clock, points, loops, alarms, log }, rules);
  }

  #snapshotLoops(names: readonly string[]): LoopSnapshot[] {
    return names.flatMap((name) => {
      const loop = this.#d.loops.get(name);
      if (!loop) return [];
      const s = loop.status();
      return [{ name, setpoint: s.setpoint, tunings: s.tunings }];
    });
  }

  /** Applies loop settings; returns why when one was refused (a setpoint outside the loop's limits). */
  async #applyLoops(
    settings: RuleSetContent['loops'],
    source: string,
  ): Promise<{ reason: string; message: string } | undefined> {
    for (const s of settings) {
      const loop = this.#d.loops.get(s.name);
      if (!loop) return { reason: 'invalid', message: `no loop ${s.name}` };
      if (s.tunings) loop.setTunings(s.tunings, source);
      if (s.setpoint !== undefined) {
        try {
          await this.#d.points.write(`loop.${s.name}.setpoint`, s.setpoint, source);
        } catch (e) {
          return { reason: 'invalid', message: `loop ${s.name} setpoint ${s.setpoint}: ${errorMessage(e)}` };
        }
      }
    }
    return undefined;
  }
}
