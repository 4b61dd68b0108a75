/**
 * The ways out (`/migrate close` while a rollback runs, `/migrate retry`), the reconciler,
 * Slack's request window, and a Redis outage — against real PostgreSQL, a redis-server of
 * the test's own that it stops and starts, Bolt over HTTP and the Slack stand-in.
 */
import { afterEach, describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS, REQUESTER, type Harness } from '../support/bot-harness.js';
import {
  channelTexts,
  eventually,
  incidentRow,
  planCard,
  posted,
  query,
  reachesState,
  textOf,
} from '../support/e2e-helpers.js';
import type { TestDatabase } from '../support/postgres.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { createSlowServiceDb, SLOW_SERVICE, SLOW_TABLES } from '../support/slow-service.js';

const approveBoth = async (h: Harness, incidentId: string) => {
  await h.press('incident_approve', incidentId, APPROVERS[0]);
  return h.press('incident_approve', incidentId, APPROVERS[1]);
};
const responseText = async (h: Harness, key: string, match?: RegExp) =>
  String(
    (await h.slack.waitForResponse((r) => r.key === key && (!match || match.test(String(r.body.text))))).body.text,
  );
const appliedIn = async (db: TestDatabase) =>
  (await query<{ name: string }>(db.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
const tablesIn = async (db: TestDatabase) =>
  (
    await query<{ t: string | null }>(db.url, 'SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) AS x', [
      SLOW_TABLES,
    ])
  )
    .map((r) => r.t)
    .filter(Boolean);

describe('ways out of a running or failed incident', () => {
  let slow: TestDatabase | undefined;
  let redis: OwnRedis | undefined;
  // Before the bot closes (afterEach runs before the `bot` fixture's cleanup): the harness cleans its keys on close.
  afterEach(async () => {
    await redis?.start().catch(() => undefined);
  });
  /** After the bot closes (onTestFinished runs after the fixture's cleanup). */
  const dropSlow = async (): Promise<void> => {
    await slow?.drop();
    slow = undefined;
  };
  const stopRedis = async (): Promise<void> => {
    await redis?.stop();
    redis = undefined;
  };

  it('close while a rollback runs stops it after the step in progress; retry re-plans what is still applied and needs new approvals', async ({
    bot,
  }) => {
    slow = await createSlowServiceDb(2);
    onTestFinished(dropSlow);
    const h = await bot(SLOW_SERVICE, { ticketDatabaseUrl: slow.url });
    await h.command('rollback 001');
    const { incidentId, channel } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await approveBoth(h, incidentId);
    await posted(h, 'Step 2/3: running the down migration of `002_add_order_notes.ts`');

    const close = await h.command('close --reason "stop: wrong target"', APPROVERS[0]);
    expect(await responseText(h, close.key)).toMatch(/stops after the step in progress/);
    const failed = await reachesState(h, incidentId, 'failed');
    expect(failed.failure?.code).toBe('rollback_stopped');
    expect(failed.steps.map((s) => `${s.migration}:${s.status}`)).toEqual([
      '003_add_order_audit.ts:done',
      '002_add_order_notes.ts:done',
      '001_create_orders.ts:not_run',
    ]);
    // Step 2 finished (never cut in the middle); step 3 never ran.
    expect(await appliedIn(slow)).toEqual(['001_create_orders.ts']);
    expect(await tablesIn(slow)).toEqual(['orders']);
    const failure = await posted(h, 'stopped the rollback before step 3 of 3');
    expect(textOf(failure)).toContain('_stop: wrong target_');

    const retry = await h.command('retry', REQUESTER);
    expect(await responseText(h, retry.key)).toMatch(/^Round 2 started/);
    await posted(h, /-r2`/); // a new snapshot of the database as it is now
    // Exactly one plan card has buttons (round 2's); round 1's says how its round ended.
    const cards = await eventually("both rounds' plan cards, round 1 marked failed", async () => {
      const all = h.slack
        .messages(channel)
        .filter((m) => /"text":"Rollback plan( \(round \d+\))? — /.test(JSON.stringify(m.blocks)));
      return all.length === 2 && JSON.stringify(all[0]!.blocks).includes('This plan failed') ? all : null;
    });
    const live = cards.filter((m) => JSON.stringify(m.blocks).includes('"action_id":"incident_approve"'));
    expect(live).toHaveLength(1);
    expect(JSON.stringify(live[0]!.blocks)).toContain('Rollback plan (round 2)');
    expect(JSON.stringify(cards[0]!.blocks)).not.toContain('Approved. The rollback runs');
    const approveOld = await h.press('incident_approve', incidentId, APPROVERS[0]);
    expect(await responseText(h, approveOld.key).catch(() => '')).not.toMatch(/already approved/);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const resolved = await reachesState(h, incidentId, 'resolved');
    expect(resolved.steps.map((s) => s.migration)).toEqual(['001_create_orders.ts']);
    expect(await appliedIn(slow)).toEqual([]);
    expect(await tablesIn(slow)).toEqual([]);
    await eventually('the resolution in the channel', async () =>
      channelTexts(h!, channel).some((t) => t.includes('Rollback complete.')),
    );
  });

  it('the reconciler queues a rollback whose approvals are complete but was never queued, and fails a rolling_back incident with no job', async ({
    bot,
  }) => {
    slow = await createSlowServiceDb(0);
    onTestFinished(dropSlow);
    const h = await bot(SLOW_SERVICE, { ticketDatabaseUrl: slow.url, reconcileEveryMs: 500 });
    await h.command('rollback 003');
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    // Approvals recorded straight in the state database: as if the queue call had been lost.
    for (const u of APPROVERS) {
      await query(
        h.stateDb.url,
        "INSERT INTO approvals (incident_id, user_id, plan_digest) SELECT id, $2, basis->>'digest' FROM incidents WHERE id = $1",
        [incidentId, u],
      );
    }
    await reachesState(h, incidentId, 'resolved');
    await posted(h, 'the rollback was never queued');
    expect(await appliedIn(slow)).toEqual(['001_create_orders.ts', '002_add_order_notes.ts']);

    // An incident left rolling_back with no job and no lock holder (a lost worker and job).
    await h.command('rollback 002');
    const second = await eventually(
      'a second incident',
      async () =>
        (await query<{ id: string }>(h.stateDb.url, "SELECT id FROM incidents WHERE state <> 'resolved'"))[0]?.id,
    );
    await reachesState(h, second, 'awaiting_approval');
    await query(h.stateDb.url, "UPDATE incidents SET state = 'rolling_back' WHERE id = $1", [second]);
    const failed = await reachesState(h, second, 'failed');
    expect(failed.failure?.code).toBe('rollback_job_lost');
    expect(failed.steps.map((s) => s.status)).toEqual(['not_run']);
    const events = await query<{ actor: string }>(
      h.stateDb.url,
      "SELECT actor FROM incident_events WHERE incident_id = $1 AND type = 'failed'",
      [second],
    );
    expect(events).toEqual([{ actor: 'reconciler' }]);
  });

  it('the reconciler fails an incident whose snapshot outlived the provider wait, and asks for a lost prepare job again', async ({
    bot,
  }) => {
    const h = await bot({}, { reconcileEveryMs: 500 });
    // An incident whose snapshot started 2 hours ago (pg_dump's limit is one hour) and whose prepare job is gone,
    // written in one statement so the reconciler never sees it half-made.
    const [row] = await query<{ id: string }>(
      h.stateDb.url,
      `WITH i AS (
         INSERT INTO incidents (id, service, migration, state, requested_by, created_at, updated_at)
         VALUES (gen_random_uuid(), 'ticket-service', '007_add_security_tables.ts', 'snapshotting', $1, now() - interval '2 hours', now() - interval '2 hours')
         RETURNING id),
       s AS (INSERT INTO incident_slack (incident_id, channel_id, channel_name) SELECT id, 'C0LOST001', 'incident-db-migration-lost' FROM i),
       e AS (INSERT INTO incident_events (incident_id, at, type, actor, to_state) SELECT id, now() - interval '2 hours', 'snapshot_started', 'migrate-bot', 'snapshotting' FROM i)
       SELECT id FROM i`,
      [REQUESTER],
    );
    const failed = await reachesState(h, row!.id, 'failed');
    expect(failed.failure).toEqual({
      code: 'snapshot_timeout',
      message: 'The snapshot did not become available within 65 minutes. Nothing was changed in the database.',
    });

    // An incident opened while its prepare job was lost: the reconciler queues it and it carries on.
    await query(h.stateDb.url, "UPDATE incidents SET state = 'cancelled', ended_at = now() WHERE id = $1", [row!.id]);
    const [fresh] = await query<{ id: string }>(
      h.stateDb.url,
      `INSERT INTO incidents (id, service, migration, state, requested_by, plan)
       VALUES (gen_random_uuid(), 'ticket-service', '007_add_security_tables.ts', 'opened', $1, '[]') RETURNING id`,
      [REQUESTER],
    );
    await reachesState(h, fresh!.id, 'awaiting_approval');
    const acted = await query(
      h.stateDb.url,
      "SELECT 1 FROM incident_events WHERE incident_id = $1 AND type = 'snapshot_ready'",
      [fresh!.id],
    );
    expect(acted).toHaveLength(1);
  });

  it('refuses requests dated more than 5 minutes in the past or the future with 401, and records nothing', async ({
    bot,
  }) => {
    const h = await bot();
    const now = Math.floor(Date.now() / 1000);
    for (const offset of [6 * 60, 24 * 3600, -6 * 60]) {
      const res = await h.command('rollback 007', REQUESTER, { timestampSec: now + offset });
      expect(res.status, `timestamp ${offset} s from now`).toBe(401);
    }
    const inWindow = await h.command('help', REQUESTER, { timestampSec: now + 240 });
    expect(inWindow.status).toBe(200);
    await h.slack.waitForResponse((r) => r.key === inWindow.key);
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toEqual([]);
    expect(h.slack.callsTo('conversations.create')).toEqual([]);
  });

  it('Redis down: a command is answered in seconds and leaves nothing behind; approvals made during a 20 s outage run once Redis is back', async ({
    bot,
  }) => {
    redis = await startOwnRedis();
    onTestFinished(stopRedis);
    slow = await createSlowServiceDb(0);
    onTestFinished(dropSlow);
    const h = await bot(SLOW_SERVICE, {
      ticketDatabaseUrl: slow.url,
      redisUrl: redis.url,
      reconcileEveryMs: 1000,
      sweepAfterMs: 1000,
    });

    await redis.stop();
    const started = Date.now();
    const refused = await h.command('rollback 003');
    const text = await responseText(h, refused.key);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(text).toMatch(
      /job queue \(Redis\) is unreachable, so no incident was opened: nothing was recorded, no channel was made/,
    );
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toEqual([]);
    expect(h.slack.callsTo('conversations.create')).toEqual([]);

    await redis.start();
    const answers: string[] = [];
    const opened = await eventually(
      'the command to work again',
      async () => {
        const attempt = await h.command('rollback 003');
        const answer = await responseText(h!, attempt.key);
        answers.push(answer);
        return answer.startsWith('Opening incident') ? answer : null;
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; answers: ${answers.join(' | ')}`);
    });
    expect(opened).toMatch(/rollback of `003_add_order_audit.ts`/);
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');

    // Redis goes away mid-incident (and comes back empty, as it keeps nothing on disk).
    await redis.stop();
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    const second = await h.press('incident_approve', incidentId, APPROVERS[1]);
    expect(await responseText(h, second.key)).toMatch(/approval is saved \(2 of 2\)\. The job queue is unreachable/);
    expect(await appliedIn(slow)).toContain('003_add_order_audit.ts');
    await new Promise((r) => setTimeout(r, 20_000)); // Redis stays down for 20 s
    expect((await incidentRow(h, incidentId)).state).toBe('awaiting_approval'); // nothing ran, nothing was lost
    await redis.start();

    await reachesState(h, incidentId, 'resolved', 40_000);
    expect(await appliedIn(slow)).toEqual(['001_create_orders.ts', '002_add_order_notes.ts']);
    await eventually(
      'the channel to catch up',
      async () => h.slack.messages().some((m) => `${m.text}`.includes('Rollback complete.')),
      40_000,
    );
    expect((await incidentRow(h, incidentId)).steps).toEqual([expect.objectContaining({ status: 'done' })]);
  });
});
