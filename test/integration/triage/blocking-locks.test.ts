import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createKnexTables, session, triageService, waitUntilWaitingOnLock } from './triage-fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mb_triage_locks');
  const { client } = await session(db.url);
  await createKnexTables(client);
  await client.query('CREATE TABLE t (id int PRIMARY KEY)');
  await client.query('INSERT INTO t SELECT generate_series(1, 10)');
  await client.query('CREATE SCHEMA "My Schema"; CREATE TABLE "My Schema"."Odd ""Name, {x}" (id int)');
  await client.end();
});
afterAll(async () => {
  await db.drop();
});

describe('blocking_locks and locks_not_granted (runbooks 000, 001)', () => {
  it('reports a real lock chain as a pair with both queries, and the waiting lock by relation', async () => {
    const a = await session(db.url);
    const b = await session(db.url);
    const observer = await session(db.url);
    try {
      await a.client.query('BEGIN');
      await a.client.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      const waiting = b.client.query('SELECT * FROM t');
      await waitUntilWaitingOnLock(observer.client, b.pid);

      const report = await runTriage(triageService(db.url), {
        offending: { name: '007_add_security_tables.ts', sql: ['DROP TABLE IF EXISTS t'] },
      });
      const blocking = report.checks.find((c) => c.name === 'blocking_locks')!;
      expect(blocking.verdict).toBe('attention');
      expect(blocking.rows).toEqual([
        expect.objectContaining({
          blocked_pid: b.pid,
          blocked_query: 'SELECT * FROM t',
          wanted_mode: 'AccessShareLock',
          relation: 't',
          blocking_pid: a.pid,
          blocking_mode: 'AccessExclusiveLock',
          blocking_state: 'idle in transaction',
          blocking_query: 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE',
        }),
      ]);
      expect(blocking.summary).toBe(
        `1 blocked session; pid ${a.pid} [idle in transaction] blocks ${b.pid} (AccessExclusiveLock on t).`,
      );

      const notGranted = report.checks.find((c) => c.name === 'locks_not_granted')!;
      expect(notGranted.verdict).toBe('attention');
      expect(notGranted.rows).toEqual([
        expect.objectContaining({ target: 't', mode: 'AccessShareLock', waiting: 1, pids: String(b.pid) }),
      ]);

      // The touched table is under ACCESS EXCLUSIVE: reported, and no lock is requested on it (no size, no count).
      const touched = report.checks.find((c) => c.name === 'touched_objects')!;
      expect(touched.verdict).toBe('attention');
      expect(touched.rows).toEqual([
        expect.objectContaining({ relation: 'public.t', exists: true, exact_rows: null, total_size: null }),
      ]);
      expect(touched.summary).toContain(`${a.pid} holds AccessExclusiveLock`);
      expect(report.checks.every((c) => c.verdict !== 'failed')).toBe(true);

      await a.client.query('ROLLBACK');
      await waiting;
    } finally {
      await a.client.query('ROLLBACK').catch(() => undefined);
      await Promise.all([a.client.end(), b.client.end(), observer.client.end()]);
    }
  });

  it('sizes and counts touched tables when nobody holds them', async () => {
    const report = await runTriage(triageService(db.url), {
      offending: {
        name: '007_add_security_tables.ts',
        sql: [
          'DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS multisig_approvals;',
          'TRUNCATE "My Schema"."Odd ""Name, {x}"',
          'DELETE FROM public.t',
        ],
      },
    });
    const touched = report.checks.find((c) => c.name === 'touched_objects')!;
    expect(touched.rows).toEqual([
      expect.objectContaining({
        relation: 'public.t',
        kind: 'table',
        actions: 'drop, write',
        exists: true,
        exact_rows: 10,
        total_size: expect.stringMatching(/kB$/),
      }),
      expect.objectContaining({ relation: 'multisig_approvals', exists: false }),
      expect.objectContaining({
        relation: 'My Schema.Odd "Name, {x}',
        actions: 'truncate',
        exists: true,
        exact_rows: 0,
      }),
    ]);
    expect(touched.summary).toContain('the down drops or truncates 1 relation holding ~10 rows');
  });
});
