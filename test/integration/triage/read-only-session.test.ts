import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTriageSession } from '../../../src/adapters/postgres/postgres-triage-session.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { session } from './triage-fixtures.js';

let db: TestDatabase;
const limits = { statement_timeout: { text: '5s', ms: 5000 }, lock_timeout: { text: '1s', ms: 1000 } };

beforeAll(async () => {
  db = await createTestDatabase('mb_triage_readonly');
  const { client } = await session(db.url);
  await client.query('CREATE TABLE t (id int)');
  await client.end();
});
afterAll(async () => {
  await db.drop();
});

describe('openTriageSession', () => {
  it('cannot write: INSERT, DDL and UPDATE fail with SQLSTATE 25006', async () => {
    for (const sql of ['INSERT INTO t VALUES (1)', 'CREATE TABLE t2 (id int)', 'UPDATE t SET id = 2']) {
      const s = await openTriageSession({ url: db.url, ...limits });
      try {
        await expect(s.query(sql)).rejects.toMatchObject({ code: '25006' });
      } finally {
        await s.close();
      }
    }
    const { client } = await session(db.url);
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(0);
    await client.end();
  });

  it('runs under the configured timeouts and application_name, even when the URL names another application', async () => {
    const url = new URL(db.url);
    url.searchParams.set('application_name', 'something-else');
    const s = await openTriageSession({ url: url.toString(), ...limits });
    try {
      const { rows } = await s.query<Record<string, string>>(
        "SELECT current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt, current_setting('transaction_read_only') AS ro, application_name AS app FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      expect(rows[0]).toEqual({ st: '5s', lt: '1s', ro: 'on', app: 'migrate-bot-triage' });
      expect(s.pid).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
    const { client } = await session(db.url);
    expect(
      (await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [s.pid])).rows[0].n,
    ).toBe(0);
    await client.end();
  });
});
