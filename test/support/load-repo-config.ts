/**
 * Loads an agent.yaml in-process the way the agent on a host does: no environment overrides, the
 * host's paths, the shipped drivers and the repository's board profiles.
 */
import path from 'node:path';
import { type LoadedConfig, loadConfig } from '../../agent/config/load-config.js';
import { hostPaths } from '../../agent/core/host-paths.js';
import { DRIVERS } from '../../agent/hal/drivers/registry.js';
import { REPO_ROOT } from './agent-process.js';

export function loadRepoConfig(configFile: string): Promise<LoadedConfig> {
  return loadConfig({
    configFile,
    env: {},
    paths: hostPaths({}),
    drivers: DRIVERS,
    boardsDir: path.join(REPO_ROOT, 'boards'),
  });
}
