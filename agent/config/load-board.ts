/**
 * Reads a board profile and resolves each device entry to its driver: the driver must exist, the
 * board must have the bus it needs, its options must pass the driver's schema, and the buses, ports
 * and GPIO chips it names must be ones the board declares. Point names must be unique.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigIssue } from '../core/errors.js';
import { ConfigError } from '../core/errors.js';
import type { DriverFactory } from '../hal/drivers/driver-factory.js';
import { type SimWorldParams, simWorldSchema } from '../hal/sim/world-schema.js';
import { type BoardProfile, boardProfileSchema, type DeviceEntry } from './board-schema.js';
import { readText } from './read-text.js';
import { type PathKey, YamlSource, zodIssues } from './validate-yaml.js';

export interface ResolvedDevice {
  readonly entry: DeviceEntry;
  readonly factory: DriverFactory;
  /** Options after the driver's schema (defaults applied). */
  readonly options: unknown;
}

export interface ResolvedBoard {
  readonly file: string;
  readonly profile: BoardProfile;
  readonly devices: readonly ResolvedDevice[];
  /** The simulated world's parameters (`backend: sim` only). */
  readonly sim: SimWorldParams | undefined;
}

export async function loadBoard(file: string, drivers: readonly DriverFactory[]): Promise<ResolvedBoard> {
  const source = YamlSource.parse(file, await readText(file));
  const profile = source.validate(boardProfileSchema);
  const issues: ConfigIssue[] = [];
  const at = (p: PathKey[], message: string) =>
    issues.push({ path: p.join('.'), line: source.lineOf(p), message });
  const byName = new Map(drivers.map((d) => [d.driver, d]));
  const devices: ResolvedDevice[] = [];
  const ids = new Set<string>();

  profile.devices.forEach((entry, i) => {
    const here: PathKey[] = ['devices', i];
    if (ids.has(entry.id)) at([...here, 'id'], `device id "${entry.id}" is used twice`);
    ids.add(entry.id);
    const factory = byName.get(entry.driver);
    if (!factory) {
      at(
        [...here, 'driver'],
        `unknown driver "${entry.driver}"; expected one of ${[...byName.keys()].sort().join(', ')}`,
      );
      return;
    }
    if (!profile.capabilities.includes(factory.bus)) {
      at(
        [...here, 'driver'],
        `driver ${entry.driver} needs the "${factory.bus}" capability, which board ${profile.id} does not declare (capabilities: ${profile.capabilities.join(', ') || 'none'})`,
      );
      return;
    }
    const parsed = factory.options.safeParse(entry.options);
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, [...here, 'options'], (p) => source.lineOf(p)));
      return;
    }
    issues.push(...checkBusReferences(profile, parsed.data, [...here, 'options'], source));
    devices.push({ entry, factory, options: parsed.data });
  });
  const sim = profile.backend === 'sim' ? checkSim(source, ids, at) : undefined;
  if (issues.length > 0) throw new ConfigError(file, issues);
  return { file, profile, devices, sim };
}

function checkSim(
  source: YamlSource,
  ids: Set<string>,
  at: (p: PathKey[], message: string) => void,
): SimWorldParams {
  const sim = source.validate(simWorldSchema, ['sim'], (source.value as { sim?: unknown }).sim ?? {});
  const known = `devices: ${[...ids].join(', ')}`;
  for (const role of ['heater', 'sensor'] as const) {
    const id = sim.chamber?.[role];
    if (id !== undefined && !ids.has(id))
      at(['sim', 'chamber', role], `no device "${id}" on this board (${known})`);
  }
  for (const id of Object.keys(sim.devices)) {
    if (!ids.has(id)) at(['sim', 'devices', id], `no device "${id}" on this board (${known})`);
  }
  return sim;
}

/** Cross-checks the bus resources a device's options name against what the board declares. */
function checkBusReferences(
  profile: BoardProfile,
  options: unknown,
  here: PathKey[],
  source: YamlSource,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (typeof options !== 'object' || options === null) return issues;
  const o = options as Record<string, unknown>;
  const at = (key: PathKey[], message: string) => {
    const p = [...here, ...key];
    issues.push({ path: p.join('.'), line: source.lineOf(p), message });
  };
  if (typeof o.bus === 'number' && profile.i2c && !profile.i2c.buses.includes(o.bus)) {
    at(['bus'], `I2C bus ${o.bus} is not on board ${profile.id} (buses: ${profile.i2c.buses.join(', ')})`);
  }
  if (typeof o.port === 'string' && profile.serial && !profile.serial.ports.includes(o.port)) {
    at(
      ['port'],
      `serial port ${o.port} is not on board ${profile.id} (ports: ${profile.serial.ports.join(', ')})`,
    );
  }
  const line = o.line as { chip?: unknown; offset?: unknown } | undefined;
  if (line && typeof line.chip === 'string' && profile.gpio) {
    const chip = profile.gpio.chips.find((c) => c.label === line.chip);
    if (!chip) {
      at(
        ['line', 'chip'],
        `GPIO chip "${line.chip}" is not on board ${profile.id} (chips: ${profile.gpio.chips.map((c) => c.label).join(', ')})`,
      );
    } else if (typeof line.offset === 'number' && line.offset >= chip.ngpio) {
      at(
        ['line', 'offset'],
        `line ${line.offset} is beyond chip ${chip.label}, which has ${chip.ngpio} lines`,
      );
    }
  }
  return issues;
}

/** Picks the shipped profile whose `matches` fits the device-tree model, if any. */
export async function detectBoard(boardsDir: string, modelFile: string): Promise<string | undefined> {
  let model: string;
  try {
    model = (await readText(modelFile)).replace(/\0/g, '').trim();
  } catch {
    return undefined;
  }
  const files = (await readdir(boardsDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const f of files) {
    const file = path.join(boardsDir, f);
    const source = YamlSource.parse(file, await readText(file));
    const matches = (source.value as { matches?: unknown }).matches;
    if (Array.isArray(matches) && matches.some((m) => typeof m === 'string' && model.includes(m)))
      return file;
  }
  return undefined;
}

export type { BoardProfile };
