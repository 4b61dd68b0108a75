import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createKnexTables, session, triageService } from './triage-fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mb_triage_longtx');
  const { client } = await session(db.url);
  await createKnexTables(client);
  await client.end();
});
afterAll(async () => {
  await db.drop();
});

describe('long_running_transactions (runbooks 001, 003)', () => {
  it('reports a transaction that sleeps past the threshold, with its pid and query', async () => {
    const sleeper = await session(db.url);
    try {
      await sleeper.client.query('BEGIN');
      const sleeping = sleeper.client.query('SELECT pg_sleep(3) /* sleeper */');
      await new Promise((r) => setTimeout(r, 1300));

      const report = await runTriage(triageService(db.url, { long_transaction_seconds: 1 }));
      const check = report.checks.find((c) => c.name === 'long_running_transactions')!;
      expect(check.verdict).toBe('attention');
      const row = check.rows.find((r) => r.pid === sleeper.pid);
      expect(row).toMatchObject({
        pid: sleeper.pid,
        user: 'postgres',
        application: 'triage-test',
        state: 'active',
        query: 'SELECT pg_sleep(3) /* sleeper */',
      });
      expect(check.summary).toContain(`oldest pid ${sleeper.pid}`);
      // Our own triage sessions are young and never reported.
      expect(check.rows.every((r) => r.application !== 'migrate-bot-triage')).toBe(true);
      await sleeping;
    } finally {
      await sleeper.client.query('ROLLBACK').catch(() => undefined);
      await sleeper.client.end();
    }
  });

  it('is ok when nothing is older than the threshold, and the whole healthy report is ok', async () => {
    const report = await runTriage(triageService(db.url, { long_transaction_seconds: 30 }), {
      offending: {
        name: '007_add_security_tables.ts',
        sql: ['DROP TABLE IF EXISTS knex_migrations_lock_missing_on_purpose_not'],
      },
    });
    const verdicts = Object.fromEntries(report.checks.map((c) => [c.name, c.verdict]));
    expect(verdicts).toEqual({
      migration_history: 'ok',
      tracking_table_health: 'ok',
      long_running_transactions: 'ok',
      blocking_locks: 'ok',
      locks_not_granted: 'ok',
      touched_objects: 'attention', // the named relation does not exist
      unvalidated_constraints_and_invalid_indexes: 'ok',
      connection_pressure: 'ok',
    });
    expect(report.checks[0]!.rows[0]).toMatchObject({ name: '007_add_security_tables.ts', offending: '◀' });
    expect(report.durationMs).toBeGreaterThan(0);
  });
});
