/**
 * The repository root (where boards/ is), found upwards from this module, so the simulator finds the
 * board profiles and its built agent host whether it runs from dist/ or from the sources (tests).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function findRepoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'boards/sim.yaml')) && existsSync(path.join(dir, 'package.json')))
      return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`the repository (boards/sim.yaml) not found above ${from}`);
  }
}

/** The built agent host process (dist/: the agents run from the build, as on a device). */
export function agentHostMain(): string {
  return path.join(findRepoRoot(), 'dist/scripts/fleet-sim/agent-host.js');
}
