import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { createTicketServiceDb, TABLES_OF_007, TICKET_MIGRATIONS_DIR } from './ticket-service.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
export const NODE_PG_MIGRATE_DIR = path.join(FIXTURES, 'events-node-pg-migrate/migrations');
export const SQL_DIR = path.join(FIXTURES, 'events-sql/migrations');
export const DRIZZLE_DIR = path.join(FIXTURES, 'events-drizzle/migrations');

/**
 * One migration tool's fixture service, migrated up by the tool itself, and what a rollback
 * of `target` must do to it. The three "events" fixtures share one schema: 1 creates `events`
 * and `users`, 2 adds `event_reminders`, 3 adds two `users` columns and an index (CONCURRENTLY
 * where the tool allows it).
 */
export interface ToolFixture {
  /** Test label, e.g. `sql (golang-migrate layout)`. */
  label: string;
  /** `migrations:` for services.yaml (absolute directories). */
  migrations: Record<string, unknown>;
  /** A fresh database migrated up with the real tool. */
  createDb(): Promise<TestDatabase>;
  /** What the on-call engineer types: `/migrate rollback <target>`. */
  target: string;
  /** Every applied migration after `createDb`, oldest first, as the bot names them. */
  applied: string[];
  /** The steps a rollback of `target` runs, newest first. */
  reverted: string[];
  /** Relations the reverted ups created (gone afterwards). */
  createdRelations: string[];
  /** A table the oldest reverted step's down needs ACCESS EXCLUSIVE on (blocked to force `lock_timeout` there). */
  blockTable: string;
  /** A fragment of the captured down SQL the plan card shows. */
  sqlShown: string;
  /** Names the tracking table lists now, oldest first. */
  trackedNames(url: string): Promise<string[]>;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const knexFixture: ToolFixture = {
  label: 'knex',
  migrations: { tool: 'knex', directory: TICKET_MIGRATIONS_DIR, table: 'knex_migrations' },
  createDb: () => createTicketServiceDb(),
  target: '006',
  applied: [
    '001_create_tickets.ts',
    '002_add_ticket_scans.ts',
    '003_add_blockchain_tracking.ts',
    '004_add_rls_role_verification.ts',
    '005_add_idempotency_keys.ts',
    '006_add_ticket_state_machine.ts',
    '007_add_security_tables.ts',
  ],
  reverted: ['007_add_security_tables.ts', '006_add_ticket_state_machine.ts'],
  createdRelations: [...TABLES_OF_007, 'ticket_state_transitions'],
  blockTable: 'ticket_state_transitions',
  sqlShown: 'DROP TABLE IF EXISTS failed_login_attempts',
  trackedNames: (url) =>
    withClient(url, async (c) =>
      (await c.query<{ name: string }>('SELECT name FROM knex_migrations ORDER BY id')).rows.map((r) => r.name),
    ),
};

const NPM_NAMES = [
  '1731000000100_create-events',
  '1731000000200_add-event-reminders',
  '1731000000300_add-users-profile-columns',
];

/** node-pg-migrate's own runner applies the ups (what `node-pg-migrate up` does). */
export async function migrateUpWithNodePgMigrate(url: string, dir = NODE_PG_MIGRATE_DIR): Promise<void> {
  await runner({ databaseUrl: url, dir, direction: 'up', migrationsTable: 'pgmigrations', log: () => undefined });
}

const nodePgMigrateFixture: ToolFixture = {
  label: 'node-pg-migrate',
  migrations: { tool: 'node-pg-migrate', directory: NODE_PG_MIGRATE_DIR },
  async createDb() {
    return createTestDatabase('mb_npm', { key: 'npm', build: (url) => migrateUpWithNodePgMigrate(url) });
  },
  target: '1731000000200',
  applied: NPM_NAMES,
  reverted: [NPM_NAMES[2]!, NPM_NAMES[1]!],
  createdRelations: ['event_reminders', 'users_display_name_idx'],
  blockTable: 'event_reminders',
  sqlShown: 'DROP INDEX CONCURRENTLY "users_display_name_idx"',
  trackedNames: (url) =>
    withClient(url, async (c) =>
      (await c.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY run_on, id')).rows.map((r) => r.name),
    ),
};

const SQL_NAMES = ['001_create_events', '002_add_event_reminders', '003_add_users_profile_columns'];

/**
 * Applies `.up.sql` files the way golang-migrate does (golang-migrate `Migrate.Up` with the
 * postgres driver and `x-multi-statement`): for each version, the version is set dirty, the file
 * runs statement by statement, then the version is set clean. `layout` picks golang-migrate's
 * single row `(version bigint, dirty boolean)` or runbook 001's row per version `(version,
 * dirty, applied_at, checksum)` with the up file's sha256. `failAt` makes that version's up
 * fail after it was marked dirty: the dirty version stays behind, as golang-migrate leaves it.
 */
export async function migrateUpLikeGolangMigrate(
  url: string,
  layout: 'single' | 'per_version',
  options: { upTo?: number; failAt?: number; dir?: string } = {},
): Promise<void> {
  const dir = options.dir ?? SQL_DIR;
  const ups = (await readdir(dir)).filter((f) => f.endsWith('.up.sql')).sort();
  await withClient(url, async (c) => {
    await c.query(
      layout === 'single'
        ? 'CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)'
        : 'CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(32) PRIMARY KEY, dirty boolean NOT NULL DEFAULT false, applied_at timestamptz NOT NULL DEFAULT now(), checksum text)',
    );
    for (const file of ups) {
      const v = /^(\d+)_/.exec(file)![1]!;
      if (options.upTo !== undefined && Number(v) > options.upTo) break;
      const text = await readFile(path.join(dir, file), 'utf8');
      if (layout === 'single') {
        await c.query('TRUNCATE schema_migrations');
        await c.query('INSERT INTO schema_migrations (version, dirty) VALUES ($1, true)', [Number(v)]);
      } else {
        await c.query('INSERT INTO schema_migrations (version, dirty, checksum) VALUES ($1, true, $2)', [
          v,
          createHash('sha256').update(text).digest('hex'),
        ]);
      }
      if (options.failAt === Number(v)) {
        await c.query('SELECT no_such_function()').catch(() => undefined);
        return;
      }
      // x-multi-statement: golang-migrate splits the file on ';' and runs each statement on its own.
      for (const stmt of text
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean))
        await c.query(stmt);
      if (layout === 'single') await c.query('UPDATE schema_migrations SET dirty = false');
      else await c.query('UPDATE schema_migrations SET dirty = false WHERE version = $1', [v]);
    }
  });
}

function sqlFixture(layout: 'single' | 'per_version'): ToolFixture {
  return {
    label: layout === 'single' ? 'sql (golang-migrate layout)' : 'sql (runbook 001 layout)',
    migrations: { tool: 'sql', directory: SQL_DIR },
    async createDb() {
      return createTestDatabase('mb_sql', {
        key: `sql_${layout}`,
        build: (url) => migrateUpLikeGolangMigrate(url, layout),
      });
    },
    target: '002',
    applied: SQL_NAMES,
    reverted: [SQL_NAMES[2]!, SQL_NAMES[1]!],
    createdRelations: ['event_reminders', 'users_display_name_idx'],
    blockTable: 'event_reminders',
    sqlShown: 'DROP INDEX CONCURRENTLY IF EXISTS users_display_name_idx',
    trackedNames: (url) =>
      withClient(url, async (c) => {
        const rows = (
          await c.query<{ version: string; dirty: boolean }>(
            'SELECT version::text AS version, dirty FROM schema_migrations ORDER BY version::text::numeric',
          )
        ).rows;
        if (layout === 'per_version') return rows.map((r) => SQL_NAMES[Number(r.version) - 1]!);
        const current = rows[0] ? Number(rows[0].version) : 0;
        return SQL_NAMES.slice(0, current);
      }),
  };
}

const DRIZZLE_NAMES = ['0000_create_events', '0001_add_event_reminders', '0002_add_users_profile_columns'];

/** drizzle-orm's own migrator applies drizzle-kit's files (`migrate(db, { migrationsFolder })`). */
export async function migrateUpWithDrizzle(url: string, dir = DRIZZLE_DIR): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await drizzleMigrate(drizzle(pool), { migrationsFolder: dir });
  } finally {
    await pool.end();
  }
}

