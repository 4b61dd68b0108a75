import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { golangMigrateLockKey } from '../../src/adapters/migrations/sql-tracking.js';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import { runTriage } from '../../src/adapters/postgres/triage-runner.js';
import { DurationSchema } from '../../src/config/duration.js';
import type { ServiceConfig } from '../../src/config/services.js';
import type { MigrationTool } from '../../src/domain/rollback/migration-tool.js';
import { migrationsToRevert, resolveMigration } from '../../src/domain/rollback/plan.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import {
  DRIZZLE_DIR,
  existingRelations,
  migrateUpLikeGolangMigrate,
  migrateUpWithDrizzle,
  migrateUpWithNodePgMigrate,
  NODE_PG_MIGRATE_DIR,
  SQL_DIR,
  TOOL_FIXTURES,
} from '../support/tool-fixtures.js';
import { serviceConfigFor } from '../support/service-config.js';
import { saying } from '../support/words.js';

const LOCK_TIMEOUT = DurationSchema.parse('1s');

const serviceFor = (url: string, migrations: Record<string, unknown>): ServiceConfig => ({
  ...serviceConfigFor(url, 'events-service', migrations),
  lock_timeout: LOCK_TIMEOUT,
});

/** services.yaml defaults of each tool, as the config loader fills them in. */
const DEFAULTS: Record<string, { table: string; schema: string }> = {
  knex: { table: 'knex_migrations', schema: 'public' },
  'node-pg-migrate': { table: 'pgmigrations', schema: 'public' },
  sql: { table: 'schema_migrations', schema: 'public' },
  drizzle: { table: '__drizzle_migrations', schema: 'drizzle' },
};

const toolFor = (url: string, migrations: Record<string, unknown>): MigrationTool =>
  createMigrationTool(serviceFor(url, { ...DEFAULTS[String(migrations.tool)], ...migrations }), silentLogger);

describe.each(TOOL_FIXTURES)('$label adapter against a database its own tool migrated up', (fixture) => {
  let db: TestDatabase;
  let tool: MigrationTool;
  beforeAll(async () => {
    db = await fixture.createDb();
    tool = toolFor(db.url, fixture.migrations);
  });
  afterAll(async () => {
    await tool?.close();
    await db?.drop();
  });

  it('lists the applied migrations in apply order with tool-neutral names and orders', async () => {
    const applied = await tool.listApplied();
    expect(applied.map((m) => m.name)).toEqual(fixture.applied);
    expect(applied.map((m) => m.order)).toEqual([...applied.map((m) => m.order)].sort((a, b) => a - b));
    expect(new Set(applied.map((m) => m.order)).size).toBe(applied.length);
    expect(applied.some((m) => m.dirty || m.modified)).toBe(false);
  });

  it('plans the downs newest first with the SQL they will run, and the dry run writes nothing', async () => {
    const applied = await tool.listApplied();
    const steps = await tool.describeDown(
      migrationsToRevert(applied, resolveMigration(applied, fixture.target, await tool.listFiles())),
    );
    expect(steps.map((s) => s.migration)).toEqual(fixture.reverted);
    expect(steps.flatMap((s) => s.sql).join('\n')).toContain(fixture.sqlShown);
    expect(await fixture.trackedNames(db.url)).toEqual(fixture.applied);
    expect(await existingRelations(db.url, fixture.createdRelations)).toHaveLength(fixture.createdRelations.length);
  });

  it('rolls back under the rollback lock with lock_timeout and moves the tracking table back with each down', async () => {
    const applied = await tool.listApplied();
    const steps = await tool.describeDown(migrationsToRevert(applied, resolveMigration(applied, fixture.target)));
    const held = await tool.withRollbackLock(async (lock) => {
      expect(await tool.rollbackLockHolder()).toMatchObject({ applicationName: 'migrate-bot-lock' });
      for (const step of steps) expect((await tool.runDown(step, LOCK_TIMEOUT)).durationMs).toBeGreaterThanOrEqual(0);
      return lock;
    });
    expect(held.tookOverStaleLock).toBe(false);
    expect(await existingRelations(db.url, fixture.createdRelations)).toEqual([]);
    expect(await fixture.trackedNames(db.url)).toEqual(fixture.applied.filter((n) => !fixture.reverted.includes(n)));
    expect((await tool.listApplied()).map((m) => m.name)).toEqual(
      fixture.applied.filter((n) => !fixture.reverted.includes(n)),
    );
    expect(await tool.rollbackLockHolder()).toBeNull();
  });
});

