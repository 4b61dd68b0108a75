import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTriage } from '../../../src/adapters/postgres/triage-runner.js';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '../../support/postgres.js';
import { createKnexTables, session, triageService } from './triage-fixtures.js';

let db: TestDatabase;
const role = `mb_triage_role_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  db = await createTestDatabase('mb_triage_role');
  const { client } = await session(db.url);
  await createKnexTables(client);
  await client.query('CREATE TABLE failed_login_attempts (id int)');
  // The GRANTs a read-only triage role needs (docs/configuration.md "A read-only role for triage"): pg_monitor, and SELECT on the tracking tables.
  const r = pg.escapeIdentifier(role);
  await client.query(`CREATE ROLE ${r} LOGIN`);
  await client.query(`GRANT pg_monitor TO ${r}`);
  await client.query(`GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db.name)} TO ${r}`);
  await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);
  await client.query(`GRANT SELECT ON public.knex_migrations, public.knex_migrations_lock TO ${r}`);
  await client.end();
});
afterAll(async () => {
  await db.drop();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
  await admin.end();
});

describe('a read-only triage role with pg_monitor and SELECT on the tracking tables', () => {
  it('answers every check; a touched table it may not read keeps its estimate', async () => {
    const url = new URL(db.url);
    url.username = role;
    const report = await runTriage(triageService(url.toString()), {
      offending: { name: '007_add_security_tables.ts', sql: ['DROP TABLE IF EXISTS failed_login_attempts'] },
    });
    expect(report.checks.filter((c) => c.verdict === 'failed')).toEqual([]);
    const touched = report.checks.find((c) => c.name === 'touched_objects')!;
    expect(touched.rows).toEqual([
      expect.objectContaining({
        relation: 'public.failed_login_attempts',
        exists: true,
        exact_rows: null,
        note: 'count skipped: the triage role has no SELECT on it',
      }),
    ]);
  });
});
