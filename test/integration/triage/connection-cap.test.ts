import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { TRIAGE_APPLICATION_NAME } from '../../../src/adapters/postgres/postgres-triage-session.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createKnexTables, session, triageService } from './triage-fixtures.js';

/** Fifty concurrent triage runs on one database share `triage.max_connections` connections. */
describe('triage connections to one database are capped across concurrent runs', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mb_triage_cap');
    const { client } = await session(db.url);
    await createKnexTables(client);
    await client.end();
  });
  afterAll(async () => db?.drop());

  it('50 runs at once never hold more than 4 triage connections, and every run answers every check', async () => {
    const watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    let peak = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const { rows } = await watcher.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
          [TRIAGE_APPLICATION_NAME],
        );
        peak = Math.max(peak, rows[0]!.n);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      const service = triageService(db.url);
      const reports = await Promise.all(Array.from({ length: 50 }, () => runTriage(service)));
      expect(reports.every((r) => r.checks.length === 8 && r.checks.every((c) => c.verdict !== 'failed'))).toBe(true);
    } finally {
      polling = false;
      await poll;
      await watcher.end();
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
  });
});
