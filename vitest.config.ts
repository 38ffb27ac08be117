import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests that run dist/ must not test a stale build.
    globalSetup: ['test/support/check-build.ts'],
    reporters: ['default', './test/support/skip-report.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Two cores on CI: integration tests spawn processes, brokers and ptys.
    maxWorkers: 2,
  },
});
