/**
 * Commands about the process image and the devices: `points`, `point.set`, `devices` (`status` is
 * status-command.ts). Results are plain data; the console renders them, the fleet receives them as CBOR.
 */
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import type { PointSnapshot, PointTable } from '../core/points.js';
import type { DeviceStatus } from '../hal/device-supervisor.js';
import { type CommandRegistry, sourceOf } from './registry.js';

export interface CoreCommandDeps {
  readonly points: PointTable;
  readonly devices: readonly { status(): DeviceStatus }[];
  readonly clock: Clock;
}

const noArgs = z.strictObject({});

export function registerCoreCommands(registry: CommandRegistry, deps: CoreCommandDeps): void {
  registry.register({
    name: 'devices',
    summary: 'each device: state, failures, last error',
    args: noArgs,
    run: async () => deps.devices.map((d) => d.status()),
  });
  registry.register({
    name: 'points',
    summary: 'the process image: value, unit, quality and age of every point (optionally a prefix)',
    args: z.strictObject({ prefix: z.string().optional() }),
    run: async ({ prefix }) => {
      const now = deps.clock.monotonicMs();
      return deps.points
        .list()
        .filter((p) => !prefix || p.name.startsWith(prefix))
        .map((p: PointSnapshot) => ({
          name: p.name,
          value: p.value,
          unit: p.unit,
          quality: p.quality,
          ageMs: p.monoMs ? Math.round(now - p.monoMs) : undefined,
          writable: p.writable,
          forcedBy: p.forcedBy,
        }));
    },
  });
  registry.register({
    name: 'point.set',
    summary: 'write a writable point (an actuator or a setpoint)',
    actuates: true,
    args: z.strictObject({
      point: z.string().min(1),
      value: z.union([z.number().finite(), z.boolean(), z.string()]),
    }),
    check: async ({ point, value }, ctx) => deps.points.checkWrite(point, value, sourceOf(ctx)),
    describe: async ({ point, value }) => {
      const now = deps.points.get(point);
      return [`${point}: ${String(now?.value ?? '-')} → ${String(value)}${now?.unit ? ` ${now.unit}` : ''}`];
    },
    run: async ({ point, value }, ctx) => {
      await deps.points.write(point, value, sourceOf(ctx));
      return deps.points.get(point);
    },
  });
}
