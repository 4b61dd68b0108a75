import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knexFactory, { type Knex } from 'knex';
import { loadMigration } from '../../src/adapters/migrations/load-migration.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { serviceConfigFor } from './service-config.js';

/** The fixture service's migrations (runbook 004's 001–007). */
export const TICKET_MIGRATIONS_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../fixtures/ticket-service/migrations',
);

/** Tables migration 007 creates (runbook 004 "007_add_security_tables.ts"). */
export const TABLES_OF_007 = ['failed_login_attempts', 'user_spending_limits', 'multisig_approvals'];

/** A knex migration source over the fixture directory, limited to names `<= upTo`. */
function fixtureSource(files: string[]): Knex.MigrationSource<string> {
  return {
    getMigrations: async () => files,
    getMigrationName: (f) => f,
    getMigration: async (f) => (await loadMigration(TICKET_MIGRATIONS_DIR, f)) as Knex.Migration,
  };
}

/**
 * Creates a fresh database and migrates the fixture ticket-service up with knex
 * itself: 001–005 in batch 1, 006–007 in batch 2 (two deploys), tracking table
 * `knex_migrations` and lock table `knex_migrations_lock`.
 */
export async function createTicketServiceDb(options: { table?: string } = {}): Promise<TestDatabase> {
  const tableName = options.table ?? 'knex_migrations';
  return createTestDatabase('mb_ticket', {
    key: `ticket_${tableName}`.slice(0, 30),
    async build(url) {
      const files = (await readdir(TICKET_MIGRATIONS_DIR)).filter((f) => f.endsWith('.ts')).sort();
      const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
      try {
        await knex.migrate.latest({ migrationSource: fixtureSource(files.filter((f) => f < '006')), tableName });
        await knex.migrate.latest({ migrationSource: fixtureSource(files), tableName });
      } finally {
        await knex.destroy();
      }
    },
  });
}

/** The ticket-service as loadServices would give it, on `url`, with `migrations` overridden (e.g. another directory). */
export function ticketServiceConfig(url: string, migrations: Partial<ServiceConfig['migrations']> = {}): ServiceConfig {
  return serviceConfigFor(url, 'ticket-service', {
    tool: 'knex',
    directory: TICKET_MIGRATIONS_DIR,
    table: 'knex_migrations',
    schema: 'public',
    ...migrations,
  });
}
