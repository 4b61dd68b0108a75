/**
 * `/migrate unarchive` through signed HTTP and the Slack stand-in, on ticket-service (knex): the
 * rollback of 007 archives two tables before dropping them; unarchive is refused while the tables
 * do not exist (naming them) and while an archived key exists with other values (the count shown),
 * with nothing recorded either time; after a fix-forward re-creates the tables, `--on-conflict
 * skip` opens an unarchive incident whose card shows the SQL, a snapshot is taken, two approvals
 * run it, every archived row is back (checksums compared here, and by the bot), the conflicting
 * row kept its value, and the serial key's sequence moved past the archived ids.
 */
import { describe, expect } from 'vitest';
import { shortId } from '../../src/domain/incident/model/incident.js';
import { it } from '../support/bot-test.js';
import { APPROVERS } from '../support/bot-harness.js';
import { planCard, posted, query, reachesState, textOf } from '../support/e2e-helpers.js';

const FIX_FORWARD = `
  CREATE TABLE failed_login_attempts (id bigserial PRIMARY KEY, user_id uuid NOT NULL, ip_address varchar(64),
    attempted_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE user_spending_limits (user_id uuid PRIMARY KEY, daily_limit numeric(12, 2) NOT NULL)`;

const checksum = async (url: string, sql: string) =>
  (
    await query<{ sum: string }>(url, `SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) AS sum FROM (${sql}) r`)
  )[0]!.sum;

describe('unarchive', () => {
  it('refuses without the tables or with conflicts, then writes every archived row back after a snapshot and approvals', async ({
    bot,
  }) => {
    const h = await bot();
    await query(
      h.ticketDb.url,
      `INSERT INTO failed_login_attempts (user_id, ip_address) SELECT gen_random_uuid(), '10.0.0.' || g FROM generate_series(1, 40) g;
       INSERT INTO user_spending_limits (user_id, daily_limit) SELECT gen_random_uuid(), g * 10 FROM generate_series(1, 7) g`,
    );
    const logins = await checksum(h.ticketDb.url, 'SELECT * FROM failed_login_attempts');
    await h.command('rollback 007');
    const { incidentId: rollbackId } = await planCard(h);
    const short = shortId(rollbackId);
    await h.press('incident_approve', rollbackId, APPROVERS[0]);
    await h.press('incident_approve', rollbackId, APPROVERS[1]);
    await reachesState(h, rollbackId, 'resolved', 40_000);

    const answer = async (text: string, user?: string) => {
      const { key } = await h.command(text, user);
      return String((await h.slack.waitForResponse((r) => r.key === key, 15_000)).body.text);
    };
    const incidents = async () => (await query(h.stateDb.url, 'SELECT id FROM incidents')).length;

    // The tables are gone: refused, naming them; nothing recorded.
    const missing = await answer(`unarchive ${short}`);
    expect(missing).toContain('table public.user_spending_limits does not exist');
    expect(missing).toContain('table public.failed_login_attempts does not exist');
    expect(missing).toContain('Nothing was recorded.');
    expect(await answer('unarchive not-an-id')).toContain('its short id (8 hex digits)');
    expect(await answer('unarchive 0badc0de')).toContain('Incident `0badc0de` left no archive table');
    expect(await incidents()).toBe(1);

    // A fix-forward brings the tables back; one archived key already exists with another value.
    await query(h.ticketDb.url, FIX_FORWARD);
    const [kept] = await query<{ user_id: string }>(
      h.ticketDb.url,
      `SELECT user_id FROM migrate_bot_archive."${short}_1_user_spending_limits" ORDER BY user_id LIMIT 1`,
    );
    await query(h.ticketDb.url, 'INSERT INTO user_spending_limits VALUES ($1, 99999)', [kept!.user_id]);
    expect(await answer(`unarchive ${short}`)).toContain(
      '1 archived rows of table public.user_spending_limits already exist with other values: add --on-conflict skip',
    );
    expect(await answer(`unarchive ${short} --on-conflict maybe`)).toContain('--on-conflict takes skip or overwrite');
    expect(await incidents()).toBe(1);

    const opened = await answer(`unarchive ${short} --on-conflict skip`);
    expect(opened).toContain('Opening unarchive incident');
    const { incidentId } = await planCard(h, rollbackId);
    const card = textOf(await posted(h, 'Unarchive plan'));
    expect(card).toContain(`Writing back *2* archive tables (\`unarchive of ${short}\`) in one transaction`);
    expect(card).toContain(
      '→ table public.user_spending_limits · 7 archived rows · 1 conflicting rows kept as they are',
    );
    expect(card).toContain('INSERT INTO \\"public\\".\\"failed_login_attempts\\"');
    expect(card).toContain(
      'SELECT setval(pg_get_serial_sequence(\'\\"public\\".\\"failed_login_attempts\\"\', \'id\')',
    );
    expect(card.match(/setval/g)).toHaveLength(1);
    expect(card).toContain(
      '2 archive table(s) will be written back on *ticket-service* once the snapshot is available.',
    );
    expect(card).not.toContain('Checking the plan against the schemas');

    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 40_000);
    const [row] = await query<{ snapshot: { id: string; status: string } }>(
      h.stateDb.url,
      'SELECT snapshot FROM incidents WHERE id = $1',
      [incidentId],
    );
    expect(row!.snapshot.status).toBe('available');

    expect(textOf(await posted(h, 'Unarchive `'))).toContain(
      `Unarchive \`${short}\` initiated: 2 archive table(s) written back in one transaction. Snapshot saved: \`pre-rollback-ticket-service-`,
    );
    const resolution = textOf(await posted(h, 'Unarchive complete.'));
    expect(resolution).toContain('Wrote back 2 archive tables on *ticket-service*');
    expect(resolution).toContain('46 of 47 archived rows are in the tables with equal values');

    // Every archived login attempt is back, value for value; the conflicting limit kept its value.
    expect(await checksum(h.ticketDb.url, 'SELECT * FROM failed_login_attempts')).toBe(logins);
    expect(
      await query(h.ticketDb.url, 'SELECT daily_limit::text AS v FROM user_spending_limits WHERE user_id = $1', [
        kept!.user_id,
      ]),
    ).toEqual([{ v: '99999.00' }]);
    expect(await query(h.ticketDb.url, 'SELECT count(*)::int AS n FROM user_spending_limits')).toEqual([{ n: 7 }]);
    // The serial key's sequence moved past the archived ids: a new row does not collide.
    await query(h.ticketDb.url, 'INSERT INTO failed_login_attempts (user_id) VALUES (gen_random_uuid())');

    const events = await query<{ data: { archive: string; rows: number } }>(
      h.stateDb.url,
      "SELECT data FROM incident_events WHERE incident_id = $1 AND type = 'unarchive_written' ORDER BY id",
      [incidentId],
    );
    expect(events.map((e) => [e.data.archive, e.data.rows])).toEqual([
      [`migrate_bot_archive.${short}_1_user_spending_limits`, 6],
      [`migrate_bot_archive.${short}_1_failed_login_attempts`, 40],
    ]);
  });
});
