import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createKnexTables, session, triageService } from './triage-fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mb_triage_tracking');
  const { client } = await session(db.url);
  // public: knex tables with the lock stuck at 1, and a golang-migrate table with a dirty row (runbooks 004, 001).
  await createKnexTables(client);
  await client.query('UPDATE knex_migrations_lock SET is_locked = 1');
  await client.query('CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)');
  await client.query('INSERT INTO schema_migrations VALUES (20251101, true)');
  // app: a custom knex tracking table (runbook 000 `knex_migrations_event`), healthy, no schema_migrations.
  await createKnexTables(client, 'app', 'knex_migrations_event');
  await client.end();
});
afterAll(async () => {
  await db.drop();
});

describe('tracking_table_health (runbooks 004 Migration Lock, 001 Dirty Migration Recovery)', () => {
  it('flags a knex lock row left at is_locked = 1 and a dirty golang-migrate row', async () => {
    const report = await runTriage(triageService(db.url), {
      offending: { name: '007_add_security_tables.ts', sql: [] },
    });
    const health = report.checks.find((c) => c.name === 'tracking_table_health')!;
    expect(health.verdict).toBe('attention');
    expect(health.summary).toBe(
      'knex_migrations_lock is locked (is_locked = 1): knex migrate refuses to run; schema_migrations has 1 dirty row (version 20251101).',
    );
    expect(health.rows).toEqual([
      { table: 'knex_migrations_lock', row: 'index=1 is_locked=1', finding: 'stuck at is_locked = 1' },
      { table: 'schema_migrations', row: 'version=20251101 dirty=true', finding: 'dirty = true' },
    ]);
  });

  it('also flags a second lock row', async () => {
    const { client } = await session(db.url);
    await client.query('INSERT INTO knex_migrations_lock (is_locked) VALUES (0)');
    try {
      const report = await runTriage(triageService(db.url));
      expect(report.checks.find((c) => c.name === 'tracking_table_health')!.summary).toContain(
        'knex_migrations_lock has 2 rows',
      );
    } finally {
      await client.query('DELETE FROM knex_migrations_lock WHERE index > 1');
      await client.end();
    }
  });

  it('reads a custom tracking table in its own schema, quoted, and finds it healthy', async () => {
    const report = await runTriage(triageService(db.url, { schema: 'app', table: 'knex_migrations_event' }), {
      offending: { name: '006_add_ticket_state_machine.ts', sql: [] },
    });
    const health = report.checks.find((c) => c.name === 'tracking_table_health')!;
    expect(health).toMatchObject({
      verdict: 'ok',
      summary: 'Lock table app.knex_migrations_event_lock is free (is_locked = 0).',
    });
    const history = report.checks.find((c) => c.name === 'migration_history')!;
    expect(history.verdict).toBe('attention');
    expect(history.summary).toContain('batch 2 but the latest batch is 3');
    expect(history.rows.map((r) => r.name)).toEqual([
      '007_add_security_tables.ts',
      '006_add_ticket_state_machine.ts',
      '005_add_idempotency_keys.ts',
    ]);
    expect(history.columns).toEqual(['id', 'name', 'batch', 'migration_time', 'offending']);
  });

  it('reports a missing tracking table as failed, by name, and the rest still answer', async () => {
    const report = await runTriage(triageService(db.url, { table: 'no_such_table' }));
    const history = report.checks.find((c) => c.name === 'migration_history')!;
    expect(history).toMatchObject({
      verdict: 'failed',
      error: 'missing table: relation "public.no_such_table" does not exist',
    });
    expect(report.checks.filter((c) => c.verdict === 'failed')).toHaveLength(1);
  });
});