describe("what users type: each tool's natural names", () => {
  it.each([
    [
      'node-pg-migrate',
      ['1731000000300', '1731000000300_add-users-profile-columns', '1731000000300_add-users-profile-columns.js'],
      '1731000000300_add-users-profile-columns',
    ],
    [
      'sql',
      [
        '003',
        '3',
        '003_add_users_profile_columns',
        '003_add_users_profile_columns.up.sql',
        '003_add_users_profile_columns.down.sql',
      ],
      '003_add_users_profile_columns',
    ],
    [
      'drizzle',
      ['0002', '0002_add_users_profile_columns', '0002_add_users_profile_columns.sql'],
      '0002_add_users_profile_columns',
    ],
  ])('%s', (tool, inputs, name) => {
    const fixture = TOOL_FIXTURES.find((f) => f.migrations.tool === tool)!;
    const applied = fixture.applied.map((n, i) => ({ name: n, order: i + 1, appliedAt: null }));
    for (const input of inputs) expect(resolveMigration(applied, input).name, input).toBe(name);
  });
});

describe('node-pg-migrate specifics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mb_npm_x');
    await migrateUpWithNodePgMigrate(db.url);
  });
  afterAll(async () => db?.drop());

  it('says `down = false` is irreversible, and shows noTransaction() on the plan', async () => {
    const tool = toolFor(db.url, { tool: 'node-pg-migrate', directory: NODE_PG_MIGRATE_DIR });
    const applied = await tool.listApplied();
    const [irreversible] = await tool.describeDown([applied[0]!]);
    expect(irreversible).toMatchObject({
      sql: [],
      irreversible: expect.stringContaining('`down = false`'),
      checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(irreversible!.upSql?.join('\n')).toContain('CREATE TABLE "events"');
    const [step] = await tool.describeDown([applied[2]!]);
    expect(step).toMatchObject({
      transactional: false,
      sql: [
        'DROP INDEX CONCURRENTLY "users_display_name_idx"',
        'ALTER TABLE "users"\n  DROP "display_name",\n  DROP "avatar_url"',
      ],
    });
  });

  it('reads a .sql migration the way node-pg-migrate does (-- Up / -- Down Migration) and reverts it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-npm-'));
    const sqlDb = await createTestDatabase('mb_npm_sql');
    try {
      await cp(NODE_PG_MIGRATE_DIR, dir, { recursive: true });
      await writeFile(
        path.join(dir, '1731000000400_add-event-notes.sql'),
        '-- Up Migration\nALTER TABLE events ADD COLUMN notes text;\n\n-- Down Migration\nALTER TABLE events DROP COLUMN notes;\n',
      );
      await migrateUpWithNodePgMigrate(sqlDb.url, dir);
      const tool = toolFor(sqlDb.url, { tool: 'node-pg-migrate', directory: dir });
      expect(await tool.listFiles()).toContain('1731000000400_add-event-notes');
      const applied = await tool.listApplied();
      const [step] = await tool.describeDown([resolveMigration(applied, '1731000000400_add-event-notes.sql')]);
      expect(step).toMatchObject({ migration: '1731000000400_add-event-notes', transactional: true });
      expect(step!.sql.join('\n')).toContain('ALTER TABLE events DROP COLUMN notes');
      await tool.withRollbackLock(() => tool.runDown(step!, LOCK_TIMEOUT));
      const c = new pg.Client({ connectionString: sqlDb.url });
      await c.connect();
      expect(
        (
          await c.query(
            "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'notes'",
          )
        ).rows[0].n,
      ).toBe(0);
      expect((await c.query('SELECT name FROM pgmigrations ORDER BY id')).rows.map((r) => r.name)).toEqual([
        '1731000000100_create-events',
        '1731000000200_add-event-reminders',
        '1731000000300_add-users-profile-columns',
      ]);
      await c.end();
    } finally {
      await sqlDb.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a migration without a down whose up node-pg-migrate cannot reverse is irreversible, in node-pg-migrate's words", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-npm-rev-'));
    const revDb = await createTestDatabase('mb_npm_rev');
    try {
      await cp(NODE_PG_MIGRATE_DIR, dir, { recursive: true });
      await writeFile(
        path.join(dir, '1731000000400_backfill.js'),
        "export const up = (pgm) => { pgm.sql('UPDATE users SET email = lower(email)'); };\n",
      );
      await migrateUpWithNodePgMigrate(revDb.url, dir);
      const tool = toolFor(revDb.url, { tool: 'node-pg-migrate', directory: dir });
      const applied = await tool.listApplied();
      const [step] = await tool.describeDown([resolveMigration(applied, '1731000000400')]);
      expect(step!.irreversible).toMatch(
        /`1731000000400_backfill` is irreversible: its down cannot be built \(Impossible to automatically infer down migration/,
      );
      expect(step!.upSql).toEqual(['UPDATE users SET email = lower(email)']);
    } finally {
      await revDb.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("holds node-pg-migrate's advisory lock: a concurrent `node-pg-migrate up` is refused while the bot rolls back", async () => {
    const tool = toolFor(db.url, { tool: 'node-pg-migrate', directory: NODE_PG_MIGRATE_DIR });
    await tool.withRollbackLock(async (lock) => {
      expect(lock.toolLock).toContain('node-pg-migrate');
      await expect(
        runner({
          databaseUrl: db.url,
          dir: NODE_PG_MIGRATE_DIR,
          direction: 'up',
          migrationsTable: 'pgmigrations',
          log: () => undefined,
        }),
      ).rejects.toThrow(/Another migration is already running/);
      const report = await runTriage(
        serviceFor(db.url, { tool: 'node-pg-migrate', directory: NODE_PG_MIGRATE_DIR, ...DEFAULTS['node-pg-migrate'] }),
      );
      expect(report.checks.find((c) => c.name === 'tracking_table_health')).toMatchObject({
        verdict: 'attention',
        summary: expect.stringContaining("node-pg-migrate's advisory lock is held by pid"),
      });
    });
  });
});

