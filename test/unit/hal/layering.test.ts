/**
 * The HAL is the bottom layer: nothing in agent/hal/ imports from above it (control, telemetry, OTA,
 * attestation, console, link, commands, service, config, the composition roots). It may use
 * agent/core/ (clock, errors, logging, points, units) and packages. Every import counts, type-only
 * ones included: a type from above is a dependency on above.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/agent-process.js';
import { importsOf } from '../../support/module-graph.js';

const HAL = path.join(REPO_ROOT, 'agent/hal');
const CORE = path.join(REPO_ROOT, 'agent/core');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('agent/hal/', () => {
  it('imports nothing but agent/hal/, agent/core/ and packages', () => {
    const above = sources(HAL).flatMap((file) =>
      importsOf(file)
        .filter((e) => e.file && !e.file.startsWith(`${HAL}/`) && !e.file.startsWith(`${CORE}/`))
        .map((e) => `${path.relative(REPO_ROOT, file)}: ${e.specifier}`),
    );
    expect(above).toEqual([]);
  });
});
