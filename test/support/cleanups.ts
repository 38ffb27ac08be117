/**
 * Things a test started, undone after it in reverse order. A step that does not finish within
 * `stepTimeoutMs` fails the hook with its name, rather than the whole hook timing out unexplained;
 * the other steps still run.
 */
import { afterEach } from 'vitest';

export interface Cleanups {
  add(name: string, undo: () => Promise<void>): void;
}

export function cleanupsAfterEach(stepTimeoutMs = 8000): Cleanups {
  const steps: { name: string; undo: () => Promise<void> }[] = [];
  afterEach(async () => {
    const hung: string[] = [];
    for (const { name, undo } of steps.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), stepTimeoutMs);
      });
      const result = await Promise.race([undo().catch(() => 'failed' as const), timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') hung.push(name);
    }
    if (hung.length > 0) throw new Error(`cleanup did not finish in ${stepTimeoutMs} ms: ${hung.join(', ')}`);
  });
  return { add: (name, undo) => steps.push({ name, undo }) };
}