describe('plain SQL specifics (golang-migrate protocol, runbook 001)', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'mb-sql-'));
  });
  afterAll(async () => rm(scratch, { recursive: true, force: true }));

  it.each(['single', 'per_version'] as const)(
    'a failed up leaves a dirty version: triage and the plan say so (%s layout)',
    async (layout) => {
      const db = await createTestDatabase('mb_sql_dirty');
      try {
        await migrateUpLikeGolangMigrate(db.url, layout, { failAt: 3 });
        const tool = toolFor(db.url, { tool: 'sql', directory: SQL_DIR });
        const applied = await tool.listApplied();
        expect(applied.map((m) => [m.name, m.dirty === true])).toEqual([
          ['001_create_events', false],
          ['002_add_event_reminders', false],
          ['003_add_users_profile_columns', true],
        ]);
        const [step] = await tool.describeDown([applied[2]!]);
        expect(step).toMatchObject({ migration: '003_add_users_profile_columns', dirty: true, transactional: false });
        const report = await runTriage(serviceFor(db.url, { tool: 'sql', directory: SQL_DIR, ...DEFAULTS.sql }));
        expect(report.checks.find((c) => c.name === 'tracking_table_health')).toMatchObject({
          verdict: 'attention',
          summary: expect.stringMatching(/1 dirty row \(version 0*3\)/),
        });
        const history = report.checks.find((c) => c.name === 'migration_history')!;
        expect(history.rows[0]).toMatchObject({ name: '003_add_users_profile_columns' });
      } finally {
        await db.drop();
      }
    },
  );

  it("marks the version dirty before its down and clears it in the down's transaction; a failed transactional down changes nothing", async () => {
    const db = await createTestDatabase('mb_sql_protocol');
    const dir = path.join(scratch, 'protocol');
    await cp(SQL_DIR, dir, { recursive: true });
    try {
      await migrateUpLikeGolangMigrate(db.url, 'single', { dir });
      // 002's down now fails after it dropped the table: the whole step must roll back.
      await writeFile(
        path.join(dir, '002_add_event_reminders.down.sql'),
        'DROP TABLE event_reminders;\nSELECT no_such_function();\n',
      );
      const tool = toolFor(db.url, { tool: 'sql', directory: dir });
      const applied = await tool.listApplied();
      const steps = await tool.describeDown(migrationsToRevert(applied, applied[1]!));
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        await tool.withRollbackLock(async () => {
          expect(
            (
              await c.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
                golangMigrateLockKey(db.name, 'public', 'schema_migrations').toString(),
              ])
            ).rows[0].ok,
          ).toBe(false);
          await tool.runDown(steps[0]!, LOCK_TIMEOUT);
          expect((await c.query('SELECT version, dirty FROM schema_migrations')).rows).toEqual([
            { version: '2', dirty: false },
          ]);
          await expect(tool.runDown(steps[1]!, LOCK_TIMEOUT)).rejects.toMatchObject({
            code: 'rollback_step_failed',
            userMessage: saying('rolled back as a whole'),
          });
        });
        expect((await c.query('SELECT version, dirty FROM schema_migrations')).rows).toEqual([
          { version: '2', dirty: false },
        ]);
        expect(await existingRelations(db.url, ['event_reminders'])).toEqual(['event_reminders']);
      } finally {
        await c.end();
      }
    } finally {
      await db.drop();
    }
  });

  it('flags a file changed since it was applied (checksum column, runbook 001 "Checksum Mismatch")', async () => {
    const db = await createTestDatabase('mb_sql_checksum');
    const dir = path.join(scratch, 'checksum');
    await cp(SQL_DIR, dir, { recursive: true });
    try {
      await migrateUpLikeGolangMigrate(db.url, 'per_version', { dir });
      await writeFile(
        path.join(dir, '002_add_event_reminders.up.sql'),
        'CREATE TABLE event_reminders (id serial PRIMARY KEY);\n',
      );
      const tool = toolFor(db.url, { tool: 'sql', directory: dir });
      const applied = await tool.listApplied();
      expect(applied.map((m) => m.modified === true)).toEqual([false, true, false]);
      expect((await tool.describeDown([applied[1]!]))[0]).toMatchObject({ modified: true });
    } finally {
      await db.drop();
    }
  });

  it("refuses an unparseable down with the parser's message, before anything runs", async () => {
    const db = await createTestDatabase('mb_sql_bad');
    const dir = path.join(scratch, 'bad');
    await cp(SQL_DIR, dir, { recursive: true });
    try {
      await migrateUpLikeGolangMigrate(db.url, 'single', { dir });
      await writeFile(path.join(dir, '003_add_users_profile_columns.down.sql'), 'DROP TABEL users;\n');
      const tool = toolFor(db.url, { tool: 'sql', directory: dir });
      const applied = await tool.listApplied();
      await expect(tool.describeDown([applied[2]!])).rejects.toMatchObject({
        code: 'migration_sql_unparseable',
        userMessage: saying('syntax error at or near "TABEL"'),
      });
      expect((await tool.listApplied()).map((m) => m.dirty === true)).toEqual([false, false, false]);
    } finally {
      await db.drop();
    }
  });
});

