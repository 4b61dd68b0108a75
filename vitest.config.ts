import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Every file makes its own databases and queue prefix, so files may run in parallel.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
