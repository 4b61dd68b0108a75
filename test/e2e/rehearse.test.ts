import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS, OUTSIDER, type Harness } from '../support/bot-harness.js';
import { planCard, posted, query, reachesState, textOf } from '../support/e2e-helpers.js';
import { TICKET_MIGRATIONS_DIR } from '../support/ticket-service.js';

/** 008 relaxes a NOT NULL; its down puts it back, which fails on the rows written since. */
const MIGRATION_008 = `import type { Knex } from 'knex';
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE failed_login_attempts ALTER COLUMN user_id DROP NOT NULL');
}
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE failed_login_attempts ALTER COLUMN user_id SET NOT NULL');
}
`;

const nullable = async (h: Harness): Promise<string> =>
  (
    await query<{ is_nullable: string }>(
      h.ticketDb.url,
      "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'failed_login_attempts' AND column_name = 'user_id'",
    )
  )[0]!.is_nullable;
const rehearsalDatabases = async (h: Harness): Promise<string[]> =>
  (
    await query<{ datname: string }>(h.ticketDb.url, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${new URL(h.ticketDb.url).pathname.slice(1)}_rehearsal_%`,
    ])
  ).map((r) => r.datname);

describe('rehearse the plan on a restored copy (runbook 003 scenario 3)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a rehearsal on a pg_dump copy reports the failing constraint step and leaves production untouched; the production failure names the rows', async ({
    bot,
  }) => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-rehearse-'));
    await cp(TICKET_MIGRATIONS_DIR, dir, { recursive: true });
    await writeFile(path.join(dir, '008_relax_user_id.ts'), MIGRATION_008);
    const h = await bot({ migrations: { tool: 'knex', directory: dir } });
    await query(h.ticketDb.url, 'ALTER TABLE failed_login_attempts ALTER COLUMN user_id DROP NOT NULL');
    await query(
      h.ticketDb.url,
      "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('008_relax_user_id.ts', 3, now())",
    );
    await query(
      h.ticketDb.url,
      "INSERT INTO failed_login_attempts (user_id, ip_address) SELECT NULL, '10.0.0.' || i FROM generate_series(1, 5) i",
    );

    await h.command('rollback 008');
    const card = await posted(h, '"action_id":"incident_rehearse"');
    expect(textOf(card)).toContain(':no_entry: sets failed_login_attempts.user_id NOT NULL — 5 rows violate it');
    const { incidentId } = await planCard(h);

    const early = await h.press('incident_rehearse', incidentId, APPROVERS[0]);
    const earlyText = String((await h.slack.waitForResponse((r) => r.key === early.key)).body.text);
    if (!/Rehearsal queued/.test(earlyText)) expect(earlyText).toMatch(/snapshot is not available yet/);
    await posted(h, 'Snapshot saved');
    const outsider = await h.press('incident_rehearse', incidentId, OUTSIDER);
    expect(String((await h.slack.waitForResponse((r) => r.key === outsider.key)).body.text)).toMatch(
      /Only the requester or an approver/,
    );
    if (!/Rehearsal queued/.test(earlyText)) {
      const press = await h.press('incident_rehearse', incidentId, APPROVERS[0]);
      expect(String((await h.slack.waitForResponse((r) => r.key === press.key)).body.text)).toMatch(/Rehearsal queued/);
    }

    const result = await posted(h, 'Rehearsal failed', 60_000);
    expect(textOf(result)).toMatch(
      /:x: `008_relax_user_id.ts` — `008_relax_user_id.ts` failed: .*column \\"user_id\\" of relation \\"failed_login_attempts\\" contains null values/,
    );
    expect(textOf(result)).toContain('production was not touched');
    await h.slack.waitForCall('chat.update', (c) => textOf(c).includes('Rehearsal FAILED'));
    // Production: the tracking row, the relaxed column and its rows are as they were; the copy is gone.
    expect(
      await query(h.ticketDb.url, "SELECT 1 FROM knex_migrations WHERE name = '008_relax_user_id.ts'"),
    ).toHaveLength(1);
    expect(await nullable(h)).toBe('YES');
    expect(await rehearsalDatabases(h)).toEqual([]);
    const events = (
      await query<{ type: string }>(
        h.stateDb.url,
        "SELECT type FROM incident_events WHERE incident_id = $1 AND type LIKE 'rehearsal%' ORDER BY id",
        [incidentId],
      )
    ).map((e) => e.type);
    expect(events).toEqual(
      expect.arrayContaining([
        'rehearsal_requested',
        'rehearsal_target_created',
        'rehearsal_done',
        'rehearsal_target_removed',
      ]),
    );

    // Approved anyway, production fails the same way, and the failure names the rows to fix.
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const failed = await reachesState(h, incidentId, 'failed');
    expect(failed.failure).toMatchObject({ code: 'rollback_constraint_violation' });
    const message = await posted(h, 'Constraint violation on ADD CONSTRAINT');
    expect(textOf(message)).toContain(
      'Find the rows: `SELECT * FROM public.failed_login_attempts WHERE \\"user_id\\" IS NULL LIMIT 100`',
    );
    expect(await nullable(h)).toBe('YES');
  });
});
