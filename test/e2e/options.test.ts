/**
 * The plan card's three ways out (roll back, restore the snapshot, fix forward) through signed
 * HTTP and the Slack stand-in, on ticket-service (knex): `/migrate snapshot` samples the write
 * counters, then 007 is (re)applied and the application writes — 25 inserts and 3 updates to a
 * table without timestamps, 7 rows to one with `created_at`. The card's "writes since" is exactly
 * those rows (counters for the first, timestamps for the second), the rollback loses nothing
 * because everything it drops is archived, and no restore has been measured yet.
 */
import pg from 'pg';
import { describe, expect } from 'vitest';
import { it } from '../support/bot-test.js';
import { eventually, posted, query, textOf } from '../support/e2e-helpers.js';

describe('three ways out', () => {
  it('compares rolling back, restoring and fixing forward with the writes made since the snapshot', async ({ bot }) => {
    const h = await bot();
    await query(
      h.ticketDb.url,
      `ALTER TABLE user_spending_limits ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
       INSERT INTO user_spending_limits (user_id, daily_limit) SELECT gen_random_uuid(), 5 FROM generate_series(1, 4)`,
    );
    await h.command('snapshot');
    const [sample] = await eventually('the snapshot’s sample', async () => {
      const rows = await query<{ snapshot_id: string }>(h.stateDb.url, 'SELECT snapshot_id FROM snapshot_samples');
      return rows.length ? rows : undefined;
    });

    // After the snapshot: 007 goes out, and the application writes.
    const app = new pg.Client({ connectionString: h.ticketDb.url, application_name: 'ticket-api' });
    await app.connect();
    try {
      await app.query("UPDATE knex_migrations SET migration_time = now() WHERE name LIKE '007%'");
      await app.query(
        `INSERT INTO failed_login_attempts (user_id, ip_address) SELECT gen_random_uuid(), '10.0.0.' || g FROM generate_series(1, 25) g`,
      );
      await app.query("UPDATE failed_login_attempts SET ip_address = '10.9.9.9' WHERE id <= 3");
      await app.query(
        'INSERT INTO user_spending_limits (user_id, daily_limit) SELECT gen_random_uuid(), g FROM generate_series(1, 7) g',
      );
      // The counters reach the shared statistics when the session is idle (PostgreSQL 15+).
      await app.query('SELECT pg_stat_force_next_flush()');
      await app.query('SELECT 1');
    } finally {
      await app.end();
    }

    await h.command('rollback 007');
    const card = textOf(await posted(h, 'Three ways out'));
    const table = /```([^`]*)```/.exec(
      JSON.parse(card)
        .blocks.map((b: { text?: { text: string } }) => b.text?.text ?? '')
        .join('\n'),
    )![1]!;
    expect(table.split('\n').map((l) => l.split(/ {2,}/))).toEqual([
      ['', 'data lost', 'time', 'locks'],
      [
        expect.stringMatching(/^-+$/),
        expect.stringMatching(/^-+$/),
        expect.stringMatching(/^-+$/),
        expect.stringMatching(/^-+$/),
      ],
      ['roll back', 'none (36 archived)', '~1 min (estimate)', 'ACCESS EXCLUSIVE, 3 tables'],
      [
        'restore snapshot',
        expect.stringMatching(/^~35 rows since \d\d:\d\d UTC$/),
        'unknown (no restore yet)',
        'none; cut-over needed',
      ],
      ['fix forward', 'none', 'a new migration', 'its own'],
    ]);
    expect(card).toContain(`*Restore* = snapshot \`${sample!.snapshot_id}\``);
    expect(card).toContain(
      'public.failed_login_attempts 28 rows (pg_stat_user_tables, estimated), public.user_spending_limits 7 rows (created_at/updated_at); ~',
    );
    expect(card).toContain('*Fix forward:* the resolution proposes _Write the fix-forward migration_');
  });
});
