/**
 * load → validate → freeze. Finds the configuration file and the board profile, applies environment
 * overrides, reads the wiring (agent.yaml's `devices:` and the files its `wiring:` names), validates
 * all of it (every device's driver options against the board), and returns one frozen object that the
 * composition root passes down. Every mistake is a `ConfigError` listing all issues at once, each
 * naming its own file.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ConfigIssue } from '../core/errors.js';
import type { HostPaths } from '../core/host-paths.js';
import type { DriverFactory } from '../hal/drivers/driver-factory.js';
import type { SimWorldParams } from '../hal/sim/world-schema.js';
import { BOOT_BACKEND_KINDS, bootOptionsSchema } from '../ota/boot/registry.js';
import { type AgentConfig, agentConfigSchema } from './agent-schema.js';
import { applyEnvOverrides, findEnvOverrides } from './env-overrides.js';
import { detectBoard, type LoadedBoard, loadBoard } from './load-board.js';
import { type ResolvedDevice, readWiringFiles, resolveWiring, type WiringPart } from './load-wiring.js';
import { readText } from './read-text.js';
import { deepFreeze, YamlSource } from './validate-yaml.js';

export interface LoadConfigOptions {
  /** `--config`; else `EDGE_AGENT_CONFIG`; else the host default if it exists. */
  readonly configFile?: string | undefined;
  /** `--board`; else `EDGE_AGENT_BOARD`; else the config's `board`; else detected from the model. */
  readonly boardFile?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly paths: HostPaths;
  readonly drivers: readonly DriverFactory[];
  /** Where the shipped profiles live (for detection). */
  readonly boardsDir: string;
}

export interface LoadedConfig {
  readonly configFile: string | undefined;
  readonly config: AgentConfig;
  readonly stateDir: string;
  readonly board: LoadedBoard;
  /** The wiring files `wiring:` names, resolved against the configuration file's directory. */
  readonly wiringFiles: readonly string[];
  /** The devices of agent.yaml's `devices:`, then of each wiring file, resolved to their drivers. */
  readonly devices: readonly ResolvedDevice[];
  /** The simulated world's parameters (`backend: sim` boards only). */
  readonly sim: SimWorldParams | undefined;
  /** Line of a dotted field path in the configuration file (for checks made after loading). */
  lineOf(path: string): number | undefined;
}

export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const explicit = options.configFile ?? options.env.EDGE_AGENT_CONFIG;
  const configFile = explicit ? path.resolve(explicit) : await existing(options.paths.configFile);
  const source = configFile ? YamlSource.parse(configFile, await readText(configFile)) : undefined;

  const { overrides, issues } = findEnvOverrides(agentConfigSchema, options.env);
  if (issues.length > 0) throw new ConfigError('environment', issues);
  const merged = applyEnvOverrides(source?.value ?? {}, overrides);
  const configSource = source ?? YamlSource.parse('defaults', '{}');
  const validated = configSource.validate(agentConfigSchema, [], merged);

  const baseDir = configFile ? path.dirname(configFile) : process.cwd();
  const boardArg = options.boardFile ?? options.env.EDGE_AGENT_BOARD;
  let boardFile: string | undefined;
  if (boardArg) boardFile = path.resolve(boardArg);
  else if (validated.board) boardFile = path.resolve(baseDir, validated.board);
  else boardFile = await detectBoard(options.boardsDir, options.paths.deviceTreeModel);
  if (!boardFile) {
    throw new ConfigError(configFile ?? 'command line', [
      {
        path: 'board',
        message: `no board profile: give --board FILE or set "board" in the configuration (no profile in ${options.boardsDir} matches ${options.paths.deviceTreeModel})`,
      },
    ]);
  }
  const board = await loadBoard(boardFile);
  const lineOf = (dotted: string) =>
    source?.lineOf(dotted.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)));
  const config = withBoardBootDefault(validated, board, lineOf, configFile);
  const inline: WiringPart = {
    file: configSource.file,
    source: configSource,
    devices: config.devices,
    sim: config.sim,
  };
  const files = await readWiringFiles(config.wiring, baseDir, configSource);
  if (files.issues.length > 0) throw new ConfigError(configFile, files.issues);
  const { devices, sim } = resolveWiring(board, [inline, ...files.parts], options.drivers);
  const wiringFiles = files.parts.map((p) => p.file);
  const stateDir = config.stateDir ? path.resolve(baseDir, config.stateDir) : options.paths.stateDir;
  return deepFreeze({ configFile, config, stateDir, board, wiringFiles, devices, sim, lineOf });
}

/**
 * OTA components that omit `boot:` take the board profile's boot backend with its defaults; with no
 * default on the board that is a configuration error naming the component.
 */
function withBoardBootDefault(
  config: AgentConfig,
  board: LoadedBoard,
  lineOf: (dotted: string) => number | undefined,
  configFile: string | undefined,
): AgentConfig {
  if (!config.ota) return config;
  const boardBoot = board.profile.boot;
  const issues: ConfigIssue[] = [];
  const components: Record<string, NonNullable<AgentConfig['ota']>['components'][string]> = {};
  for (const [name, c] of Object.entries(config.ota.components)) {
    if (c.boot || c.kind !== 'system')
      components[name] = c; // a model or rule set is switched live
    else if (boardBoot)
      components[name] = { ...c, boot: bootOptionsSchema.parse({ backend: boardBoot.backend }) };
    else {
      issues.push({
        path: `ota.components.${name}.boot`,
        line: lineOf(`ota.components.${name}`),
        message: `no boot backend: name one (boot: { backend: ${BOOT_BACKEND_KINDS.join(' | ')} }); the board profile ${board.file} has no default (boot.backend)`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(configFile, issues);
  return { ...config, ota: { ...config.ota, components } };
}

async function existing(file: string): Promise<string | undefined> {
  try {
    await access(file);
    return file;
  } catch {
    return undefined;
  }
}
