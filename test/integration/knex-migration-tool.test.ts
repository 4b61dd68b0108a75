import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { AppError } from '../../src/shared/errors.js';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import type { MigrationTool } from '../../src/domain/rollback/migration-tool.js';
import { DurationSchema } from '../../src/config/duration.js';
import { migrationsToRevert, resolveMigration } from '../../src/domain/rollback/plan.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTicketServiceDb, TABLES_OF_007, ticketServiceConfig as serviceFor } from '../support/ticket-service.js';
import type { TestDatabase } from '../support/postgres.js';
import { userText } from '../support/words.js';

describe('KnexMigrationTool against a real knex-migrated database', () => {
  let db: TestDatabase;
  let tool: MigrationTool;
  beforeAll(async () => {
    db = await createTicketServiceDb();
    tool = createMigrationTool(serviceFor(db.url), silentLogger);
  });
  afterAll(async () => {
    await tool?.close();
    await db?.drop();
  });

  it('lists applied migrations in apply order with batches', async () => {
    const applied = await tool.listApplied();
    expect(applied.map((m) => m.name)).toEqual([
      '001_create_tickets.ts',
      '002_add_ticket_scans.ts',
      '003_add_blockchain_tracking.ts',
      '004_add_rls_role_verification.ts',
      '005_add_idempotency_keys.ts',
      '006_add_ticket_state_machine.ts',
      '007_add_security_tables.ts',
    ]);
    expect(applied.map((m) => m.group)).toEqual([
      'batch 1',
      'batch 1',
      'batch 1',
      'batch 1',
      'batch 1',
      'batch 2',
      'batch 2',
    ]);
    expect(applied.map((m) => m.order)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('describes the down steps newest first with the SQL they will run, without running it', async () => {
    const applied = await tool.listApplied();
    const steps = await tool.describeDown(migrationsToRevert(applied, resolveMigration(applied, '006')));
    expect(steps.map((s) => s.migration)).toEqual(['007_add_security_tables.ts', '006_add_ticket_state_machine.ts']);
    expect(steps[0]!.sql).toContain('DROP TABLE IF EXISTS failed_login_attempts');
    expect(steps[1]!.sql).toContain('DROP TYPE IF EXISTS revocation_reason');
    // the dry run changed nothing
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query("SELECT to_regclass('public.failed_login_attempts')::text AS t");
    await c.end();
    expect(rows[0].t).toBe('failed_login_attempts');
  });

  it('fails a step on lock_timeout, leaving the step and the tracking row untouched', async () => {
    const applied = await tool.listApplied();
    const [step] = await tool.describeDown(migrationsToRevert(applied, resolveMigration(applied, '007')));
    const holder = new pg.Client({ connectionString: db.url, application_name: 'psql-oncall' });
    await holder.connect();
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await holder.query('BEGIN; LOCK TABLE failed_login_attempts IN ACCESS SHARE MODE');
    try {
      const err = (await tool
        .withRollbackLock(() => tool.runDown(step!, DurationSchema.parse('300ms')))
        .catch((e: unknown) => e)) as AppError;
      expect(err).toMatchObject({ code: 'rollback_lock_timeout' });
      // The failure names who blocked it (pg_blocking_pids, watched while the step waited).
      expect(userText(err)).toContain(
        `It was blocked by pid ${holderPid} (psql-oncall, idle in transaction): \`BEGIN; LOCK TABLE failed_login_attempts IN ACCESS SHARE MODE\``,
      );
      expect(userText(err)).toContain('This step was rolled back as a whole');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await tool.listApplied()).map((m) => m.name)).toContain('007_add_security_tables.ts');
  });

  it('refuses a second concurrent rollback on the same database', async () => {
    const other = createMigrationTool(serviceFor(db.url), silentLogger);
    try {
      await tool.withRollbackLock(async () => {
        const err = (await other.withRollbackLock(async () => 'ran').catch((e: unknown) => e)) as AppError;
        expect(err).toMatchObject({ code: 'rollback_already_running', retryable: true });
        // Names the holder: pid, application_name and since when.
        const holder = await other.rollbackLockHolder();
        expect(holder).toMatchObject({
          pid: expect.any(Number),
          applicationName: 'migrate-bot-lock',
          since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
        expect(userText(err)).toContain(`pid ${holder!.pid}, \`migrate-bot-lock\`, connected since ${holder!.since}`);
      });
      expect(await other.rollbackLockHolder()).toBeNull();
      // released afterwards
      await expect(other.withRollbackLock(async () => 'ran')).resolves.toBe('ran');
    } finally {
      await other.close();
    }
  });

  it('runs the down migration and removes the tracking row', async () => {
    const applied = await tool.listApplied();
    const [step] = await tool.describeDown(
      migrationsToRevert(applied, resolveMigration(applied, '007_add_security_tables')),
    );
    const { durationMs } = await tool.withRollbackLock(() => tool.runDown(step!, DurationSchema.parse('1s')));
    expect(durationMs).toBeGreaterThanOrEqual(0);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    for (const t of TABLES_OF_007) {
      const { rows } = await c.query('SELECT to_regclass($1)::text AS t', [`public.${t}`]);
      expect(rows[0].t).toBeNull();
    }
    const lock = await c.query('SELECT is_locked FROM knex_migrations_lock');
    await c.end();
    expect(lock.rows[0].is_locked).toBe(0);
    expect((await tool.listApplied()).map((m) => m.name)).not.toContain('007_add_security_tables.ts');
  });

  it('refuses a knex lock someone else holds and leaves it as found; takes over its own stale one', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('UPDATE knex_migrations_lock SET is_locked = 1');
      const err = (await tool.withRollbackLock(async () => 'ran').catch((e: unknown) => e)) as AppError;
      expect(err).toMatchObject({ code: 'rollback_tool_locked', retryable: false });
      expect(userText(err)).toContain('runbook 004 "Migration Lock"');
      expect((await c.query('SELECT is_locked FROM knex_migrations_lock')).rows[0].is_locked).toBe(1);
      // The event log says this incident set it before a crash: taken over, then released.
      const held = await tool.withRollbackLock(async (lock) => lock, { ownStaleLock: true });
      expect(held).toEqual({ tookOverStaleLock: true, toolLock: '`public.knex_migrations_lock` is_locked = 1' });
      expect((await c.query('SELECT is_locked FROM knex_migrations_lock')).rows[0].is_locked).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('refuses a lock table with no row, saying how to put it back, and changes nothing', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const row = (await c.query('DELETE FROM knex_migrations_lock RETURNING *')).rows[0];
      try {
        for (const ownStaleLock of [false, true]) {
          const err = (await tool
            .withRollbackLock(async () => 'ran', { ownStaleLock })
            .catch((e: unknown) => e)) as AppError;
          expect(err).toMatchObject({
            code: 'rollback_tool_locked',
            message: 'public.knex_migrations_lock has no row',
          });
          expect(userText(err)).toContain('INSERT INTO public.knex_migrations_lock (is_locked) VALUES (0);');
        }
        expect((await c.query('SELECT count(*)::int AS n FROM knex_migrations_lock')).rows[0].n).toBe(0);
      } finally {
        await c.query('INSERT INTO knex_migrations_lock (index, is_locked) VALUES ($1, $2)', [
          row.index,
          row.is_locked,
        ]);
      }
    } finally {
      await c.end();
    }
  });

  it('reports an unreachable database as service_db_unreachable', async () => {
    const bad = createMigrationTool(serviceFor('postgres://postgres@127.0.0.1:1/nope'), silentLogger, {
      connectTimeoutMs: 1000,
    });
    try {
      await expect(bad.listApplied()).rejects.toMatchObject({ code: 'service_db_unreachable' });
    } finally {
      await bad.close();
    }
  });
});
