/**
 * Interactions never wait on Redis: with the bot's Redis (a redis-server of this test's own)
 * killed, pressing Approve on a destructive plan opens the typed-confirmation modal within
 * Slack's 3 s trigger window, the confirmed approval is stored in PostgreSQL, and once Redis is
 * back the rollback is queued at once (not at the next minute's reconciler pass) and resolves.
 */
import { describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS } from '../support/bot-harness.js';
import { eventually, incidentRow, planCard, posted, query, reachesState } from '../support/e2e-helpers.js';
import { startOwnRedis } from '../support/redis-server.js';

describe('approving a destructive plan while Redis is down', () => {
  it('opens the confirmation modal within 3 s, keeps the approval, and runs the rollback once Redis is back', async ({
    bot,
  }) => {
    const redis = await startOwnRedis();
    onTestFinished(() => redis.stop());
    // The production reconciler period: Redis coming back must not wait for the next pass.
    const h = await bot({}, { redisUrl: redis.url, reconcileEveryMs: 60_000 });
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');

    await redis.stop();
    for (const approver of APPROVERS) {
      const pressed = Date.now();
      const press = await h.press('incident_approve', incidentId, approver);
      expect(press.view, 'the typed-confirmation modal').toBeDefined();
      const opened = h.slack.callsTo('views.open').find((c) => c.args.trigger_id === press.view!.trigger_id);
      expect(opened!.at - pressed, 'views.open within the 3 s trigger window').toBeLessThan(3000);
    }
    // Recorded after the modal's ack (the answer comes first): wait for it rather than race it.
    await eventually('both approvals stored in PostgreSQL', async () =>
      (await query(h.stateDb.url, 'SELECT user_id FROM approvals WHERE incident_id = $1', [incidentId])).length === 2
        ? true
        : null,
    );
    expect((await incidentRow(h, incidentId)).state).toBe('awaiting_approval'); // nothing ran without the queue

    await redis.start();
    const back = Date.now();
    await reachesState(h, incidentId, 'resolved', 40_000);
    expect(Date.now() - back, 'queued when Redis came back, not at the next minute').toBeLessThan(30_000);
  });
});
