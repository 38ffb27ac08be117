import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DRIVERS } from '../../../../agent/hal/drivers/registry.js';
import { REPO_ROOT } from '../../../support/agent-process.js';

const DRIVERS_DIR = path.join(REPO_ROOT, 'agent/hal/drivers');
const folders = readdirSync(DRIVERS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/** The top-level option names of a driver's schema (through `.default()` / `.refine()` wrappers). */
function optionNames(schema: z.ZodTypeAny): string[] {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodDefault) s = s.removeDefault();
    else break;
  }
  if (!(s instanceof z.ZodObject)) throw new Error('a driver options schema is expected to be an object');
  return Object.keys(s.shape);
}

/** The module header of a folder's index.ts: the comment before the first statement. */
function header(folder: string): string {
  const text = readFileSync(path.join(DRIVERS_DIR, folder, 'index.ts'), 'utf8');
  return /^\/\*\*[\s\S]*?\*\//.exec(text)?.[0] ?? '';
}

describe('driver registry', () => {
  it('lists exactly one driver per folder under agent/hal/drivers/, named as its folder', () => {
    expect(DRIVERS.map((d) => d.driver).sort()).toEqual(folders);
  });

  it.each(folders)('takes %s from its folder index, which exports it as `driver`', async (folder) => {
    const file = path.join(DRIVERS_DIR, folder, 'index.ts');
    const index = (await import(/* @vite-ignore */ file)) as { driver: unknown };
    expect(DRIVERS).toContain(index.driver);
  });

  it.each(DRIVERS.map((d) => [d.driver, d] as const))(
    "documents every option of %s in its folder index's header",
    (name, driver) => {
      const text = header(name);
      expect(text).toContain(`\`${name}\``);
      for (const option of optionNames(driver.options as z.ZodTypeAny)) {
        expect(text, `option ${option}`).toMatch(new RegExp(`\\| \`${option}[\`.]`));
      }
    },
  );
});
