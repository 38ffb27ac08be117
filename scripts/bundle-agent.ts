/**
 * The last step of `npm run build`: replaces tsc's dist/agent/main.js with the agent bundled from
 * agent/main.ts (esbuild, minified, source map beside it), its lazily imported parts as chunks in
 * dist/agent/. Every launcher — the service unit, install.sh, the emulator, the tests — runs that
 * same file. Why: V8 keeps the source text of every module it loaded, and ~200 small modules with
 * their doc comments (non-ASCII ones make a source two bytes a character) cost ~3.5 MB of RSS in a
 * process that should idle under 60 MB. Packages in node_modules stay external, as installed; the rest
 * of dist/ (tools, worker entry points, benches) stays tsc's output.
 *   node dist/scripts/bundle-agent.js
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.join(ROOT, 'dist/agent');

// Chunks from an earlier build would linger beside the new ones.
for (const name of await readdir(OUT)) {
  if (name.startsWith('chunk-')) await rm(path.join(OUT, name));
}

await build({
  entryPoints: [path.join(ROOT, 'agent/main.ts')],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  minify: true,
  // Error and class names stay readable in logs.
  keepNames: true,
  sourcemap: true,
  chunkNames: 'chunk-[hash]',
  allowOverwrite: true,
  logLevel: 'warning',
});
