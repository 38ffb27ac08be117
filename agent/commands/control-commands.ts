/**
 * Commands for loops, rules and alarms: what a technician does at the cabinet and the fleet does
 * remotely — change a setpoint, switch a loop to manual, retune, autotune, acknowledge an alarm.
 */
import { z } from 'zod';
import type { AlarmManager } from '../control/alarms.js';
import type { ControlLoop } from '../control/loop.js';
import type { Loops } from '../control/loop-registry.js';
import { AUTOTUNE_RULES, tuningsSchema } from '../control/loop-schema.js';
import type { RuleStatus } from '../control/rule-engine.js';
import type { PointTable } from '../core/points.js';
import { CommandError, type CommandRegistry, sourceOf } from './registry.js';

export interface ControlCommandDeps {
  readonly loops: Loops;
  readonly alarms: AlarmManager;
  /** agent.yaml's rules and those of rule-set components, interlocks first. */
  readonly rules: { status(): RuleStatus[] };
  readonly points: PointTable;
}

const loopName = z.strictObject({ loop: z.string().min(1) });

export function registerControlCommands(registry: CommandRegistry, deps: ControlCommandDeps): void {
  const loopOf = (name: string): ControlLoop => {
    const loop = deps.loops.get(name);
    if (!loop) {
      throw new CommandError(
        'EUNKNOWN_LOOP',
        `unknown loop ${name}; loops: ${deps.loops.names().join(', ') || 'none'}`,
      );
    }
    return loop;
  };

  registry.register({
    name: 'loops',
    summary: 'every loop: state, input, setpoint, output, tunings',
    args: z.strictObject({}),
    run: async () => deps.loops.all().map((l) => l.status()),
  });
  registry.register({
    name: 'loop.setpoint',
    summary: 'change a loop setpoint',
    actuates: true,
    args: loopName.extend({ value: z.number().finite() }),
    check: async ({ loop, value }, ctx) =>
      deps.points.checkWrite(`loop.${loopOf(loop).name}.setpoint`, value, sourceOf(ctx)),
    describe: async ({ loop, value }) => [
      `loop ${loop}: setpoint ${loopOf(loop).status().setpoint} → ${value}`,
    ],
    run: async ({ loop, value }, ctx) => {
      const l = loopOf(loop);
      await deps.points.write(`loop.${l.name}.setpoint`, value, sourceOf(ctx));
      return l.status();
    },
  });
  registry.register({
    name: 'loop.mode',
    summary: 'switch a loop to auto, or to manual with an output',
    actuates: true,
    args: loopName.extend({ mode: z.enum(['auto', 'manual']), output: z.number().finite().optional() }),
    check: async ({ loop }) => void loopOf(loop),
    describe: async ({ loop, mode, output }) => [
      `loop ${loop}: ${loopOf(loop).status().mode} → ${mode}${output === undefined ? '' : ` (output ${output})`}`,
    ],
    run: async ({ loop, mode, output }, ctx) => {
      const l = loopOf(loop);
      l.setMode(mode, sourceOf(ctx), output);
      return l.status();
    },
  });
  registry.register({
    name: 'loop.tunings',
    summary: "set a loop's PID tunings (kp, ki per s, kd in s), without a bump",
    actuates: true,
    args: loopName.merge(tuningsSchema),
    check: async ({ loop }) => void loopOf(loop),
    run: async ({ loop, kp, ki, kd }, ctx) => {
      const l = loopOf(loop);
      l.setTunings({ kp, ki, kd }, sourceOf(ctx));
      return l.status();
    },
  });
  registry.register({
    name: 'loop.autotune',
    summary: 'start a relay autotune (`… cancel` stops one)',
    actuates: true,
    args: loopName.extend({ rule: z.enum(AUTOTUNE_RULES).optional(), cancel: z.boolean().default(false) }),
    check: async ({ loop }) => void loopOf(loop),
    run: async ({ loop, rule, cancel }, ctx) => {
      const l = loopOf(loop);
      if (cancel) {
        if (!l.cancelAutotune(sourceOf(ctx)))
          throw new CommandError('ENOT_RUNNING', `loop ${loop} is not autotuning`);
      } else {
        try {
          l.startAutotune(sourceOf(ctx), rule);
        } catch (error) {
          throw new CommandError('EREFUSED', error instanceof Error ? error.message : String(error));
        }
      }
      return l.status();
    },
  });
  registry.register({
    name: 'alarms',
    summary: 'alarms that are active or not yet acknowledged',
    args: z.strictObject({}),
    run: async () => deps.alarms.list(),
  });
  registry.register({
    name: 'alarm.ack',
    summary: 'acknowledge an alarm',
    args: z.strictObject({ id: z.string().min(1) }),
    run: async ({ id }, ctx) => {
      const result = deps.alarms.acknowledge(id, sourceOf(ctx));
      if (!result.ok)
        throw new CommandError(
          result.reason === 'unknown-alarm' ? 'EUNKNOWN_ALARM' : 'EALREADY_ACKED',
          `${id}: ${result.reason}`,
        );
      return result;
    },
  });
  registry.register({
    name: 'rules',
    summary: 'every rule and interlock: active or not',
    args: z.strictObject({}),
    run: async () => deps.rules.status(),
  });
}
