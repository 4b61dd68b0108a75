import { defineConfig } from 'vitest/config';

/** Test files at once (TEST_WORKERS, default 4; 6 measured no faster: 292 s vs 286 s). */
const WORKERS = Number(process.env.TEST_WORKERS ?? 4);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Every file makes its own databases, queue prefix and ports, so files run in parallel. The tests
    // mostly wait on PostgreSQL, Redis and loopback HTTP, so more forks than cores keep both cores busy
    // (vitest's default, cores − 1, is one fork at a time on a 2-core machine).
    // minWorkers as max: with fewer, tinypool ends idle forks mid-run and, with isolate: false, that
    // surfaces as an unhandled "Terminating worker thread" (vitest-dev/vitest#8564).
    maxWorkers: WORKERS,
    minWorkers: WORKERS,
    // Test files share a fork's loaded modules (each still makes its own databases, queue prefix and ports):
    // importing the bot, Bolt, BullMQ and the AWS SDK once per fork instead of once per file.
    isolate: false,
    unstubEnvs: true,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
