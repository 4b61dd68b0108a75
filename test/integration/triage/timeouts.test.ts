import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { triageChecks } from '../../../src/domain/triage/checks/index.js';
import type { TriageCheck } from '../../../src/domain/triage/check.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createKnexTables, session, triageService } from './triage-fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mb_triage_timeouts');
  const { client } = await session(db.url);
  await createKnexTables(client);
  await client.end();
});
afterAll(async () => {
  await db.drop();
});

describe('a sick database: timeouts fail one check, never the triage', () => {
  it('returns within seconds when the tracking table is held ACCESS EXCLUSIVE: migration_history fails on lock_timeout, the rest answer', async () => {
    const holder = await session(db.url);
    try {
      await holder.client.query('BEGIN');
      await holder.client.query('LOCK TABLE knex_migrations IN ACCESS EXCLUSIVE MODE');

      const t0 = Date.now();
      const report = await runTriage(triageService(db.url, { long_transaction_seconds: 30 }), {
        offending: { name: '007_add_security_tables.ts', sql: ['DROP TABLE IF EXISTS failed_login_attempts'] },
      });
      expect(Date.now() - t0).toBeLessThan(4000);

      const history = report.checks.find((c) => c.name === 'migration_history')!;
      expect(history.verdict).toBe('failed');
      expect(history.error).toBe(
        'could not get a lock within 1s (lock_timeout): another session holds or waits for a conflicting lock',
      );
      expect(history.durationMs).toBeGreaterThanOrEqual(900);
      expect(report.checks.filter((c) => c.verdict === 'failed').map((c) => c.name)).toEqual(['migration_history']);
      expect(report.checks.map((c) => c.name)).toEqual(triageChecks.map((c) => c.name));
    } finally {
      await holder.client.query('ROLLBACK');
      await holder.client.end();
    }
  });

  it('reports a statement_timeout as "timed out after …" and keeps the others', async () => {
    const slow: TriageCheck = {
      name: 'slow_check',
      title: 'Slow check',
      source: 'test',
      async run(s) {
        await s.query('SELECT pg_sleep(2)');
        return { verdict: 'ok', summary: 'never', columns: [], rows: [] };
      },
    };
    const report = await runTriage(triageService(db.url, { statement_timeout: { text: '300ms', ms: 300 } }), {
      checks: [slow, ...triageChecks.slice(0, 2)],
    });
    expect(report.checks[0]).toMatchObject({
      name: 'slow_check',
      verdict: 'failed',
      error: 'timed out after 300ms (statement_timeout)',
      summary: 'Check failed: timed out after 300ms (statement_timeout)',
    });
    expect(report.checks.slice(1).map((c) => c.verdict)).toEqual(['ok', 'ok']);
    expect(report.durationMs).toBeLessThan(2000);
  });

  it('runs its checks on at most 2 connections, one transaction per check', async () => {
    const observer = await session(db.url);
    let peak = 0;
    const probe: TriageCheck = {
      name: 'probe',
      title: 'Probe',
      source: 'test',
      async run() {
        const { rows } = await observer.client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'migrate-bot-triage'",
        );
        peak = Math.max(peak, rows[0]!.n);
        await new Promise((r) => setTimeout(r, 100));
        return { verdict: 'ok', summary: 'probe', columns: [], rows: [] };
      },
    };
    try {
      const report = await runTriage(triageService(db.url), { checks: Array.from({ length: 10 }, () => probe) });
      expect(report.checks).toHaveLength(10);
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBe(2);
    } finally {
      await observer.client.end();
    }
  });
});
