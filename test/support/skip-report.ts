/**
 * A vitest reporter that ends the run with how many tests were skipped and why. Only the
 * real-hardware contract runs may skip (test/unit/test-rules.test.ts holds every other test to
 * that): they run when `HAL_TEST_*` names a device, so the summary says which variables to set.
 */
import path from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class SkipReport implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byFile = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        if (test.result().state !== 'skipped') continue;
        const file = path.relative(process.cwd(), module.moduleId);
        byFile.set(file, (byFile.get(file) ?? 0) + 1);
      }
    }
    const total = [...byFile.values()].reduce((a, b) => a + b, 0);
    if (total === 0) return;
    const lines = [...byFile].map(([file, n]) => `  ${file}: ${n}`);
    process.stdout.write(
      `\nSkipped ${total}: real-hardware contract runs, which need a device named by HAL_TEST_I2C, ` +
        `HAL_TEST_GPIO_OUT/HAL_TEST_GPIO_IN or HAL_TEST_SERIAL (see docs/style.md)\n${lines.join('\n')}\n`,
    );
  }
}
