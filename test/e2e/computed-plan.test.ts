/**
 * The plan checked against the schemas, through signed HTTP and the Slack stand-in: a knex
 * service whose newest down has a typo (its up creates `audit_log`, its down drops `audit_logs`).
 * The card says what the downs would leave and what `migrate-bot check --record` found; *Use
 * computed plan* replaces the plan (approvals of the files' plan voided), the computed plan needs
 * its own approvals, runs with lock_timeout, and verification finds the schema equal to the target.
 */
import { describe, expect } from 'vitest';
import { startCheck } from '../../src/main/check-engine.js';
import { startEngine } from '../../src/main/cli-engine.js';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import { runCli, type CliIo } from '../../src/surfaces/cli/program.js';
import { silentLogger } from '../../src/shared/logger.js';
import { it } from '../support/bot-test.js';
import { APPROVERS, REQUESTER, type Harness } from '../support/bot-harness.js';
import { checkFixture, type CheckFixture } from '../support/check-fixtures.js';
import {
  eventually,
  incidentRow,
  planCard,
  posted,
  query,
  reachesState,
  textOf,
  updated,
} from '../support/e2e-helpers.js';
import { createTestDatabase } from '../support/postgres.js';
import type { ToolFixture } from '../support/tool-fixtures.js';

/** The typo fixture as the harness's service: a fresh database migrated up by knex itself. */
function harnessFixture(f: CheckFixture): ToolFixture {
  const tracked = async (url: string) =>
    (await query<{ name: string }>(url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
  return {
    label: 'knex (typo in the newest down)',
    migrations: f.migrations,
    createDb: async () => {
      const db = await createTestDatabase('mb_computed');
      const migrations = { schema: 'public', ...f.migrations } as never;
      const tool = createMigrationTool({ name: 'ticket-service', database_url: db.url, migrations }, silentLogger);
      try {
        await tool.migrateUp!(f.names.map((name, i) => ({ name, order: i + 1, appliedAt: null })));
      } finally {
        await tool.close();
      }
      return db;
    },
    target: '005',
    applied: f.names,
    reverted: [f.typo!],
    createdRelations: ['audit_log'],
    blockTable: 'audit_log',
    sqlShown: 'DROP TABLE IF EXISTS audit_logs',
    trackedNames: tracked,
  };
}

async function checkRecord(h: Harness): Promise<number> {
  const io: CliIo = {
    env: { ...h.rawEnv, LOG_LEVEL: 'silent' },
    stdout: { write: () => true },
    stderr: { write: () => true },
    exitCode: 0,
  };
  return runCli(['check', 'ticket-service', '--record'], io, startEngine, startCheck);
}

const responseText = async (h: Harness, key: string) =>
  JSON.stringify((await h.slack.waitForResponse((r) => r.key === key, 15_000)).body);

describe('the computed plan', () => {
  it('shows what the downs leave, takes the computed plan on a press, voids the files plan approvals and rolls back to the target', async ({
    bot,
  }) => {
    const fixture = await checkFixture('knex', true);
    const h = await bot({}, { fixture: harnessFixture(fixture) });
    // CI recorded its check of these very files: the typo's down failed there.
    expect(await checkRecord(h)).toBe(1);

    await h.command('rollback 005');
    const first = await posted(h, '"action_id":"incident_approve"');
    expect(textOf(first)).toContain('Checking the plan against the schemas');
    const card = await updated(h, '"action_id":"incident_use_computed"');
    const text = textOf(card);
    expect(text).toContain('After the downs, `table public.audit_log` would remain');
    expect(text).toContain('A computed plan is available because the downs do not bring the schema to the target');
    expect(text).toMatch(/down of `005_add_audit_log.js` FAILED migrate-bot check on \d{4}-\d\d-\d\d/);
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    const events = async () =>
      (
        await query<{ type: string }>(
          h.stateDb.url,
          'SELECT type FROM incident_events WHERE incident_id = $1 ORDER BY id',
          [incidentId],
        )
      ).map((r) => r.type);
    expect(await events()).toEqual(expect.arrayContaining(['scratch_created', 'scratch_dropped', 'schema_checked']));
    const firstDigest = (await incidentRow(h, incidentId)).basis!.digest;

    // One approval of the files' plan, then the switch: that approval does not carry over.
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await posted(h, '(1 of 2)');
    const stranger = await h.press('incident_use_computed', incidentId, 'U0STRANGER');
    expect(await responseText(h, stranger.key)).toContain('Only the requester or an approver');
    const press = await h.press('incident_use_computed', incidentId, REQUESTER);
    expect(await responseText(h, press.key)).toContain('The plan is now the computed plan');
    await posted(h, 'plan is now the computed plan');
    const row = await eventually('the computed plan', async () => {
      const r = await incidentRow(h, incidentId);
      return r.basis!.digest !== firstDigest ? r : null;
    });
    expect(row.plan).toHaveLength(1);
    expect(row.plan[0]!.sql.join('\n')).toMatch(/drop table "public"\."audit_log"/i);
    expect(
      await query(h.stateDb.url, 'SELECT count(*)::int AS n FROM approvals WHERE incident_id = $1', [incidentId]),
    ).toEqual([{ n: 0 }]);
    const again = await h.press('incident_use_computed', incidentId, REQUESTER, { value: incidentId });
    expect(await responseText(h, again.key)).toContain('already the computed plan');

    // The new card needs its own two approvals; the rollback then runs the computed SQL.
    await posted(h, /computed plan\*/);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const resolved = await reachesState(h, incidentId, 'resolved', 40_000);
    expect(resolved.steps.map((s) => s.status)).toEqual(['done']);
    expect(await query(h.ticketDb.url, "SELECT to_regclass('public.audit_log')::text AS t")).toEqual([{ t: null }]);
    expect(await harnessFixture(fixture).trackedNames(h.ticketDb.url)).toEqual(fixture.names.slice(0, -1));
    const resolution = await posted(h, 'Rollback complete.');
    expect(textOf(resolution)).toContain('Validation passed');
    expect(await events()).toEqual(
      expect.arrayContaining(['computed_plan_taken', 'plan_superseded', 'rollback_succeeded']),
    );
  });
});
