/**
 * vitest globalSetup: several test files execute the built agent (`dist/`), so a run after an edit
 * without `npm run build` would test old code. This fails the run instead, naming the newest source
 * that the build has not seen. `npm test` builds first, so there it always passes.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** What `npm run build` compiles: a newer one means dist/ is stale. */
const SOURCES = ['agent', 'scripts', 'tsconfig.build.json'];
const isSource = (file: string) => file.endsWith('.ts') || file.endsWith('.json');

function newestFile(entry: string): { file: string; mtimeMs: number } {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return { file: entry, mtimeMs: isSource(entry) ? stat.mtimeMs : 0 };
  let newest = { file: entry, mtimeMs: 0 };
  for (const name of readdirSync(entry)) {
    const candidate = newestFile(path.join(entry, name));
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/** The reason `dist/` cannot be tested, or undefined when it is newer than every source. */
export function staleBuild(root = ROOT): string | undefined {
  let builtMs: number;
  // The bundle is written last by `npm run build`: it is as new as the oldest part of the build.
  try {
    builtMs = statSync(path.join(root, 'dist/agent/main.js')).mtimeMs;
  } catch {
    return 'dist/agent/main.js is missing: run `npm run build` (npm test does it first)';
  }
  for (const source of SOURCES) {
    const newest = newestFile(path.join(root, source));
    if (newest.mtimeMs > builtMs) {
      return `dist/ is older than ${path.relative(root, newest.file)}: run \`npm run build\` (npm test does it first)`;
    }
  }
  return undefined;
}

export default function setup(): void {
  const stale = staleBuild();
  if (stale) throw new Error(stale);
}