const drizzleFixture: ToolFixture = {
  label: 'drizzle',
  migrations: { tool: 'drizzle', directory: DRIZZLE_DIR },
  async createDb() {
    return createTestDatabase('mb_drizzle', { key: 'drizzle', build: (url) => migrateUpWithDrizzle(url) });
  },
  target: '0001',
  applied: DRIZZLE_NAMES,
  reverted: [DRIZZLE_NAMES[2]!, DRIZZLE_NAMES[1]!],
  createdRelations: ['event_reminders', 'users_display_name_idx'],
  blockTable: 'event_reminders',
  sqlShown: 'DROP INDEX IF EXISTS "users_display_name_idx"',
  trackedNames: (url) =>
    withClient(url, async (c) => {
      const whens = [1731000000000, 1731000100000, 1731000200000];
      const rows = (
        await c.query<{ created_at: string }>(
          'SELECT created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY created_at',
        )
      ).rows;
      return rows.map((r) => DRIZZLE_NAMES[whens.indexOf(Number(r.created_at))] ?? r.created_at);
    }),
};

/** Every tool the bot rolls back, knex first; the SQL tool once per tracking layout. */
export const TOOL_FIXTURES: readonly ToolFixture[] = [
  knexFixture,
  nodePgMigrateFixture,
  sqlFixture('single'),
  sqlFixture('per_version'),
  drizzleFixture,
];

/** Relations of `names` that exist in the database at `url`. */
export async function existingRelations(url: string, names: string[]): Promise<string[]> {
  return withClient(url, async (c) =>
    (
      await c.query<{ t: string | null }>('SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) AS x', [names])
    ).rows.flatMap((r) => (r.t ? [r.t] : [])),
  );
}
