import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { loadMigration } from '../../src/adapters/migrations/load-migration.js';
import { createTestDatabase, type TemplateSpec, type TestDatabase } from './postgres.js';
import { APPROVERS, type Harness } from './bot-harness.js';
import { planCard, posted } from './bot-waits.js';

/** The slow service migrated up with knex itself (001–003 in one batch), once per run. */
const SLOW_TEMPLATE: TemplateSpec = {
  key: 'slow',
  async build(url) {
    const files = (await readdir(SLOW_MIGRATIONS_DIR)).filter((f) => f.endsWith('.ts')).sort();
    const source: Knex.MigrationSource<string> = {
      getMigrations: async () => files,
      getMigrationName: (f) => f,
      getMigration: async (f) => (await loadMigration(SLOW_MIGRATIONS_DIR, f)) as Knex.Migration,
    };
    const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
    try {
      await knex.migrate.latest({ migrationSource: source });
    } finally {
      await knex.destroy();
    }
  },
};

/** Three knex migrations; 002's down sleeps `app.slow_down_seconds` before it drops its table. */
export const SLOW_MIGRATIONS_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/slow-service/migrations',
);

/** services.yaml overrides pointing the harness's service at the slow fixture. */
export const SLOW_SERVICE = { migrations: { tool: 'knex', directory: SLOW_MIGRATIONS_DIR, table: 'knex_migrations' } };

/** Tables of 001, 002 and 003. */
export const SLOW_TABLES = ['orders', 'order_notes', 'order_audit'];

/**
 * A fresh database migrated up with knex itself (001–003 in one batch), whose 002 down
 * migration sleeps `slowSeconds` (s).
 */
export async function createSlowServiceDb(slowSeconds: number): Promise<TestDatabase> {
  const db = await createTestDatabase('mb_slow', SLOW_TEMPLATE);
  // A database's own settings are not copied from its template: set the sleep on the copy.
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(
    `ALTER DATABASE ${pg.escapeIdentifier(db.name)} SET app.slow_down_seconds = '${Number(slowSeconds)}'`,
  );
  await admin.end();
  return db;
}

/**
 * On a harness pointed at the slow service: `/migrate rollback 001`, both approvals, and waits
 * until step 2 (the sleeping down of 002) has started.
 * @returns the incident and its channel
 */
export async function rollbackIntoStepTwo(h: Harness): Promise<{ incidentId: string; channel: string }> {
  await h.command('rollback 001');
  const card = await planCard(h);
  await posted(h, 'Snapshot saved');
  for (const approver of APPROVERS) await h.press('incident_approve', card.incidentId, approver);
  await posted(h, 'Step 2/3: running the down migration of `002_add_order_notes.ts`');
  return card;
}
