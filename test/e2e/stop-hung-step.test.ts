/**
 * A way out of a hung step: a down stuck in `pg_sleep(3600)` is cancelled by `/migrate close
 * --force` or the pinned summary's *Stop now* (approvers only), its transaction rolls back, the
 * incident fails within seconds, and the worker is free for the next round. Real PostgreSQL,
 * Redis, Bolt over HTTP and the Slack stand-in.
 */
import pg from 'pg';
import { afterEach, describe, expect, onTestFinished } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS, REQUESTER, type Harness } from '../support/bot-harness.js';
import { eventually, posted, query, reachesState, textOf } from '../support/e2e-helpers.js';
import type { TestDatabase } from '../support/postgres.js';
import { createSlowServiceDb, rollbackIntoStepTwo, SLOW_SERVICE } from '../support/slow-service.js';

const responseText = async (h: Harness, key: string) =>
  String((await h.slack.waitForResponse((r) => r.key === key)).body.text);
const appliedIn = async (db: TestDatabase) =>
  (await query<{ name: string }>(db.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
/** Sessions of this test's service database inside the sleeping down (pg_stat_activity is cluster-wide). */
const sleeping = (db: TestDatabase) =>
  query(
    db.url,
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
  );
const stopButtons = (h: Harness) =>
  h.slack
    .messages()
    .flatMap((m) => m.blocks as Array<{ type?: string; elements?: Array<{ action_id?: string }> }>)
    .filter((b) => b.type === 'actions' && b.elements?.some((e) => e.action_id === 'incident_stop_now'));

const cleanups: Array<() => Promise<unknown>> = [];
const onCleanup = (fn: () => Promise<unknown>) => cleanups.push(fn);

describe('a hung down migration', () => {
  afterEach(async () => {
    for (const fn of cleanups.splice(0)) await fn().catch(() => undefined);
  });

  it('is cancelled by an approver (Stop now), fails the incident within seconds, and the next round runs', async ({
    bot,
  }) => {
    const slow = await createSlowServiceDb(3600);
    onTestFinished(() => slow.drop());
    // Before the bot closes (afterEach runs before the fixture's cleanup): a failed assertion must not
    // leave the bot waiting on an hour-long down at shutdown.
    onCleanup(() =>
      query(
        slow.url,
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      ),
    );
    const h = await bot(SLOW_SERVICE, { ticketDatabaseUrl: slow.url });
    const { incidentId } = await rollbackIntoStepTwo(h);
    await eventually('the down sleeping in the service database', async () => (await sleeping(slow)).length === 1);
    // The pinned summary offers Stop now while the step runs, with the step_timeout in view.
    await eventually('the Stop now button on the summary', async () => stopButtons(h).length > 0);

    // The requester is no approver: --force is refused and changes nothing.
    const refused = await h.command('close --force --reason "hung"', REQUESTER);
    expect(await responseText(h, refused.key)).toMatch(/Only an approver .* can stop a running step/);
    expect(await sleeping(slow)).toHaveLength(1);

    const pressedAt = Date.now();
    const stop = await h.press('incident_stop_now', incidentId, APPROVERS[0]);
    expect(await responseText(h, stop.key)).toMatch(/being cancelled/);
    const failed = await reachesState(h, incidentId, 'failed', 15_000);
    expect(Date.now() - pressedAt).toBeLessThan(15_000);
    expect(failed.failure?.code).toBe('rollback_stopped');
    expect(failed.steps.map((s) => `${s.migration}:${s.status}`)).toEqual([
      '003_add_order_audit.ts:done',
      '002_add_order_notes.ts:failed',
      '001_create_orders.ts:not_run',
    ]);
    // Step 2's transaction rolled back: its row and its table are still there; nothing sleeps on.
    expect(await appliedIn(slow)).toEqual(['001_create_orders.ts', '002_add_order_notes.ts']);
    expect(await sleeping(slow)).toEqual([]);
    const failure = await posted(h, 'stopped the rollback during step 2 of 3');
    expect(textOf(failure)).toContain('Its transaction was rolled back, so it changed nothing.');

    // The worker is free: a retry with the down no longer sleeping resolves.
    const admin = new pg.Client({ connectionString: slow.url });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(slow.name)} SET app.slow_down_seconds = '0'`);
    await admin.end();
    const retry = await h.command('retry', REQUESTER);
    expect(await responseText(h, retry.key)).toMatch(/^Round 2 started/);
    await posted(h, /-r2`/);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved');
    expect(await appliedIn(slow)).toEqual([]);
  });
});
