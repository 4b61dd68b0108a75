/**
 * Redis that survives a node: the bot connects through Redis Sentinel (a primary, a replica and
 * three sentinels of this test's own); the primary is killed while a down migration runs, the
 * sentinels promote the replica, and the incident finishes with nothing lost or posted twice.
 */
import { describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import { eventually, query, reachesState } from '../support/e2e-helpers.js';
import { startSentinelSet } from '../support/redis-sentinel.js';
import { createSlowServiceDb, rollbackIntoStepTwo, SLOW_SERVICE } from '../support/slow-service.js';

describe('Redis through Sentinel', () => {
  it('finishes an incident whose Redis primary is killed mid-rollback, each notice posted once', async ({ bot }) => {
    const sentinel = await startSentinelSet();
    onTestFinished(() => sentinel.stop());
    const slow = await createSlowServiceDb(3);
    onTestFinished(() => slow.drop());
    const h = await bot(SLOW_SERVICE, {
      ticketDatabaseUrl: slow.url,
      redisEnv: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name },
      reconcileEveryMs: 2000,
    });

    const { incidentId, channel } = await rollbackIntoStepTwo(h);

    const old = await sentinel.killPrimary();
    const promoted = await sentinel.waitForFailover(old);
    expect(promoted).not.toBe(old);

    await reachesState(h, incidentId, 'resolved', 60_000);
    expect(await query(slow.url, 'SELECT name FROM knex_migrations')).toEqual([]);
    await eventually(
      'the resolution in the channel',
      async () => h.slack.messages(channel).some((m) => m.text.includes('Rollback complete.')),
      30_000,
    );
    // Nothing posted twice: every top-level message and thread reply of the channel is distinct.
    const texts = h.slack.messages(channel).map((m) => `${m.thread_ts ?? ''}|${m.text}`);
    const repeated = texts.filter((t, i) => texts.indexOf(t) !== i && !/Status update/.test(t));
    expect(repeated).toEqual([]);
    for (const once of ['Rollback complete.', 'Step 3/3: running', 'Step 1/3: running'])
      expect(
        texts.filter((t) => t.includes(once)),
        once,
      ).toHaveLength(1);
  });
});
