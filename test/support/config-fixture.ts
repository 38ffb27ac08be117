/**
 * Builders for configuration tests: two driver factories the loader can resolve (it needs only a
 * name, a bus and an options schema), files written into a temp dir, and `loadConfig` run there as
 * `edge-agent run --config DIR/agent.yaml` would.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { z } from 'zod';
import { type LoadedConfig, loadConfig } from '../../agent/config/load-config.js';
import { ConfigError } from '../../agent/core/errors.js';
import { hostPaths } from '../../agent/core/host-paths.js';
import type { DriverFactory } from '../../agent/hal/drivers/driver-factory.js';

/** An I2C sensor: `{ bus, address }`. */
export const probeDriver: DriverFactory<{ bus: number; address: number }> = {
  driver: 'probe',
  bus: 'i2c',
  options: z.strictObject({
    bus: z.number().int(),
    address: z.number().int().min(3).max(0x77).default(0x76),
  }),
  create: () => {
    throw new Error('not built in config tests');
  },
};

/** A GPIO output: `{ line: { chip, offset } }`. */
export const switchDriver: DriverFactory<{ line: { chip: string; offset: number } }> = {
  driver: 'switch',
  bus: 'gpio',
  options: z.strictObject({ line: z.strictObject({ chip: z.string(), offset: z.number().int() }) }),
  create: () => {
    throw new Error('not built in config tests');
  },
};

/** A board with one I2C bus and one GPIO chip, nothing wired. */
export const TEST_BOARD = `id: testboard
name: Test board
backend: sim
capabilities: [i2c, gpio]
i2c: { buses: [1] }
gpio: { chips: [{ label: chip0, ngpio: 32 }] }
`;

/** Writes `files` (name → text) under `dir`, making folders as needed. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
}

/** `loadConfig` on `dir/agent.yaml` (or `configFile`), host paths under `dir`, the two test drivers. */
export function loadIn(
  dir: string,
  env: NodeJS.ProcessEnv = {},
  extra: { configFile?: string; boardFile?: string } = {},
): Promise<LoadedConfig> {
  return loadConfig({
    configFile: extra.configFile ?? path.join(dir, 'agent.yaml'),
    boardFile: extra.boardFile,
    env,
    paths: hostPaths({ EDGE_AGENT_ROOT: dir }),
    drivers: [probeDriver, switchDriver],
    boardsDir: path.join(dir, 'boards'),
  });
}

/** The ConfigError `p` rejects with (fails the test if it resolves or rejects with anything else). */
export async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}
