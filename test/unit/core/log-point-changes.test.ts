/**
 * Point changes in the log as the agent wires them: every change at debug (the console's ring keeps
 * them all), at info only those that cross the point's telemetry reporting filter, warnings always.
 */
import { describe, expect, it } from 'vitest';
import { LogRing } from '../../../agent/console/log-ring.js';
import { createLogger } from '../../../agent/core/log.js';
import { logPointChanges } from '../../../agent/core/log-point-changes.js';
import { PointTable } from '../../../agent/core/points.js';
import { ReportingFilters } from '../../../agent/telemetry/reporting-filters.js';
import { telemetrySchema } from '../../../agent/telemetry/telemetry-schema.js';
import { FakeClock } from '../../support/fake-clock.js';

interface Line {
  readonly level: string;
  readonly msg: string;
  readonly point: string;
  readonly value: unknown;
}

function setup(telemetry: Record<string, unknown>) {
  const clock = new FakeClock();
  const points = new PointTable({ clock });
  for (const name of ['chamber.temp', 'door.state', 'chamber.output', 'air.pm2_5'])
    points.declare({ name, unit: name === 'chamber.temp' ? 'Cel' : undefined });
  const terminal: Line[] = [];
  const ring = new LogRing(100);
  const log = createLogger({
    destination: { write: (line: string) => terminal.push(JSON.parse(line) as Line) },
    level: 'info',
    tee: ring,
  });
  const reporting = new ReportingFilters(telemetrySchema.parse(telemetry));
  const devicePoints = new Set(['chamber.temp', 'door.state', 'air.pm2_5']);
  logPointChanges(
    points,
    log.child({ mod: 'points' }),
    (p) => devicePoints.has(p.name) && reporting.crosses(p),
  );
  const ringLines = () => ring.tail().map((l) => JSON.parse(l) as Line);
  const seen = (lines: Line[]) => lines.map((l) => `${l.level} ${l.point}=${String(l.value)}`);
  return { clock, points, terminal, ringLines, seen };
}

describe('logPointChanges with the reporting filters', () => {
  it('logs a change below the deadband at debug and one crossing it at info', async () => {
    const { points, terminal, ringLines, seen } = setup({ points: { 'chamber.temp': { st: 0.5 } } });
    for (const v of [21, 21.2, 21.4, 21.6, 21.7, 21.1]) points.update('chamber.temp', v, 'chamber');
    // The deadband counts from the last reported value: 21 → 21.6 → 21.1.
    expect(seen(terminal)).toEqual([
      'info chamber.temp=21',
      'info chamber.temp=21.6',
      'info chamber.temp=21.1',
    ]);
    expect(seen(ringLines())).toEqual([
      'info chamber.temp=21',
      'debug chamber.temp=21.2',
      'debug chamber.temp=21.4',
      'info chamber.temp=21.6',
      'debug chamber.temp=21.7',
      'info chamber.temp=21.1',
    ]);
    expect(ringLines().every((l) => l.msg === 'reading')).toBe(true);
  });

  it('holds a change within the minimum interval at debug and shows it at the first sample past it', async () => {
    const { clock, points, terminal, ringLines, seen } = setup({ points: { 'air.*': { st: 5, pmin: 10 } } });
    points.update('air.pm2_5', 9, 'air');
    await clock.advance(4000);
    points.update('air.pm2_5', 20, 'air'); // crosses the step, too soon: held
    await clock.advance(3000);
    points.update('air.pm2_5', 40, 'air'); // still held
    await clock.advance(2000);
    points.update('air.pm2_5', 40, 'air'); // the same value, still within the interval
    expect(seen(terminal)).toEqual(['info air.pm2_5=9']);
    await clock.advance(2000);
    points.update('air.pm2_5', 40, 'air'); // past it: the value it has now, once
    points.update('air.pm2_5', 40, 'air');
    expect(seen(terminal)).toEqual(['info air.pm2_5=9', 'info air.pm2_5=40']);
    expect(seen(ringLines())).toEqual([
      'info air.pm2_5=9',
      'debug air.pm2_5=20',
      'debug air.pm2_5=40',
      'info air.pm2_5=40',
    ]);
  });

  it('does not show a held change that went back within the interval', async () => {
    const { clock, points, terminal, seen } = setup({ points: { 'chamber.*': { st: 0.5, pmin: 10 } } });
    points.update('chamber.temp', 21, 'chamber');
    await clock.advance(1000);
    points.update('chamber.temp', 22, 'chamber');
    await clock.advance(1000);
    points.update('chamber.temp', 21.1, 'chamber');
    await clock.advance(20_000);
    points.update('chamber.temp', 21.2, 'chamber');
    expect(seen(terminal)).toEqual(['info chamber.temp=21']);
  });

  it('always warns when a point is not good, and shows its return at info', () => {
    const { points, terminal, ringLines, seen } = setup({ points: { 'chamber.temp': { st: 5 } } });
    points.update('chamber.temp', 21, 'chamber');
    points.update('chamber.temp', 21.1, 'chamber');
    points.setQuality('chamber.temp', 'stale');
    points.update('chamber.temp', 21.2, 'chamber');
    points.update('chamber.temp', 21.3, 'chamber');
    expect(seen(terminal)).toEqual([
      'info chamber.temp=21',
      'warn chamber.temp=21.1',
      'info chamber.temp=21.2',
    ]);
    expect(terminal[1]?.msg).toBe('point stale');
    expect(ringLines()).toHaveLength(5);
  });

  it('reports a boolean when it changes; keeps loop outputs and excluded points at debug', () => {
    const { points, terminal, ringLines, seen } = setup({ exclude: ['air.*'] });
    points.update('door.state', false, 'door');
    points.update('door.state', true, 'door');
    points.update('chamber.output', 0.4, 'loop:chamber');
    points.update('chamber.output', 0.9, 'loop:chamber');
    points.update('air.pm2_5', 9, 'air');
    expect(seen(terminal)).toEqual(['info door.state=false', 'info door.state=true']);
    expect(seen(ringLines()).slice(2)).toEqual([
      'debug chamber.output=0.4',
      'debug chamber.output=0.9',
      'debug air.pm2_5=9',
    ]);
  });

  it('with no filter configured, every reading of a device is reported, as telemetry keeps them all', () => {
    const { points, terminal } = setup({});
    for (const v of [21, 21.01, 21.02]) points.update('chamber.temp', v, 'chamber');
    expect(terminal.map((l) => l.level)).toEqual(['info', 'info', 'info']);
  });
});
