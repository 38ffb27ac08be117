/**
 * The built agent as the service runs it: dist/agent/main.js, bundled by esbuild with every
 * `import()` split into a lazy chunk (scripts/bundle-agent.ts). The chunks main.js loads at start —
 * its static imports, followed through the chunks — must hold no simulation class, so a real board
 * never parses the simulated world; the world and each bus simulator must sit in lazy chunks.
 * Classes keep their names in the bundle (`keepNames`), which is what this looks for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../support/agent-process.js';

const DIST = path.join(REPO_ROOT, 'dist/agent');
/** `import{a as b}from"./chunk-X.js"` or `import"./chunk-X.js"`, but not `import("./chunk-X.js")`. */
const STATIC_IMPORT = /(?:^|[;}])import\s*(?:[^("']*?from\s*)?["'](\.\/chunk-[\w-]+\.js)["']/g;
const SIM_CLASSES = [
  'SimWorld',
  'ThermalPlant',
  'SimGpio',
  'SimLine',
  'SimI2c',
  'SimRegisterChip',
  'SimSerial',
  'SimBle',
  'SimBme280Chip',
  'SimSht31Chip',
  'SimPms5003',
  'SimBthomeSensor',
  'SimContact',
  'SimPulseSource',
];
const read = (chunk: string) => readFileSync(path.join(DIST, chunk), 'utf8');
const definesClass = (text: string, name: string) => text.includes(`"${name}"`);

function loadedAtStart(): string[] {
  const seen = new Set<string>();
  const queue = ['main.js'];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of read(file).matchAll(STATIC_IMPORT)) queue.push(path.basename(m[1] ?? ''));
  }
  return [...seen];
}

describe('the bundled agent', () => {
  it('loads no simulation class at start', () => {
    const start = loadedAtStart();
    expect(start.length).toBeGreaterThan(1); // main.js does import shared chunks statically
    const found = start.flatMap((chunk) =>
      SIM_CLASSES.filter((name) => definesClass(read(chunk), name)).map((name) => `${chunk}: ${name}`),
    );
    expect(found).toEqual([]);
  });

  it('has every simulation class in a lazy chunk, loaded only through import()', () => {
    const start = new Set(loadedAtStart());
    const lazy = readdirSync(DIST).filter(
      (f) => f.startsWith('chunk-') && f.endsWith('.js') && !start.has(f),
    );
    for (const name of SIM_CLASSES) {
      expect(
        lazy.some((chunk) => definesClass(read(chunk), name)),
        name,
      ).toBe(true);
    }
  });
});
