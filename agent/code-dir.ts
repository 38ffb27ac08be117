/**
 * The directory of the agent's code: dist/agent/ when built, agent/ under vitest. The composition root
 * (build-local.ts, build-agent.ts) reads it here and passes it to the modules that load a sibling file
 * (a worker's entry point) or measure the agent's own code; they take it as a `codeDir` option rather
 * than importing this file or trusting their own `import.meta.url`: in the bundled build
 * (scripts/bundle-agent.ts) their code lives in a chunk beside main.js, while this module's URL is
 * dist/agent/ in either build.
 */
export const AGENT_CODE_DIR: URL = new URL('.', import.meta.url);
