/**
 * The logger: one `mod` per line however deeply children nest, the console's ring at debug while the
 * terminal keeps its own level, and lines for people from the same JSON.
 */
import { describe, expect, it } from 'vitest';
import { LogRing } from '../../../agent/console/log-ring.js';
import { createLogger } from '../../../agent/core/log.js';
import { formatLogLine } from '../../../agent/core/log-format.js';
import { duplicateKeys } from '../../support/duplicate-keys.js';

function sink() {
  const lines: string[] = [];
  return {
    lines,
    write(chunk: string) {
      lines.push(...chunk.split('\n').filter((l) => l !== ''));
    },
  };
}

describe('duplicateKeys (the check the log tests rely on)', () => {
  it('finds a key written twice in one object, at any depth, and nothing in clean JSON', () => {
    expect(duplicateKeys('{"mod":"telemetry","mod":"clock"}')).toEqual(['mod']);
    expect(duplicateKeys('{"a":[{"b":1,"b":"x\\"y"}],"c":{"b":2}}')).toEqual(['b']);
    expect(duplicateKeys('{"a":{"mod":1},"mod":"x","s":"\\"mod\\":1"}')).toEqual([]);
    expect(() => duplicateKeys('{"a":')).toThrow(SyntaxError);
  });
});

describe('createLogger', () => {
  it('writes one mod per line, the path of nested children, never the key twice', () => {
    const out = sink();
    const log = createLogger({ destination: out, level: 'debug', tee: new LogRing(10) });
    const telemetry = log.child({ mod: 'telemetry' });
    telemetry.info('outbox open');
    telemetry.child({ mod: 'clock' }).warn({ wallMs: 1 }, 'wall clock not trusted yet');
    telemetry.child({ mod: 'outbox' }).child({ batch: 7 }).child({ mod: 'commit' }).debug('group commit');
    log.child({ device: 'heater' }).info('device open');
    log.child({ mod: 'points' }).info({ mod: 'override' }, 'a caller field wins, once');
    expect(out.lines).toHaveLength(5);
    for (const line of out.lines) expect(duplicateKeys(line), line).toEqual([]);
    expect(out.lines.map((l) => (JSON.parse(l) as { mod?: string }).mod)).toEqual([
      'telemetry',
      'telemetry.clock',
      'telemetry.outbox.commit',
      undefined,
      'override',
    ]);
    expect(JSON.parse(out.lines[2] as string)).toMatchObject({ batch: 7, msg: 'group commit' });
  });

  it('tees debug lines to the ring while the terminal gets only its own level', () => {
    const terminal = sink();
    const ring = new LogRing(10);
    const log = createLogger({ destination: terminal, level: 'info', tee: ring }).child({ mod: 'points' });
    expect(log.isLevelEnabled('debug')).toBe(true);
    log.trace('too fine for both');
    log.debug({ point: 'chamber.temp', value: 21.03 }, 'reading');
    log.info({ point: 'chamber.temp', value: 21.6 }, 'reading');
    log.warn({ point: 'chamber.temp', quality: 'stale' }, 'point stale');
    const levels = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { level: string }).level);
    expect(levels(terminal.lines)).toEqual(['info', 'warn']);
    expect(levels(ring.tail())).toEqual(['debug', 'info', 'warn']);
  });

  it('gives the ring trace lines when the terminal asks for trace, and nothing to a silent terminal', () => {
    const terminal = sink();
    const ring = new LogRing(10);
    createLogger({ destination: terminal, level: 'trace', tee: ring }).trace('fine');
    expect(terminal.lines).toHaveLength(1);
    expect(ring.tail()).toHaveLength(1);
    const quiet = sink();
    createLogger({ destination: quiet, level: 'silent', tee: ring }).error('only the ring');
    expect(quiet.lines).toEqual([]);
    expect(ring.tail().at(-1)).toContain('only the ring');
  });

  it('prints lines for people on a pretty terminal while the ring keeps the JSON', () => {
    const terminal = sink();
    const ring = new LogRing(10);
    const log = createLogger({ destination: terminal, level: 'info', pretty: true, tee: ring });
    log.child({ mod: 'telemetry' }).child({ mod: 'clock' }).warn({ wallMs: 5 }, 'not trusted yet');
    log.child({ mod: 'points' }).info({ point: 'chamber.temp', value: 21.0301234, unit: 'Cel' }, 'reading');
    expect(terminal.lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}\[telemetry\.clock\] not trusted yet wallMs=1970-01-01T00:00:00\.005Z$/,
    );
    expect(terminal.lines[1]).toMatch(/ INFO {2}\[points\] chamber\.temp = 21\.0301 Cel$/);
    expect(ring.tail().map((l) => formatLogLine(l))).toEqual(terminal.lines);
  });
});

describe('formatLogLine', () => {
  it('reads a point that is not good as its value and what happened to it', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: '2026-01-01T10:00:00.000Z',
      mod: 'points',
      point: 'chamber.temp',
      value: 21.5,
      unit: 'Cel',
      quality: 'stale',
      source: 'chamber',
      msg: 'point stale',
    });
    expect(formatLogLine(line)).toBe('10:00:00.000 WARN  [points] chamber.temp = 21.5 Cel — point stale');
    expect(formatLogLine('not json')).toBe('not json');
  });

  it('shows wall-clock fields as the UTC time they are', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: '2026-01-01T10:00:00.000Z',
      mod: 'telemetry.clock',
      wallMs: Date.parse('2026-12-06T05:08:59.840Z'),
      msg: 'wall clock not trusted yet',
    });
    expect(formatLogLine(line)).toBe(
      '10:00:00.000 WARN  [telemetry.clock] wall clock not trusted yet wallMs=2026-12-06T05:08:59.840Z',
    );
  });
});
