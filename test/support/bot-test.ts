import { test as base } from 'vitest';
import { startHarness, type Harness, type HarnessOptions, type ServiceOverrides } from './bot-harness.js';

/** Starts a bot harness for the running test; every harness it started is closed when the test ends, pass or fail. */
export type StartBot = (overrides?: ServiceOverrides, options?: HarnessOptions) => Promise<Harness>;

/**
 * vitest's `it` with a `bot` fixture (vitest "Test Context": `test.extend`): `it('…', async ({ bot }) => {
 * const h = await bot({ …services.yaml overrides }, { …options }) })`. Replaces the
 * `let h; afterEach(() => h?.close())` block each e2e file carried.
 */
export const it = base.extend<{ bot: StartBot }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern.
  bot: async ({}, use) => {
    const started: Harness[] = [];
    await use(async (overrides, options) => {
      const h = await startHarness(overrides, options);
      started.push(h);
      return h;
    });
    for (const h of started.reverse()) await h.close();
  },
});
