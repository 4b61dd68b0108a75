import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../../src/adapters/postgres/connect.js';
import { connectTriage } from '../../src/adapters/postgres/postgres-triage-session.js';
import { DurationSchema } from '../../src/config/duration.js';
import { ADMIN_URL } from '../support/postgres.js';
import { query } from '../support/e2e-helpers.js';

/** A login role allowed one session at a time: a second session is refused with SQLSTATE 53300, as on a full server. */
describe('a session refused because the server is full is tried again', () => {
  const role = `mb_one_${randomBytes(3).toString('hex')}`;
  const url = (() => {
    const u = new URL(ADMIN_URL);
    u.username = role;
    u.password = '';
    return u.toString();
  })();
  beforeAll(async () => {
    await query(ADMIN_URL, `CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
  });
  afterAll(async () => {
    await query(ADMIN_URL, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await query(ADMIN_URL, `DROP ROLE IF EXISTS ${role}`);
  });

  it('waits for the slot to free and then connects', async () => {
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    const refused = await new pg.Client({ connectionString: url }).connect().catch((e: { code?: string }) => e.code);
    expect(refused).toBe('53300');
    setTimeout(() => void holder.end(), 700);
    const t0 = Date.now();
    const client = await connectClient({ connectionString: url }, () => undefined, {
      retries: 6,
      minTimeoutMs: 100,
      maxTimeoutMs: 400,
    });
    try {
      expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
      expect((await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe(role);
    } finally {
      await client.end();
    }
  });

  it("gives up with the driver's 53300 once its retries are spent, and a triage session says so as retryable", async () => {
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await expect(
        connectClient({ connectionString: url }, () => undefined, { retries: 2, minTimeoutMs: 50, maxTimeoutMs: 50 }),
      ).rejects.toMatchObject({ code: '53300' });
      const err = await connectTriage({
        url,
        statement_timeout: DurationSchema.parse('1s'),
        lock_timeout: DurationSchema.parse('1s'),
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'triage_connect_failed', retryable: true });
      expect((err as Error & { cause: { code: string } }).cause.code).toBe('53300');
    } finally {
      await holder.end();
    }
  }, 30_000);

  it('does not retry an error that will not clear by itself', async () => {
    const t0 = Date.now();
    const bad = new URL(url);
    bad.pathname = '/mb_no_such_database';
    await expect(connectClient({ connectionString: bad.toString() })).rejects.toMatchObject({ code: '3D000' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