describe('drizzle specifics (runbook 002)', () => {
  it('a migration without a rollback script is irreversible; a changed file is flagged by its hash', async () => {
    const db = await createTestDatabase('mb_drizzle_x');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-drizzle-'));
    await cp(DRIZZLE_DIR, dir, { recursive: true });
    try {
      await migrateUpWithDrizzle(db.url, dir);
      await writeFile(
        path.join(dir, '0001_add_event_reminders.sql'),
        'CREATE TABLE "event_reminders" ("id" serial PRIMARY KEY NOT NULL);\n',
      );
      const tool = toolFor(db.url, { tool: 'drizzle', directory: dir });
      const applied = await tool.listApplied();
      expect(applied.map((m) => [m.name, m.modified === true])).toEqual([
        ['0000_create_events', false],
        ['0001_add_event_reminders', true],
        ['0002_add_users_profile_columns', false],
      ]);
      const [irreversible] = await tool.describeDown([applied[0]!]);
      expect(irreversible!.irreversible).toContain('rollback/0000_rollback_*.sql');
      const [step] = await tool.describeDown([applied[2]!]);
      const [again] = await tool.describeDown([applied[2]!]);
      expect(again!.checksum).toBe(step!.checksum);
      await writeFile(
        path.join(dir, 'rollback', (await readdir(path.join(dir, 'rollback'))).find((f) => f.startsWith('0002_'))!),
        'DROP INDEX IF EXISTS "users_display_name_idx";\n',
      );
      expect((await tool.describeDown([applied[2]!]))[0]!.checksum).not.toBe(step!.checksum);
      expect(step!.sql).toEqual([
        'DROP INDEX IF EXISTS "users_display_name_idx"',
        'ALTER TABLE "users" DROP COLUMN IF EXISTS "display_name"',
        'ALTER TABLE "users" DROP COLUMN IF EXISTS "avatar_url"',
      ]);
    } finally {
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a tracking table that is missing or laid out for another tool', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('mb_layout');
    await migrateUpWithNodePgMigrate(db.url);
  });
  afterAll(async () => db?.drop());

  it.each([
    [
      { tool: 'sql', directory: SQL_DIR, table: 'pgmigrations' },
      'tracking_table_unexpected',
      /`public\.pgmigrations`.*has columns `id`, `name`, `run_on`, expected `version`, `dirty`/,
    ],
    [
      { tool: 'knex', directory: SQL_DIR, table: 'pgmigrations' },
      'tracking_table_unexpected',
      /has columns `id`, `name`, `run_on`, expected `id`, `name`, `batch`/,
    ],
    [
      { tool: 'drizzle', directory: DRIZZLE_DIR },
      'tracking_table_missing',
      /`drizzle\.__drizzle_migrations`.*does not exist/,
    ],
  ])('%o gets %s naming the table and columns, and nothing is written', async (migrations, code, message) => {
    const before = 3;
    const tool = toolFor(db.url, migrations);
    await expect(tool.listApplied()).rejects.toMatchObject({ code, userMessage: saying(message) });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM pgmigrations')).rows[0].n).toBe(before);
    await c.end();
  });
});
