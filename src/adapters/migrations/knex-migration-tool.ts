import { readdir } from 'node:fs/promises';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import type { Duration } from '../../config/duration.js';
import type { ServiceConfig } from '../../config/services.js';
import type { HeldRollbackLock, LockHolder, MigrationTool, RollbackLockOptions } from '../../rollback/migration-tool.js';
import { describeBlockers, rollbackLockHolder, tryRollbackLock, watchBlockers, type BlockingSession } from '../postgres/rollback-lock.js';
import type { AppliedMigration, PlanStep } from '../../rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';
import { captureSql } from './capture-sql.js';
import { loadMigration } from './load-migration.js';

const MIGRATION_FILE = /\.(c|m)?(j|t)s$/i;

/** Options of the knex adapter; timeouts in ms. */
export interface KnexMigrationToolOptions {
  logger: Logger;
  /** Connect timeout for the service database, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** statement_timeout for reads of the tracking table, ms. Default 5000. */
  readTimeoutMs?: number;
}

/** Routes knex's own console logging to our logger, redacted. */
export function knexLog(logger: Logger): Knex.Config['log'] {
  const text = (m: unknown): string => redactSecrets(m instanceof Error ? m.message : String(m));
  return {
    warn: (m: unknown) => logger.warn(text(m)),
    error: (m: unknown) => logger.error(text(m)),
    deprecate: (m: unknown) => logger.debug(text(m)),
    debug: (m: unknown) => logger.debug(text(m)),
  };
}

/** Maps a pg/knex error from the service database to an AppError. */
export function serviceDbError(err: unknown, service: string, what: string): AppError {
  const e = err as { code?: string; message?: string };
  const msg = redactSecrets(e.message ?? String(err));
  if (e.code === '42P01') {
    return new AppError({
      code: 'tracking_table_missing',
      message: `${service}: ${msg}`,
      cause: err,
      userMessage: `The tracking table of *${service}* does not exist. Check \`migrations.table\` in services.yaml.`,
    });
  }
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '57P03', '3D000', '28P01', '28000'];
  if (network.includes(e.code ?? '') || /timeout expired|Connection terminated|connect/i.test(msg)) {
    return new AppError({
      code: 'service_db_unreachable',
      message: `${service}: cannot ${what}: ${msg}`,
      cause: err,
      retryable: true,
      userMessage: `The database of *${service}* is unreachable (${e.code ?? 'connection failed'}). Nothing was run against it.`,
    });
  }
  return new AppError({ code: 'service_db_error', message: `${service}: ${what}: ${msg}`, cause: err, retryable: false });
}

/**
 * MigrationTool for knex migrations (knex docs "Migrations"; runbooks 000 and 004
 * "Knex Migration Rollback"). Reads `<schema>.<table>` (`id, name, batch,
 * migration_time`), loads migration files from the configured directory and runs
 * their `down(knex)`.
 */
export class KnexMigrationTool implements MigrationTool {
  private readonly knex: Knex;
  private readonly table: string;

  constructor(
    private readonly service: ServiceConfig,
    private readonly options: KnexMigrationToolOptions,
  ) {
    this.table = `${service.migrations.schema}.${service.migrations.table}`;
    this.knex = knexFactory({
      client: 'pg',
      connection: {
        connectionString: service.database_url,
        application_name: 'migrate-bot',
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      } as Knex.PgConnectionConfig,
      // One connection: session-level SETs of non-transactional downs apply to the statements that follow.
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: (options.connectTimeoutMs ?? 5000) + 1000,
      log: knexLog(options.logger),
    });
  }

  async listApplied(): Promise<AppliedMigration[]> {
    try {
      const rows: { rows: unknown[] } = await this.knex.transaction(
        async (trx) => {
          await trx.raw("SELECT set_config('statement_timeout', ?, true)", [`${this.options.readTimeoutMs ?? 5000}ms`]);
          return (await trx.raw('SELECT id, name, batch, migration_time FROM ?? ORDER BY id', [this.table])) as { rows: unknown[] };
        },
        { readOnly: true },
      );
      return (rows.rows as Array<{ id: number; name: string; batch: number; migration_time: Date | null }>).map((r) => ({
        id: Number(r.id),
        name: r.name,
        batch: Number(r.batch),
        appliedAt: r.migration_time ? new Date(r.migration_time).toISOString() : '',
      }));
    } catch (err) {
      throw serviceDbError(err, this.service.name, 'read the tracking table');
    }
  }

