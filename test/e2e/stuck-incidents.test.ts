/**
 * Ordinary faults that used to strand an incident: each must end with the rollback done or
 * the incident failed with a message, and `/migrate close` or `/migrate retry` working.
 * Real PostgreSQL, Redis, Bolt over HTTP, and the Slack stand-in with fault injection.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { APPROVERS, REQUESTER, type Harness } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
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
import { ADMIN_URL } from '../support/postgres.js';
import { TABLES_OF_007 } from '../support/ticket-service.js';

const existing = async (h: Harness, tables: string[]) =>
  (
    await query<{ t: string | null }>(h.ticketDb.url, 'SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) AS x', [
      tables,
    ])
  )
    .map((r) => r.t)
    .filter(Boolean);
const applied = async (h: Harness) =>
  (await query<{ name: string }>(h.ticketDb.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
const approveBoth = async (h: Harness, incidentId: string) => {
  await h.press('incident_approve', incidentId, APPROVERS[0]);
  return h.press('incident_approve', incidentId, APPROVERS[1]);
};
const responseTo = (h: Harness, key: string) => h.slack.waitForResponse((r) => r.key === key);
/** `/migrate rollback 007`, its snapshot taken and the first of two approvals given. */
async function openWithOneApproval(h: Harness): Promise<{ incidentId: string; channel: string }> {
  await h.command('rollback 007');
  const card = await planCard(h);
  await posted(h, 'Snapshot saved');
  await h.press('incident_approve', card.incidentId, APPROVERS[0]);
  await posted(h, '(1 of 2)');
  return card;
}
const indexOf = (texts: string[], needle: string) => texts.findIndex((t) => t.includes(needle));

