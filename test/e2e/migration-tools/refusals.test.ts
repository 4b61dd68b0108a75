import { describe, expect } from 'vitest';
import { it } from '../../support/bot-test.js';
import { APPROVERS } from '../../support/bot-harness.js';
import { planCard, posted, query, textOf } from '../../support/e2e-helpers.js';
import { createTestDatabase } from '../../support/postgres.js';
import { existingRelations, migrateUpLikeGolangMigrate, SQL_DIR, TOOL_FIXTURES } from '../../support/tool-fixtures.js';

describe('a dirty version (runbook 001 "Dirty Migration Recovery")', () => {
  it('is shown in triage and on the plan card, and the Approve dialog asks the approver to acknowledge it', async ({
    bot,
  }) => {
    const sql = TOOL_FIXTURES.find((f) => f.label.startsWith('sql (golang'))!;
    const dirty = {
      ...sql,
      async createDb() {
        const db = await createTestDatabase('mb_sql_dirty_e2e');
        await migrateUpLikeGolangMigrate(db.url, 'single', { failAt: 3 });
        return db;
      },
    };
    const h = await bot({}, { fixture: dirty });
    await h.command('rollback 003');
    await posted(h, '1 dirty row (version 3)');
    const card = await posted(h, '"action_id":"incident_approve"');
    expect(textOf(card)).toContain('*partially applied* (dirty)');
    const blocks = card.args.blocks as Array<{
      elements?: Array<{ action_id?: string; confirm?: { title: { text: string }; text: { text: string } } }>;
    }>;
    const approve = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'incident_approve')!;
    expect(approve.confirm!.title.text).toBe('Acknowledge and approve?');
    expect(approve.confirm!.text.text).toContain('`003_add_users_profile_columns` is *partially applied* (dirty)');

    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Rollback complete.', 30_000);
    expect(await existingRelations(h.ticketDb.url, ['event_reminders'])).toEqual(['event_reminders']);
    expect(await sql.trackedNames(h.ticketDb.url)).toEqual(['001_create_events', '002_add_event_reminders']);
  });
});

describe('what cannot be rolled back: an irreversible step gets a card without Approve; a tracking table of another tool is refused before anything is recorded', () => {
  it.for<[string, string, RegExp]>([
    [
      'node-pg-migrate',
      'rollback 1731000000100',
      /`1731000000100_create-events` is irreversible: it exports `down = false`/,
    ],
    ['drizzle', 'rollback 0000', /`0000_create_events` has no rollback script \(`rollback\/0000_rollback_\*\.sql`\)/],
  ])('%s: %s', async ([tool, text, expected], { bot }) => {
    const fixture = TOOL_FIXTURES.find((f) => f.migrations.tool === tool)!;
    const h = await bot({}, { fixture });
    await h.command(text);
    const card = await posted(h, '"action_id":"incident_restore_instead"');
    expect(textOf(card)).toMatch(expected);
    expect(textOf(card)).toContain('This plan cannot be approved');
    expect(textOf(card)).not.toContain('"action_id":"incident_approve"');
    await posted(h, 'Snapshot saved');
    expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(fixture.applied);
  });

  it('a tracking table of another tool is refused before anything is recorded', async ({ bot }) => {
    const fixture = TOOL_FIXTURES.find((f) => f.migrations.tool === 'node-pg-migrate')!;
    const h = await bot({ migrations: { tool: 'sql', directory: SQL_DIR, table: 'pgmigrations' } }, { fixture });
    const { key } = await h.command('rollback 1731000000200');
    const res = await h.slack.waitForResponse((r) => r.key === key);
    expect(res.body.response_type).toBe('ephemeral');
    expect(String(res.body.text)).toMatch(
      /`public\.pgmigrations` of ticket-service does not look like a `sql` tracking table: it has columns `id`, `name`, `run_on`/,
    );
    expect(String(res.body.text)).not.toMatch(/Something went wrong/);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.slack.callsTo('conversations.create')).toHaveLength(0);
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toHaveLength(0);
    expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(fixture.applied);
  });
});
