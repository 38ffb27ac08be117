/**
 * Upper bounds on the lists and maps of the configuration, one table so README.md can list them and
 * every feature's schema (which may import only `core/`) uses the same numbers. They are far above
 * what a gateway needs and exist so that a runaway or hostile file (a generated list of a million
 * devices) is refused at load, naming the field, instead of being built and run. The file itself is
 * bounded before parsing (`MAX_CONFIG_FILE_BYTES`, agent/config/read-text.ts).
 */
export const CONFIG_LIMITS = {
  /** `devices:` of agent.yaml and of each wiring file. */
  devices: 256,
  /** `wiring:` files named by agent.yaml. */
  wiringFiles: 32,
  /** A device's `points:` renames, and the keys of its driver `options:`. */
  deviceFields: 256,
  loops: 256,
  /** Regions of one loop's gain `schedule`. */
  scheduleRegions: 32,
  rules: 1024,
  /** `actions` or `onClear` of one rule. */
  ruleActions: 64,
  /** Conditions under one `all:` or `any:`. */
  conditionItems: 64,
  /** `console.users`. */
  users: 64,
  /** `telemetry.include`, `telemetry.exclude`. */
  telemetryPatterns: 256,
  /** Entries of `telemetry.points`. */
  telemetryPoints: 1024,
  /** Fleet or OTA trust `keys`. */
  trustKeys: 16,
  /** Words of a command line (`ota.rebootCommand`, `ota.health.command`). */
  commandWords: 64,
  /** `ota.health.points`. */
  healthPoints: 256,
  /** `ota.components`. */
  otaComponents: 16,
  /** `ota.localInstallDirs`. */
  localInstallDirs: 16,
  /** A board profile's `matches`, GPIO chips, I2C buses and serial ports. */
  boardItems: 64,
  /** `inference.models`. */
  models: 16,
  /** A model's `inputs` and its `outputs`. */
  modelPoints: 64,
} as const;

/** The refine message of a map with more than `max` entries (zod's `.max` covers only lists). */
export function tooManyEntries(max: number): string {
  return `expected at most ${max} entries`;
}

/** Whether a record (a YAML map) has at most `max` keys. */
export function hasAtMostKeys(max: number): (value: Record<string, unknown>) => boolean {
  return (value) => Object.keys(value).length <= max;
}
