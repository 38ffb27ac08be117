/**
 * Reads a board profile: the board alone, validated against board-schema.ts. A profile from before
 * boards and wiring were split still carries `devices:` (and, for the simulator, `sim:`); those get a
 * migration message saying where they go now instead of a bare "unknown field". Also picks the shipped
 * profile that fits the device-tree model (`detectBoard`).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigIssue } from '../core/errors.js';
import { ConfigError } from '../core/errors.js';
import { type BoardProfile, boardProfileSchema } from './board-schema.js';
import { readText } from './read-text.js';
import { YamlSource, zodIssues } from './validate-yaml.js';

export interface LoadedBoard {
  readonly file: string;
  readonly profile: BoardProfile;
}

/** Sections that moved from board profiles to the site's wiring, and what to tell whoever has one. */
const MOVED: Record<string, string> = {
  devices:
    'devices belong in agent.yaml `devices:` or a wiring file (`wiring:` in agent.yaml) since board ' +
    'profiles describe only the board; move this list to a wiring file such as ' +
    'wiring/chamber-kit-<board>.yaml and name it in agent.yaml',
  sim:
    'the simulated world belongs with the devices it simulates, in agent.yaml `sim:` or a wiring file, ' +
    'since board profiles describe only the board; move this section next to the `devices:` it names',
};

export async function loadBoard(file: string): Promise<LoadedBoard> {
  const source = YamlSource.parse(file, await readText(file));
  const doc = isRecord(source.value) ? { ...source.value } : source.value;
  const issues: ConfigIssue[] = [];
  if (isRecord(doc)) {
    for (const [key, message] of Object.entries(MOVED)) {
      if (!(key in doc)) continue;
      issues.push({ path: key, line: source.lineOf([key]), message });
      delete doc[key];
    }
  }
  const parsed = boardProfileSchema.safeParse(doc);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, [], (p) => source.lineOf(p)));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(file, issues);
  return { file, profile: parsed.data };
}

/** Picks the shipped profile whose `matches` fits the device-tree model, if any. */
export async function detectBoard(boardsDir: string, modelFile: string): Promise<string | undefined> {
  let model: string;
  try {
    model = (await readText(modelFile)).replace(/\0/g, '').trim();
  } catch {
    return undefined;
  }
  const files = (await readdir(boardsDir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const f of files) {
    const file = path.join(boardsDir, f);
    const source = YamlSource.parse(file, await readText(file));
    const matches = (source.value as { matches?: unknown }).matches;
    if (Array.isArray(matches) && matches.some((m) => typeof m === 'string' && model.includes(m)))
      return file;
  }
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type { BoardProfile };
