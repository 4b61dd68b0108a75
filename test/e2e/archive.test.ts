/**
 * Archive before destroy through signed HTTP and the Slack stand-in, on ticket-service (knex):
 * `/migrate rollback 007` drops three tables, two of them holding rows. The card says each is
 * archived first with its estimated size, the destructive approvals run the downs, the archive
 * tables hold every row, the resolution and the postmortem list them with their row counts, and
 * the event log has each table. With `archive.max_bytes` too small the card says why nothing is
 * archived before anyone approves, and the restore advice stays.
 */
import { describe, expect } from 'vitest';
import { shortId } from '../../src/domain/incident/model/incident.js';
import { it } from '../support/bot-test.js';
import { APPROVERS } from '../support/bot-harness.js';
import { eventually, planCard, posted, query, reachesState, textOf } from '../support/e2e-helpers.js';

const seed = (url: string) =>
  query(
    url,
    `INSERT INTO failed_login_attempts (user_id, ip_address) SELECT gen_random_uuid(), '10.0.0.' || g FROM generate_series(1, 40) g;
     INSERT INTO user_spending_limits (user_id, daily_limit) SELECT gen_random_uuid(), g * 10 FROM generate_series(1, 7) g`,
  );

describe('archive before destroy', () => {
  it('archives every row of the dropped tables in the down’s transaction and lists them at resolution', async ({
    bot,
  }) => {
    const h = await bot();
    await seed(h.ticketDb.url);
    const before = await query(h.ticketDb.url, 'SELECT * FROM user_spending_limits ORDER BY user_id');
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    const short = shortId(incidentId);
    const card = textOf(await posted(h, '"action_id":"incident_approve"'));
    expect(card).toMatch(
      new RegExp(
        `drops table failed_login_attempts — 40 rows, archived first to migrate_bot_archive\\.${short}_1_failed_login_attempts \\(est\\. [\\d.]+ (kB|bytes)\\)`,
      ),
    );
    expect(card).toContain(`archived first to migrate_bot_archive.${short}_1_user_spending_limits`);
    expect(card).toContain(
      '*Archive before destroy:* 2 tables into `migrate_bot_archive` before the downs, in their transactions',
    );
    // Every row archived: the restore is no longer advised for these drops.
    expect(card).not.toContain('Consider restoring the snapshot');
    await posted(h, 'Snapshot saved');

    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 40_000);
    const resolution = textOf(await posted(h, 'Rollback complete.'));
    expect(resolution).toContain(
      `Archived before the downs: \`migrate_bot_archive.${short}_1_failed_login_attempts\` (40 rows,`,
    );
    expect(resolution).toContain(`\`migrate_bot_archive.${short}_1_user_spending_limits\` (7 rows,`);
    expect(
      await query(
        h.ticketDb.url,
        `SELECT * FROM migrate_bot_archive."${short}_1_user_spending_limits" ORDER BY user_id`,
      ),
    ).toEqual(before);
    expect(await query(h.ticketDb.url, "SELECT to_regclass('public.user_spending_limits')::text AS t")).toEqual([
      { t: null },
    ]);
    const events = await query<{ type: string; data: { table?: string; rows?: number } }>(
      h.stateDb.url,
      `SELECT type, data FROM incident_events WHERE incident_id = $1 AND type IN ('archive_planned', 'archive_created') ORDER BY id`,
      [incidentId],
    );
    expect(events.map((e) => e.type)).toEqual(['archive_planned', 'archive_created', 'archive_created']);
    expect(events.find((e) => e.data.table?.endsWith('failed_login_attempts'))?.data.rows).toBe(40);
    // multisig_approvals was counted empty: nothing to keep, nothing copied.
    expect(card).toContain('drops table multisig_approvals — 0 rows lost');
    const md = await eventually(
      'the postmortem',
      async () =>
        h.slack.uploadedFiles.find(
          (f) =>
            f.filename === `incident-${short}-timeline.md` &&
            f.completed &&
            f.content.includes('## Archived before destroy'),
        )?.content,
    );
    expect(md).toContain(
      `| \`migrate_bot_archive.${short}_1_failed_login_attempts\` | table public.failed_login_attempts | \`007_add_security_tables.ts\` | 40 |`,
    );
  });

  it('lists the archive tables and lets only an approver drop one, with --force before keep_days', async ({ bot }) => {
    const h = await bot();
    await seed(h.ticketDb.url);
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    const short = shortId(incidentId);
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 40_000);
    const answer = async (text: string, user?: string) => {
      const { key } = await h.command(text, user);
      return String((await h.slack.waitForResponse((r) => r.key === key, 15_000)).body.text);
    };
    const list = await answer('archive list');
    expect(list).toMatch(
      new RegExp(
        `• \`${short}_1_failed_login_attempts\` — table public.failed_login_attempts, 40 rows, [\\d.]+ (kB|bytes) · incident \`${short}\` · kept until \\d{4}-\\d\\d-\\d\\d`,
      ),
    );
    const table = `${short}_1_user_spending_limits`;
    expect(await answer(`archive drop ${table}`)).toContain('Only an approver of *ticket-service* may drop an archive');
    expect(await answer(`archive drop ${table}`, APPROVERS[0])).toMatch(
      /is kept until \d{4}-\d\d-\d\d .*add `--force` to drop it now\. Nothing was dropped\./,
    );
    expect(await answer('archive drop nope', APPROVERS[0])).toContain('There is no archive table `nope`');
    expect(await answer('archive drop Bad;Name', APPROVERS[0])).toContain(
      'An archive table name is lowercase letters, digits and _',
    );
    expect(await answer(`archive drop ${table} --force`, APPROVERS[0])).toContain(
      `Dropped \`migrate_bot_archive.${table}\` (7 rows`,
    );
    expect(await query(h.ticketDb.url, `SELECT to_regclass('migrate_bot_archive.${table}')::text AS t`)).toEqual([
      { t: null },
    ]);
    const dropped = await query<{ actor: string; data: { forced: boolean } }>(
      h.stateDb.url,
      "SELECT actor, data FROM incident_events WHERE incident_id = $1 AND type = 'archive_dropped'",
      [incidentId],
    );
    expect(dropped).toEqual([{ actor: APPROVERS[0], data: expect.objectContaining({ forced: true }) }]);
    expect(await answer('archive list')).not.toContain(table);
  });

  it('drops archives past archive.keep_days on its own, and logs it on the incident that made them', async ({
    bot,
  }) => {
    const h = await bot({}, { reconcileEveryMs: 300, archiveExpiryEveryMs: 0 });
    await seed(h.ticketDb.url);
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    const short = shortId(incidentId);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 40_000);
    const exists = async (table: string) =>
      (
        await query<{ t: string | null }>(
          h.ticketDb.url,
          `SELECT to_regclass('migrate_bot_archive.${table}')::text AS t`,
        )
      )[0]!.t !== null;
    const old = `${short}_1_failed_login_attempts`;
    const fresh = `${short}_1_user_spending_limits`;
    expect(await exists(old)).toBe(true);
    // Fifteen days pass for one copy (keep_days is 14): its comment now says so.
    await query(
      h.ticketDb.url,
      `DO $$ BEGIN EXECUTE format('COMMENT ON TABLE migrate_bot_archive.%I IS %L', '${old}',
         regexp_replace(obj_description('migrate_bot_archive."${old}"'::regclass), 'copied at .*$', 'copied at ' || (now() - interval '15 days')::text));
       END $$`,
    );
    await eventually('the expired archive dropped', async () => !(await exists(old)) || undefined, 15_000);
    expect(await exists(fresh)).toBe(true);
    const dropped = await query<{ actor: string; data: { table: string; expired: boolean; rows: number } }>(
      h.stateDb.url,
      "SELECT actor, data FROM incident_events WHERE incident_id = $1 AND type = 'archive_dropped'",
      [incidentId],
    );
    expect(dropped).toEqual([
      {
        actor: 'migrate-bot',
        data: expect.objectContaining({ table: `migrate_bot_archive.${old}`, expired: true, rows: 40 }),
      },
    ]);
  });

  it('says before approval why nothing is archived when the estimate is above archive.max_bytes, and keeps the restore advice', async ({
    bot,
  }) => {
    const h = await bot({ archive: { max_bytes: '1KB' } });
    await seed(h.ticketDb.url);
    await h.command('rollback 007');
    const card = textOf(await posted(h, '"action_id":"incident_approve"'));
    expect(card).toMatch(
      /drops table failed_login_attempts — 40 rows lost; not archived: the archive would take ~[\d.]+ kB, above archive.max_bytes \(1024 bytes\)/,
    );
    expect(card).not.toContain('Archive before destroy');
    expect(card).toContain('Consider restoring the snapshot');
  });
});
