import pg from 'pg';
import knexFactory, { type Knex } from 'knex';
import { STATE_MIGRATIONS } from './state-migrations.js';

export { STATE_MIGRATIONS } from './state-migrations.js';
import type { Logger } from '../../shared/logger.js';
import { knexLog } from '../migrations/knex-migration-tool.js';

/** The state schema's own tracking table (knex's layout). */
export const STATE_MIGRATIONS_TABLE = 'migrate_bot_schema_migrations';

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(STATE_MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => STATE_MIGRATIONS[name]!,
};

/**
 * Brings the state database's schema up to date. Safe from any number of processes at once: they take
 * turns under an advisory lock, and a knex lock left stale by a process that died is freed.
 * @returns names of the migrations applied now (empty when already current)
 * @throws the knex/pg error when the state database is unreachable (start-up fails with it)
 */
export async function migrateStateDb(databaseUrl: string, logger: Logger): Promise<string[]> {
  // Replicas start together (a rollout, a node restart): one migrates at a time, under a session
  // advisory lock held on a connection of its own (PostgreSQL "Advisory Locks"). knex's own lock
  // table cannot do it: two processes creating it at once collide in pg_type, and a crash between
  // its steps leaves it locked (or with two rows) for good.
  const guard = new pg.Client({ connectionString: databaseUrl, application_name: 'migrate-bot-schema' });
  guard.on('error', () => undefined);
  await guard.connect();
  try {
    await guard.query('SELECT pg_advisory_lock($1)', [STATE_SCHEMA_LOCK_KEY]);
    await freeStaleKnexLock(guard, logger);
    return await migrateUnderLock(databaseUrl, logger);
  } finally {
    await guard.query('SELECT pg_advisory_unlock($1)', [STATE_SCHEMA_LOCK_KEY]).catch(() => undefined);
    await guard.end().catch(() => undefined);
  }
}

/** Advisory-lock key of the state schema's migrations (an arbitrary constant of this bot, bigint). */
export const STATE_SCHEMA_LOCK_KEY = '7208431195004181';

/**
 * Under the advisory lock nobody else is migrating, so a knex lock row left locked by a process
 * that died, or a lock table with more than one row (two processes created it at once), is
 * stale: it is reset to knex's one unlocked row, and the reset is logged.
 */
async function freeStaleKnexLock(client: pg.Client, logger: Logger): Promise<void> {
  const table = `${STATE_MIGRATIONS_TABLE}_lock`;
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  if (!exists.rows[0]?.t) return;
  const rows = await client.query<{ is_locked: number }>(`SELECT is_locked FROM ${pg.escapeIdentifier(table)}`);
  if (rows.rowCount === 1 && rows.rows[0]!.is_locked === 0) return;
  await client.query(`DELETE FROM ${pg.escapeIdentifier(table)}`);
  await client.query(`INSERT INTO ${pg.escapeIdentifier(table)} (is_locked) VALUES (0)`);
  logger.warn({ rows: rows.rows }, `freed a stale ${table} left by a process that died mid-migration`);
}

async function migrateUnderLock(databaseUrl: string, logger: Logger): Promise<string[]> {
  const knex = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 }, log: knexLog(logger) });
  try {
    const [, applied] = (await knex.migrate.latest({
      migrationSource: source,
      tableName: STATE_MIGRATIONS_TABLE,
    })) as [number, string[]];
    if (applied.length) logger.info({ applied }, 'state database migrated');
    return applied;
  } finally {
    await knex.destroy();
  }
}