  async listFiles(): Promise<string[]> {
    try {
      const entries = await readdir(this.service.migrations.directory);
      return entries.filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts')).sort();
    } catch (cause) {
      throw new AppError({
        code: 'rollback_missing_file',
        message: `cannot read migrations directory ${this.service.migrations.directory}`,
        cause,
        userMessage: `The migrations directory of *${this.service.name}* cannot be read. Check \`migrations.directory\` in services.yaml.`,
      });
    }
  }

  async describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]> {
    const steps: PlanStep[] = [];
    for (const m of migrations) {
      const mod = await loadMigration(this.service.migrations.directory, m.name);
      if (typeof mod.down !== 'function') {
        throw new AppError({
          code: 'rollback_irreversible',
          message: `${m.name} has no down migration`,
          userMessage: `\`${m.name}\` has no down migration, so it cannot be rolled back automatically. Consider restoring from the snapshot instead (runbook 003, Option B).`,
        });
      }
      const down = mod.down;
      let sql: string[] = [];
      try {
        sql = await captureSql((k) => down(k));
      } catch (err) {
        this.options.logger.warn({ err, migration: m.name }, 'could not capture down SQL for the plan');
      }
      steps.push({ migration: m.name, trackingId: m.id, batch: m.batch, transactional: mod.config?.transaction !== false, sql });
    }
    return steps;
  }

  /** The session holding the advisory lock while {@link withRollbackLock} runs; also watches blockers. */
  private lockClient: pg.Client | null = null;

  private async connectLockClient(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.service.database_url,
      application_name: 'migrate-bot-lock',
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
    });
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw serviceDbError(err, this.service.name, 'connect');
    }
    return client;
  }

  async rollbackLockHolder(): Promise<LockHolder | null> {
    const client = await this.connectLockClient();
    try {
      return await rollbackLockHolder(client);
    } catch (err) {
      throw serviceDbError(err, this.service.name, 'read pg_locks');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async withRollbackLock<T>(fn: (lock: HeldRollbackLock) => Promise<T>, options: RollbackLockOptions = {}): Promise<T> {
    const lockClient = await this.connectLockClient();
    let knexLocked = false;
    try {
      if (!(await tryRollbackLock(lockClient))) {
        const holder = await rollbackLockHolder(lockClient).catch(() => null);
        throw new AppError({
          code: 'rollback_already_running',
          message: `another rollback holds the advisory lock on ${this.service.name}'s database (pid ${holder?.pid ?? '?'})`,
          retryable: true,
          details: { holder },
          userMessage:
            `Another rollback holds this database's rollback lock${holder ? ` (pid ${holder.pid}, \`${holder.applicationName || 'no application_name'}\`${holder.since ? `, connected since ${holder.since}` : ''})` : ''}. ` +
            'This one waits and starts when it ends.',
        });
      }
      const lock = await this.takeKnexLock(lockClient, options.ownStaleLock === true);
      knexLocked = lock.toolLock !== null;
      this.lockClient = lockClient;
      return await fn(lock);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw serviceDbError(err, this.service.name, 'take the rollback lock');
    } finally {
      this.lockClient = null;
      if (knexLocked) {
        await lockClient
          .query(`UPDATE ${this.lockTableSql()} SET is_locked = 0`)
          .catch((err) => this.options.logger.error({ err }, 'could not release the knex migration lock'));
      }
      await lockClient.end().catch(() => undefined); // ending the session releases the advisory lock
    }
  }

  /**
   * Takes knex's own lock row so `knex migrate:*` cannot run meanwhile (knex "Migrations":
   * `<table>_lock.is_locked`). Absent lock table: nothing to take. A row already set is
   * taken over only when `ownStale` (this incident set it before a crash; we hold the
   * advisory lock, so no live bot rollback does); otherwise refused, left as found.
   */
  private async takeKnexLock(client: pg.Client, ownStale: boolean): Promise<HeldRollbackLock> {
    const name = `${this.service.migrations.schema}.${this.service.migrations.lock_table}`;
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [name]);
    if (!exists.rows[0]?.t) return { tookOverStaleLock: false, toolLock: null };
    const toolLock = `\`${name}\` is_locked = 1`;
    const res = await client.query(`UPDATE ${this.lockTableSql()} SET is_locked = 1 WHERE is_locked = 0`);
    if ((res.rowCount ?? 0) > 0) return { tookOverStaleLock: false, toolLock };
    if (ownStale) return { tookOverStaleLock: true, toolLock };
    throw new AppError({
      code: 'rollback_tool_locked',
      message: `${name} is_locked = 1`,
      details: { table: name },
      userMessage:
        `The knex migration lock is held: \`${name}\` has \`is_locked = 1\`. A migration may be running, or a crashed one left it set. ` +
        `Nothing was changed and the lock was left as found. Check with \`/migrate triage\`; if no migration is running, clear it as runbook 004 "Migration Lock" says ` +
        `(\`UPDATE ${name} SET is_locked = 0;\`), then \`/migrate retry\`.`,
    });
  }

  private lockTableSql(): string {
    return `${pg.escapeIdentifier(this.service.migrations.schema)}.${pg.escapeIdentifier(this.service.migrations.lock_table)}`;
  }

  async runDown(step: PlanStep, lockTimeout: Duration): Promise<{ durationMs: number }> {
    const mod = await loadMigration(this.service.migrations.directory, step.migration);
    const down = mod.down;
    if (typeof down !== 'function') {
      throw new AppError({ code: 'rollback_irreversible', message: `${step.migration} has no down migration` });
    }
    const started = performance.now();
    const removeRow = async (db: Knex | Knex.Transaction): Promise<void> => {
      const deleted = await db.raw('DELETE FROM ?? WHERE id = ? AND name = ?', [this.table, step.trackingId, step.migration]);
      if (deleted.rowCount !== 1) {
        throw new AppError({
          code: 'rollback_tracking_row_missing',
          message: `tracking row ${step.trackingId} ${step.migration} not found`,
          userMessage: `The tracking table no longer lists \`${step.migration}\`: someone changed it during the rollback. Stopped.`,
        });
      }
    };
    // Who blocks this step, watched from the lock session while it waits (named on lock_timeout).
    const watchers: Array<{ stop(): Promise<BlockingSession[]> }> = [];
    let blockers: BlockingSession[] = [];
    const watch = async (db: Knex | Knex.Transaction): Promise<void> => {
      if (!this.lockClient) return;
      const { rows } = (await db.raw('SELECT pg_backend_pid() AS pid')) as { rows: Array<{ pid: number }> };
      watchers.push(watchBlockers(this.lockClient, rows[0]!.pid));
    };
    try {
      try {
        if (step.transactional) {
          await this.knex.transaction(async (trx) => {
            await trx.raw("SELECT set_config('lock_timeout', ?, true)", [lockTimeout.text]);
            await watch(trx);
            await down(trx);
            await removeRow(trx);
          });
        } else {
          await this.knex.raw("SELECT set_config('lock_timeout', ?, false)", [lockTimeout.text]);
          try {
            await watch(this.knex);
            await down(this.knex);
            await removeRow(this.knex);
          } finally {
            await this.knex.raw('RESET lock_timeout').catch(() => undefined);
          }
        }
      } finally {
        for (const w of watchers) blockers = await w.stop();
      }
    } catch (err) {
      throw this.stepError(err, step, lockTimeout, blockers);
    }
    return { durationMs: Math.round(performance.now() - started) };
  }

  private stepError(err: unknown, step: PlanStep, lockTimeout: Duration, blockers: BlockingSession[]): AppError {
    if (err instanceof AppError) return err;
    const e = err as { code?: string; message?: string };
    if (e.code === '55P03') {
      const who = blockers.length ? `It was blocked by ${describeBlockers(blockers)}. ` : 'Another session holds a lock on a table it changes. ';
      return new AppError({
        code: 'rollback_lock_timeout',
        message: `${step.migration}: lock_timeout ${lockTimeout.text} hit: ${e.message}`,
        cause: err,
        details: { blockers },
        userMessage:
          `\`${step.migration}\` could not get its lock within ${lockTimeout.text} (lock_timeout). ${who}` +
          `${step.transactional ? 'This step was rolled back as a whole, so it changed nothing.' : 'This step ran outside a transaction and may be partly applied.'} ` +
          'Find the blocking session with `/migrate triage` (runbook 000 "Monitoring During Migrations"), then `/migrate retry` in a quiet moment.',
      });
    }
    const mapped = serviceDbError(err, this.service.name, `run down ${step.migration}`);
    if (mapped.code === 'service_db_unreachable') return mapped;
    return new AppError({
      code: 'rollback_step_failed',
      message: `${step.migration}: ${redactSecrets(e.message ?? String(err))}`,
      cause: err,
      userMessage:
        `\`${step.migration}\` failed: ${redactSecrets(e.message ?? 'unknown error')}` +
        (step.transactional ? ' The step was rolled back as a whole.' : ' The step ran outside a transaction and may be partly applied.'),
    });
  }

  async close(): Promise<void> {
    await this.knex.destroy();
  }
}
