import { code, strong, words } from '../../shared/words.js';
import { readdir } from 'node:fs/promises';
import type pg from 'pg';
import type { Duration } from '../../config/duration.js';
import type {
  HeldRollbackLock,
  LockHolder,
  MigrationTool,
  RollbackLockOptions,
  TrackingDescription,
  StepControl,
} from '../../domain/rollback/migration-tool.js';
import type { AppliedMigration, ComputedRevert, PlanStep } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import { RollbackLockSession, runSqlDown, type ToolLock } from './postgres-rollback.js';
import type { ServiceDb } from './service-db.js';

/**
 * What every adapter shares on PostgreSQL: the service database, its rollback-lock session
 * (advisory lock plus the tool's own lock, see {@link RollbackLockSession}), and reading the
 * migrations directory. A tool adds how it reads its tracking table, plans and runs a down.
 */
export abstract class PostgresMigrationTool implements MigrationTool {
  abstract readonly tracking: TrackingDescription;
  protected readonly session: RollbackLockSession;

  protected constructor(
    protected readonly db: ServiceDb,
    protected readonly directory: string,
    toolLock?: ToolLock,
  ) {
    this.session = new RollbackLockSession(db, toolLock);
  }

  abstract listApplied(): Promise<AppliedMigration[]>;
  abstract listFiles(): Promise<string[]>;
  abstract describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]>;
  abstract runDown(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }>;

  /**
   * A computed step: its SQL (migra's, from the live schema to the target) with `lock_timeout`,
   * then the tracking table moved to `step.computed.target` by {@link untrack}, in one transaction
   * when no statement needs to run outside one ({@link runSqlDown}).
   */
  runComputed(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }> {
    const revert = step.computed;
    if (!revert) throw new Error(`${step.migration} is not a computed step`);
    return runSqlDown(this.session, {
      step,
      statements: step.sql,
      lockTimeout,
      control,
      track: (client) => this.untrack(client, revert),
    });
  }

  /**
   * Moves the tracking table to `revert.target` the way the tool expects: its rows of
   * `revert.reverts` deleted (knex, node-pg-migrate, drizzle) or its version set with dirty
   * cleared (golang-migrate). Runs on the step's session, inside its transaction when it has one.
   * @throws AppError `rollback_tracking_row_missing` when a row to move is gone
   */
  protected abstract untrack(client: pg.ClientBase, revert: ComputedRevert): Promise<void>;

  rollbackLockHolder(): Promise<LockHolder | null> {
    return this.session.holder();
  }

  withRollbackLock<T>(fn: (lock: HeldRollbackLock) => Promise<T>, options: RollbackLockOptions = {}): Promise<T> {
    return this.session.run(fn, options);
  }

  async close(): Promise<void> {}

  /**
   * The migrations directory's entries (unsorted).
   * @throws AppError `rollback_missing_file` naming `migrations.directory`
   */
  protected async directoryEntries(directory = this.directory): Promise<string[]> {
    try {
      return await readdir(directory);
    } catch (cause) {
      throw new AppError({
        code: 'rollback_missing_file',
        message: `cannot read migrations directory ${directory}`,
        cause,
        userMessage: words`The migrations directory of ${strong(this.db.service)} cannot be read. Check ${code('migrations.directory')} in services.yaml.`,
      });
    }
  }
}

/**
 * A tool's own session advisory lock (node-pg-migrate `PG_MIGRATE_LOCK_ID`, golang-migrate's
 * per-table key), taken without waiting on the rollback-lock session so the tool's own `up`
 * cannot interleave with the rollback. `key` may depend on the database (read on `client`).
 * Held by someone else: `rollback_tool_locked`, retryable (the rollback waits for the migration).
 */
export function advisoryToolLock(
  service: string,
  what: string,
  key: (client: pg.ClientBase) => Promise<bigint>,
): ToolLock {
  return {
    take: async (client) => {
      const k = await key(client);
      const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [k.toString()]);
      if (got.rows[0]?.ok) return { tookOverStaleLock: false, toolLock: `${what} (${k})` };
      throw new AppError({
        code: 'rollback_tool_locked',
        message: `${what} ${k} is held`,
        retryable: true,
        userMessage: words`A migration is running on ${strong(service)} (${what} ${k} is held). The rollback waits until it ends. See who holds it with ${code('/migrate triage')}.`,
      });
    },
    release: async (client) => {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [(await key(client)).toString()]);
    },
  };
}