describe('no incident gets stuck', () => {
  it('a held knex lock: the plan card warns, the incident fails in plain words with the lock left as found; retry after clearing it rolls back', async ({
    bot,
  }) => {
    const h = await bot();
    await query(h.ticketDb.url, 'UPDATE knex_migrations_lock SET is_locked = 1');
    await h.command('rollback 007');
    const { incidentId, channel } = await planCard(h);
    const card = await posted(h, '"action_id":"incident_approve"');
    expect(textOf(card)).toMatch(/knex_migrations_lock is locked \(is_locked = 1\).*the rollback stops at it/);
    await posted(h, 'Snapshot saved');
    await approveBoth(h, incidentId);

    const failed = await reachesState(h, incidentId, 'failed');
    expect(failed.failure?.code).toBe('rollback_tool_locked');
    const failure = await posted(h, 'Rollback of `007_add_security_tables.ts` on ticket-service failed');
    expect(textOf(failure)).toContain('`public.knex_migrations_lock` has `is_locked = 1`');
    expect(textOf(failure)).toContain('runbook 004 \\"Migration Lock\\"');
    expect(textOf(failure)).toContain('/migrate retry --service ticket-service');
    expect(
      (await query<{ is_locked: number }>(h.ticketDb.url, 'SELECT is_locked FROM knex_migrations_lock'))[0]!.is_locked,
    ).toBe(1);
    expect(await existing(h, TABLES_OF_007)).toHaveLength(3);

    // /migrate status says what state it is in, what its jobs did, and what people can do next.
    const status = await h.command('status');
    const statusText = JSON.stringify((await responseTo(h, status.key)).body);
    expect(statusText).toContain('*failed*');
    expect(statusText).toMatch(/Jobs: prepare completed, rollback completed/);
    expect(statusText).toContain('Next: `/migrate retry --service ticket-service` re-plans');

    // People clear the lock as runbook 004 says, then retry: a new round with new approvals.
    await query(h.ticketDb.url, 'UPDATE knex_migrations_lock SET is_locked = 0');
    const retry = await h.command('retry', APPROVERS[0]);
    expect(String((await responseTo(h, retry.key)).body.text)).toMatch(/^Round 2 started in <#C/);
    expect(await query(h.stateDb.url, 'SELECT 1 FROM approvals WHERE incident_id = $1', [incidentId])).toEqual([]);
    await posted(h, /Snapshot saved: `pre-rollback-ticket-service-\d{8}-\d{6}-r2`/);
    await eventually(
      'a second plan card',
      async () =>
        h.slack.callsTo('chat.postMessage').filter((c) => c.ok && textOf(c).includes('"action_id":"incident_approve"'))
          .length === 2,
    );
    await approveBoth(h, incidentId);
    const resolved = await reachesState(h, incidentId, 'resolved');
    expect(resolved.attempt).toBe(2);
    expect(await existing(h, TABLES_OF_007)).toEqual([]);
    expect(
      (await query<{ is_locked: number }>(h.ticketDb.url, 'SELECT is_locked FROM knex_migrations_lock'))[0]!.is_locked,
    ).toBe(0);
    await eventually('the resolution in the channel', async () =>
      channelTexts(h, channel).some((t) => t.includes('Rollback complete.')),
    );
  });

  it('Slack answering 503 to chat.update at the second approval: the rollback runs anyway and the channel catches up in order', async ({
    bot,
  }) => {
    const h = await bot();
    const { incidentId, channel } = await openWithOneApproval(h);
    h.slack.fault('chat.update', { status: 503 }, 3); // three delivery attempts: 1 s, 2 s, 4 s apart
    const second = await h.press('incident_approve', incidentId, APPROVERS[1]);

    await reachesState(h, incidentId, 'resolved');
    expect(await existing(h, TABLES_OF_007)).toEqual([]);
    // The card catches up once Slack answers, and the messages after it keep their order.
    await h.slack.waitForCall('chat.update', (c) => c.ok && textOf(c).includes('2 of 2'), 30_000);
    await eventually('the resolution in the channel', async () =>
      channelTexts(h, channel).some((t) => t.includes('Rollback complete.')),
    );
    const texts = channelTexts(h, channel);
    expect(indexOf(texts, 'Approved by')).toBeLessThan(indexOf(texts, 'Step 1/1'));
    expect(indexOf(texts, 'Step 1/1')).toBeLessThan(indexOf(texts, 'Rollback complete.'));
    expect(h.slack.faultsLeft('chat.update')).toBe(0);
    // The approver was never told that nothing happened.
    expect(h.slack.responses.filter((r) => r.key === second.key).map((r) => String(r.body.text))).toEqual([]);
  });

  it('Slack answering 503 to chat.postMessage when the job starts: the down migrations run, then every message arrives once, in order', async ({
    bot,
  }) => {
    const h = await bot();
    const { incidentId, channel } = await openWithOneApproval(h);
    h.slack.fault('chat.postMessage', { status: 503 }, 3); // three delivery attempts: 1 s, 2 s, 4 s apart
    await h.press('incident_approve', incidentId, APPROVERS[1]);

    await reachesState(h, incidentId, 'resolved');
    expect(h.slack.faultsLeft('chat.postMessage'), 'the rollback finished while Slack was still down').toBeGreaterThan(
      0,
    );
    expect(await existing(h, TABLES_OF_007)).toEqual([]);
    expect(await applied(h)).not.toContain('007_add_security_tables.ts');

    await eventually(
      'the resolution in the channel',
      async () => channelTexts(h, channel).some((t) => t.includes('Rollback complete.')),
      40_000,
    );
    const texts = channelTexts(h, channel);
    expect(texts.filter((t) => t.includes('Rollback complete.'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('Step 1/1: running'))).toHaveLength(1);
    expect(indexOf(texts, 'Approved by')).toBeLessThan(indexOf(texts, 'Step 1/1: running'));
    expect(indexOf(texts, 'Step 1/1: running')).toBeLessThan(indexOf(texts, '`007_add_security_tables.ts` reverted'));
    expect(indexOf(texts, 'reverted')).toBeLessThan(indexOf(texts, 'Rollback complete.'));
    // A step that committed is never reported failed.
    expect((await incidentRow(h, incidentId)).steps).toEqual([
      expect.objectContaining({ migration: '007_add_security_tables.ts', status: 'done' }),
    ]);
  });

  it("honours Slack's Retry-After on 429 and posts the message once", async ({ bot }) => {
    const h = await bot();
    h.slack.fault('chat.postMessage', { status: 429, retryAfterSec: 2 });
    await h.command('rollback 007');
    const opened = await h.slack.waitForCall(
      'chat.postMessage',
      (c) => c.ok && textOf(c).includes('asked to roll back'),
    );
    const limited = h.slack.callsTo('chat.postMessage').find((c) => c.error === 'http_429')!;
    expect(opened.at - limited.at).toBeGreaterThanOrEqual(2000);
    await planCard(h);
    expect(
      h.slack.callsTo('chat.postMessage').filter((c) => c.ok && textOf(c).includes('asked to roll back')),
    ).toHaveLength(1);
  });

  it('a post whose answer Slack lost is found in the channel history on the next attempt, not posted twice', async ({
    bot,
  }) => {
    const h = await bot();
    h.slack.fault('chat.postMessage', { answerLost: true });
    await h.command('rollback 007');
    const { channel } = await planCard(h);
    const lost = h.slack.callsTo('chat.postMessage').find((c) => c.error === 'answer_lost')!;
    expect(textOf(lost)).toContain('asked to roll back'); // the opening message reached Slack; its answer did not
    await h.slack.waitForCall('conversations.history', (c) => c.ok);
    const opened = h.slack.messages(channel).filter((m) => `${m.text}`.startsWith('Incident opened: rollback of'));
    expect(opened).toHaveLength(1);
    // Every message carries its notice as Slack message metadata.
    const [row] = await query<{ id: string; attempts: number; delivered: boolean }>(
      h.stateDb.url,
      "SELECT id, attempts, delivered_at IS NOT NULL AS delivered FROM notices WHERE method = 'opened'",
    );
    expect(lost.args.metadata).toEqual({
      event_type: 'migrate_bot_notice',
      event_payload: { notice_id: Number(row!.id) },
    });
    expect({ attempts: row!.attempts, delivered: row!.delivered }).toEqual({ attempts: 2, delivered: true });
  });

  it('the service database becoming unreachable after the approvals fails the incident with a message; close then works', async ({
    bot,
  }) => {
    const h = await bot();
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    const gone = `${h.ticketDb.name}_gone`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [h.ticketDb.name]);
      await admin.query(
        `ALTER DATABASE ${pg.escapeIdentifier(h.ticketDb.name)} RENAME TO ${pg.escapeIdentifier(gone)}`,
      );
      await approveBoth(h, incidentId);
      const failed = await reachesState(h, incidentId, 'failed', 40_000);
      expect(failed.failure?.code).toBe('service_db_unreachable');
      const failure = await posted(h, 'is unreachable');
      expect(textOf(failure)).toContain('The database of *ticket-service* is unreachable');
      const close = await h.command('close --reason "database restored by hand"', REQUESTER);
      expect(String((await responseTo(h, close.key)).body.text)).toMatch(/closed|cancelled/);
      expect((await incidentRow(h, incidentId)).state).toBe('cancelled');
      const events = await query<{ type: string; actor: string; data: { reason: string } }>(
        h.stateDb.url,
        "SELECT type, actor, data FROM incident_events WHERE incident_id = $1 AND type = 'closed'",
        [incidentId],
      );
      expect(events).toEqual([{ type: 'closed', actor: REQUESTER, data: { reason: 'database restored by hand' } }]);
    } finally {
      await admin
        .query(`ALTER DATABASE ${pg.escapeIdentifier(gone)} RENAME TO ${pg.escapeIdentifier(h.ticketDb.name)}`)
        .catch(() => undefined);
      await admin.end();
    }
    expect(await existing(h, TABLES_OF_007)).toHaveLength(3); // nothing ran
  });

  it('/migrate close before the rollback starts cancels it, takes the buttons away and changes nothing', async ({
    bot,
  }) => {
    const h = await bot();
    const before = await applied(h);
    await h.command('rollback 006');
    const { incidentId } = await planCard(h);
    const outsider = await h.command('close', 'U0RAND01');
    expect(String((await responseTo(h, outsider.key)).body.text)).toMatch(/Only the requester or an approver/);
    const close = await h.command('close --reason “wrong migration”', REQUESTER);
    expect(String((await responseTo(h, close.key)).body.text)).toMatch(/cancelled/);
    expect((await incidentRow(h, incidentId)).state).toBe('cancelled');
    await posted(h, '_wrong migration_');
    await h.slack.waitForCall(
      'chat.update',
      (c) => c.ok && !textOf(c).includes('"action_id":"incident_approve"') && textOf(c).includes('was cancelled'),
    );
    const late = await h.press('incident_approve', incidentId, APPROVERS[0]);
    expect(String((await responseTo(h, late.key)).body.text)).toMatch(/cancelled/);
    expect(await applied(h)).toEqual(before);
  });
});
