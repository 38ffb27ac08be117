/** What a technician types, mapped onto the registry: human syntax, the generic form, and errors. */

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandRegistry } from '../../../agent/commands/registry.js';
import { parseLine, resolveCommand, usagesOf } from '../../../agent/console/command-line.js';

function registry(): CommandRegistry {
  const r = new CommandRegistry();
  const add = (name: string, args: z.ZodTypeAny) =>
    r.register({ name, summary: name, args, run: async (a: unknown) => a });
  add('loop.setpoint', z.strictObject({ loop: z.string(), value: z.number() }));
  add(
    'loop.mode',
    z.strictObject({ loop: z.string(), mode: z.enum(['auto', 'manual']), output: z.number().optional() }),
  );
  add('loop.tunings', z.strictObject({ loop: z.string(), kp: z.number(), ki: z.number(), kd: z.number() }));
  add(
    'loop.autotune',
    z.strictObject({ loop: z.string(), rule: z.string().optional(), cancel: z.boolean().default(false) }),
  );
  add('alarm.ack', z.strictObject({ id: z.string() }));
  add('ota.install', z.strictObject({ file: z.string(), force: z.boolean().optional() }));
  add('telemetry.flush', z.strictObject({ maxBatches: z.number().optional() }));
  add('points', z.strictObject({ prefix: z.string().optional() }));
  return r;
}

const resolve = (line: string) => {
  const parsed = parseLine(line);
  if ('error' in parsed) throw new Error(parsed.error);
  const r = resolveCommand(parsed.words, registry());
  return r.ok ? { command: r.command.name, args: r.args } : { error: r.message };
};

describe('resolveCommand', () => {
  it.each([
    ['loop set chamber setpoint 50', 'loop.setpoint', { loop: 'chamber', value: 50 }],
    ['loop set chamber setpoint -2.5e1', 'loop.setpoint', { loop: 'chamber', value: -25 }],
    ['loop set chamber mode manual 0.4', 'loop.mode', { loop: 'chamber', mode: 'manual', output: 0.4 }],
    ['loop set chamber mode auto', 'loop.mode', { loop: 'chamber', mode: 'auto' }],
    ['loop set chamber tunings 0.2 0.002 1', 'loop.tunings', { loop: 'chamber', kp: 0.2, ki: 0.002, kd: 1 }],
    ['loop autotune chamber', 'loop.autotune', { loop: 'chamber' }],
    ['loop autotune chamber cancel', 'loop.autotune', { loop: 'chamber', cancel: true }],
    ['alarm ack chamber.overtemp', 'alarm.ack', { id: 'chamber.overtemp' }],
    ['ota install "/media/usb stick/update.cose"', 'ota.install', { file: '/media/usb stick/update.cose' }],
    ['ota install /u.cose force=true', 'ota.install', { file: '/u.cose', force: true }],
    ['points chamber.', 'points', { prefix: 'chamber.' }],
    ['telemetry.flush maxBatches=3', 'telemetry.flush', { maxBatches: 3 }],
    ['telemetry flush', 'telemetry.flush', {}],
    ['loop.setpoint loop=chamber value=50', 'loop.setpoint', { loop: 'chamber', value: 50 }],
  ])('%s → %s', (line, command, args) => {
    expect(resolve(line)).toEqual({ command, args });
  });

  it.each([
    ['loop set chamber setpoint warm', 'value: expected a number, got warm'],
    ['alarm ack', 'usage: alarm ack <id>'],
    ['loop set chamber', 'usage:\n  loop set <loop> setpoint <value>'],
    ['ota install', 'usage: ota install <file>'],
    ['ota status', 'usage:\n  ota install <file>'],
    ['frobnicate now', 'unknown command: frobnicate now (type help)'],
    ['ponits chamber', 'unknown command: ponits chamber (did you mean `points`?)'],
    ['logz -f', 'unknown command: logz -f (did you mean `logs`?)'],
    ['telemetry.flush 3', 'usage: telemetry.flush [maxBatches=…]'],
  ])('%s is refused: %s', (line, message) => {
    expect((resolve(line) as { error: string }).error).toContain(message);
  });

  it('takes --json and --yes anywhere and honours quotes and escapes', () => {
    expect(parseLine('--json status -y')).toEqual({
      words: ['status'],
      json: true,
      yes: true,
      noReboot: false,
    });
    expect(parseLine('ota install x.img --no-reboot')).toMatchObject({
      words: ['ota', 'install', 'x.img'],
      noReboot: true,
    });
    expect(parseLine(`point set 'a b' "c d" e\\ f`)).toMatchObject({
      words: ['point', 'set', 'a b', 'c d', 'e f'],
    });
    expect(parseLine('ota install "/x')).toEqual({ error: 'unterminated double quote' });
  });

  it('offers the human syntax in help when there is one, else the generic form with argument names', () => {
    const r = registry();
    // The plain form first: help puts the summary on the first usage's row.
    expect(usagesOf(r.get('loop.autotune')!)).toEqual([
      'loop autotune <loop> [<rule>]',
      'loop autotune <loop> cancel',
    ]);
    expect(usagesOf(r.get('telemetry.flush')!)).toEqual(['telemetry.flush [maxBatches=…]']);
  });
});
