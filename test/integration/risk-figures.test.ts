import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measurePlanRisk } from '../../src/adapters/postgres/triage-runner.js';
import { classifyPlan, type RiskFinding } from '../../src/domain/rollback/risk.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { triageService } from './triage/triage-fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mb_risk');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`
    CREATE TABLE venues (id int PRIMARY KEY);
    INSERT INTO venues SELECT generate_series(1, 10);
    CREATE TABLE events (id int PRIMARY KEY, promo_code text, age_restriction int, venue_id int, code text);
    INSERT INTO events SELECT i, CASE WHEN i % 2 = 0 THEN 'P' || i END, CASE WHEN i <= 12 THEN -1 ELSE 18 END, CASE WHEN i <= 7 THEN 100 + i ELSE 1 + i % 10 END, repeat('x', CASE WHEN i <= 3 THEN 20 ELSE 4 END)
      FROM generate_series(1, 1000) i;
    CREATE TABLE event_audit (id int);
    INSERT INTO event_audit SELECT generate_series(1, 1000);
    CREATE TABLE big (id int);
    INSERT INTO big SELECT generate_series(1, 5000);
    ANALYZE big;
    CREATE TABLE tickets (id int, tenant text);
    ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tickets_tenant_isolation ON tickets USING (tenant = current_user);
  `);
  await c.end();
});
afterAll(async () => db?.drop());

const figures = async (sql: string[], exact = 1_000_000): Promise<RiskFinding[]> => {
  const risk = await classifyPlan([{ migration: '008_x.ts', order: 8, transactional: true, sql }]);
  const service = triageService(db.url);
  const measured = await measurePlanRisk(
    { ...service, triage: { ...service.triage, exact_count_max_rows: exact } },
    risk,
  );
  return measured.steps[0]!.findings.filter((f) => f.target);
};

describe('risk figures from the service database (read-only, triage timeouts)', () => {
  it('counts the rows of a dropped table and the non-null values of a dropped column', async () => {
    const [table, column] = await figures([
      'DROP TABLE IF EXISTS event_audit',
      'ALTER TABLE events DROP COLUMN promo_code',
    ]);
    expect(table!.figure).toEqual({ count: 1000, estimated: false });
    expect(column!.figure).toEqual({ count: 500, estimated: false });
  });

  it('counts rows violating each re-added constraint, with a query that finds them', async () => {
    const found = await figures([
      'ALTER TABLE events ADD CONSTRAINT events_age_check CHECK (age_restriction >= 0)',
      'ALTER TABLE events ADD CONSTRAINT events_venue_fk FOREIGN KEY (venue_id) REFERENCES venues',
      'ALTER TABLE events ALTER COLUMN promo_code SET NOT NULL',
      'ALTER TABLE events ALTER COLUMN code TYPE varchar(8)',
    ]);
    const violations = found.filter((f) => f.target!.measure === 'violations' || f.target!.measure === 'longer_values');
    expect(violations.map((f) => [f.target!.constraint?.type ?? f.target!.measure, f.figure!.count])).toEqual([
      ['check', 12],
      ['foreign_key', 7],
      ['not_null', 500],
      ['longer_values', 3],
    ]);
    expect(violations[0]!.hint).toBe('SELECT * FROM public.events WHERE NOT (age_restriction >= 0) LIMIT 100');
  });

  it('lists the policies on a table whose row-level security a down removes', async () => {
    const [policy] = await figures(['DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets']);
    expect(policy!.figure).toEqual({ count: 1, estimated: false, names: ['tickets_tenant_isolation (ALL)'] });
  });

  it('estimates above exact_count_max_rows and says so; a table that does not exist is absent', async () => {
    const [big, gone] = await figures(['DROP TABLE big', 'DROP TABLE IF EXISTS no_such_table'], 1000);
    expect(big!.figure).toEqual({ count: 5000, estimated: true });
    expect(gone!.figure).toEqual({ count: 0, estimated: false, absent: true });
  });

  it('a figure that fails says why and the others are still taken', async () => {
    const [bad, good] = await figures([
      'ALTER TABLE events ADD CONSTRAINT c CHECK (no_such_column > 0)',
      'DROP TABLE event_audit',
    ]);
    expect(bad!.figure).toMatchObject({ count: null, error: expect.stringMatching(/no_such_column/) });
    expect(good!.figure).toEqual({ count: 1000, estimated: false });
  });

  it('an unreachable database leaves every figure with the reason', async () => {
    const risk = await classifyPlan([
      { migration: '008_x.ts', order: 8, transactional: true, sql: ['DROP TABLE a', 'DROP TABLE b'] },
    ]);
    const service = triageService('postgres://postgres@127.0.0.1:1/none');
    const measured = await measurePlanRisk(service, risk, { connectTimeoutMs: 500 });
    expect(measured.steps[0]!.findings.map((f) => f.figure?.error)).toEqual([
      expect.stringMatching(/refused|unreachable|connect/i),
      expect.stringMatching(/refused|unreachable|connect/i),
    ]);
  });
});
