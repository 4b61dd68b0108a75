import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measurePlanRisk } from '../../src/adapters/postgres/triage-runner.js';
import { classifyPlan, type RiskFinding } from '../../src/domain/rollback/risk.js';
import { advisesRestore, figureUnknown, riskVerdict } from '../../src/domain/rollback/risk-verdict.js';
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

  it('follows the plan step by step: a column an earlier down re-adds is recreated empty; one an earlier down drops, or a dirty up never made, holds nothing', async () => {
    const plan = [
      // 009's up dropped events.legacy_flag; its down re-adds it, empty.
      {
        migration: '009_drop_flag.ts',
        order: 9,
        transactional: true,
        sql: ['ALTER TABLE events ADD COLUMN legacy_flag boolean'],
      },
      // 008's up added it; its down drops it: after 009's down, there is nothing in it.
      {
        migration: '008_add_flag.ts',
        order: 8,
        transactional: true,
        sql: ['ALTER TABLE events DROP COLUMN legacy_flag'],
      },
      {
        migration: '007_dirty.ts',
        order: 7,
        transactional: true,
        // A dirty up that never committed the column: the column is not there.
        sql: ['ALTER TABLE events DROP COLUMN IF EXISTS archived', 'DROP TABLE event_audit'],
      },
      { migration: '006_audit.ts', order: 6, transactional: true, sql: ['DROP TABLE IF EXISTS event_audit'] },
    ];
    const service = triageService(db.url);
    const measured = await measurePlanRisk(service, await classifyPlan(plan));
    const [flag] = measured.steps[1]!.findings.filter((f) => f.target);
    expect(flag!.earlier).toEqual({ change: 'recreated', migration: '009_drop_flag.ts' });
    expect(flag!.figure).toEqual({ count: 0, estimated: false, recreated: true });
    expect(riskVerdict(flag!)).toBe(
      'drops column events.legacy_flag — the down of 009_drop_flag.ts recreates it empty: 0 values lost',
    );
    const [archived, audit] = measured.steps[2]!.findings.filter((f) => f.target);
    expect(archived!.figure).toEqual({ count: 0, estimated: false, absent: true }); // not "could not count"
    expect(riskVerdict(archived!)).toMatch(/it does not exist, nothing to lose$/);
    expect(audit!.figure).toEqual({ count: 1000, estimated: false }); // real rows: the one loss of the plan
    const [again] = measured.steps[3]!.findings.filter((f) => f.target);
    expect(riskVerdict(again!)).toMatch(/the down of 007_dirty.ts drops it first, nothing to lose$/);
    expect(advisesRestore(measured)).toBe(true); // 1,000 rows of event_audit
    expect(advisesRestore({ steps: measured.steps.filter((s) => s.migration !== '007_dirty.ts') })).toBe(false);
  });

  it('a figure that could not be taken is shown as unknown and does not advise a restore by itself', async () => {
    const risk = await classifyPlan([
      { migration: '008_x.ts', order: 8, transactional: true, sql: ['ALTER TABLE events DROP COLUMN promo_code'] },
    ]);
    const measured = await measurePlanRisk(triageService('postgres://postgres@127.0.0.1:1/none'), risk, {
      connectTimeoutMs: 500,
    });
    const [f] = measured.steps[0]!.findings;
    expect(figureUnknown(f!)).toBe(true);
    expect(riskVerdict(f!)).toMatch(/^drops column events.promo_code — size unknown \(could not count: /);
    expect(advisesRestore(measured)).toBe(false);
  });
});
