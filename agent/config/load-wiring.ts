/**
 * The site's wiring, from agent.yaml's own `devices:` / `sim:` and the wiring files its `wiring:`
 * names, resolved against the board: each device's driver must exist, the board must have the bus it
 * needs, its options must pass the driver's schema, the buses, ports and GPIO chips it names must be
 * ones the board declares, and its id must be unique across all those files. On a simulated board the
 * plant (`sim:`, written once) is validated against the devices it names. Every issue names its own
 * file and line, and all of them come in one ConfigError.
 */
import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import type { DriverFactory } from '../hal/drivers/driver-factory.js';
import { type SimWorldParams, simWorldSchema } from '../hal/sim/world-schema.js';
import type { BoardProfile } from './board-schema.js';
import type { LoadedBoard } from './load-board.js';
import { readText } from './read-text.js';
import { type PathKey, YamlSource, zodIssues } from './validate-yaml.js';
import { type DeviceEntry, wiringFileSchema } from './wiring-schema.js';

/** One place wiring was written: agent.yaml itself, or a wiring file it names. */
export interface WiringPart {
  readonly file: string;
  /** For the line of a field path in `file`. */
  readonly source: YamlSource;
  /** At `devices` of the document. */
  readonly devices: readonly DeviceEntry[];
  /** At `sim` of the document, unvalidated until the board is known. */
  readonly sim: Record<string, unknown> | undefined;
}

export interface ResolvedDevice {
  readonly entry: DeviceEntry;
  readonly factory: DriverFactory;
  /** Options after the driver's schema (defaults applied). */
  readonly options: unknown;
  /** The file the device is written in (agent.yaml or a wiring file). */
  readonly file: string;
}

export interface ResolvedWiring {
  /** agent.yaml's devices first, then each wiring file's, in the order `wiring:` names them. */
  readonly devices: readonly ResolvedDevice[];
  /** The simulated world's parameters (`backend: sim` only; defaults when no `sim:` is written). */
  readonly sim: SimWorldParams | undefined;
}

/**
 * Reads the wiring files agent.yaml names (`wiring: FILE` or a list), relative to `baseDir`. A file
 * that cannot be read is reported at the `wiring` entry of agent.yaml that names it; a mistake inside
 * a file, at that file's line.
 */
export async function readWiringFiles(
  names: string | readonly string[] | undefined,
  baseDir: string,
  namedIn: YamlSource,
): Promise<{ parts: WiringPart[]; issues: ConfigIssue[] }> {
  const list = names === undefined ? [] : typeof names === 'string' ? [names] : names;
  const parts: WiringPart[] = [];
  const issues: ConfigIssue[] = [];
  for (const [i, name] of list.entries()) {
    const file = path.resolve(baseDir, name);
    const at: PathKey[] = typeof names === 'string' ? ['wiring'] : ['wiring', i];
    let text: string;
    try {
      text = await readText(file);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const why = error.issues.map((x) => x.message).join('; ');
      issues.push({
        file: namedIn.file,
        path: at.join('.'),
        line: namedIn.lineOf(at),
        message: `wiring file ${file}: ${why}`,
      });
      continue;
    }
    try {
      const source = YamlSource.parse(file, text);
      const wiring = source.validate(wiringFileSchema);
      parts.push({ file, source, devices: wiring.devices, sim: wiring.sim });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues.map((x) => ({ ...x, file: x.file ?? file })));
    }
  }
  return { parts, issues };
}

/** Resolves every part's devices (and the simulated plant) against the board; throws all issues at once. */
export function resolveWiring(
  board: LoadedBoard,
  parts: readonly WiringPart[],
  drivers: readonly DriverFactory[],
): ResolvedWiring {
  const { profile } = board;
  const issues: ConfigIssue[] = [];
  const byName = new Map(drivers.map((d) => [d.driver, d]));
  const devices: ResolvedDevice[] = [];
  /** Where each device id was first written, for the "defined twice" message. */
  const seen = new Map<string, string>();

  for (const part of parts) {
    const at = (p: PathKey[], message: string) =>
      issues.push({ file: part.file, path: p.join('.'), line: part.source.lineOf(p), message });
    part.devices.forEach((entry, i) => {
      const here: PathKey[] = ['devices', i];
      const first = seen.get(entry.id);
      if (first !== undefined) {
        at([...here, 'id'], `device id "${entry.id}" is defined twice: first at ${first}`);
        return;
      }
      seen.set(entry.id, where(part, [...here, 'id']));
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
        const found = zodIssues(parsed.error, [...here, 'options'], (p) => part.source.lineOf(p));
        issues.push(...found.map((x) => ({ ...x, file: part.file })));
        return;
      }
      checkBusReferences(profile, parsed.data, (key, message) => at([...here, 'options', ...key], message));
      devices.push({ entry, factory, options: parsed.data, file: part.file });
    });
  }
  const sim = resolveSim(board, parts, new Set(seen.keys()), issues);
  if (issues.length > 0) throw new ConfigError(parts[0]?.file ?? board.file, issues);
  return { devices, sim };
}

/** The one `sim:` section among the parts, validated, with every device it names present. */
function resolveSim(
  board: LoadedBoard,
  parts: readonly WiringPart[],
  ids: ReadonlySet<string>,
  issues: ConfigIssue[],
): SimWorldParams | undefined {
  const withSim = parts.filter((p) => p.sim !== undefined);
  const issue = (part: WiringPart, p: PathKey[], message: string) =>
    issues.push({ file: part.file, path: p.join('.'), line: part.source.lineOf(p), message });
  if (board.profile.backend !== 'sim') {
    for (const part of withSim)
      issue(
        part,
        ['sim'],
        `only a board with backend: sim has a simulated world; board ${board.profile.id} is ${board.profile.backend}`,
      );
    return undefined;
  }
  const [owner, ...others] = withSim;
  for (const part of others)
    issue(
      part,
      ['sim'],
      `the simulated world is defined twice: first at ${where(owner as WiringPart, ['sim'])}`,
    );
  const parsed = simWorldSchema.safeParse(owner?.sim ?? {});
  if (!parsed.success) {
    if (owner) {
      const found = zodIssues(parsed.error, ['sim'], (p) => owner.source.lineOf(p));
      issues.push(...found.map((x) => ({ ...x, file: owner.file })));
    }
    return undefined;
  }
  const sim = parsed.data;
  if (owner) {
    const known = `devices: ${[...ids].join(', ') || 'none'}`;
    for (const role of ['heater', 'sensor'] as const) {
      const id = sim.chamber?.[role];
      if (id !== undefined && !ids.has(id))
        issue(owner, ['sim', 'chamber', role], `no device "${id}" in the wiring (${known})`);
    }
    for (const id of Object.keys(sim.devices)) {
      if (!ids.has(id)) issue(owner, ['sim', 'devices', id], `no device "${id}" in the wiring (${known})`);
    }
  }
  return sim;
}

/** Cross-checks the bus resources a device's options name against what the board declares. */
function checkBusReferences(
  profile: BoardProfile,
  options: unknown,
  at: (key: PathKey[], message: string) => void,
): void {
  if (typeof options !== 'object' || options === null) return;
  const o = options as Record<string, unknown>;
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
}

function where(part: WiringPart, p: PathKey[]): string {
  const line = part.source.lineOf(p);
  return line === undefined ? part.file : `${part.file}:${line}`;
}
