import type { Duration } from '../config/duration.js';
import type { AppliedMigration, PlanStep } from './plan.js';

/** The session holding a database's rollback lock (pg_locks / pg_stat_activity). */
export interface LockHolder {
  pid: number;
  applicationName: string;
  /** ISO-8601 UTC backend start of the holder, or null when hidden from this role. */
  since: string | null;
}

/** What the rollback lock looks like once held. */
export interface HeldRollbackLock {
  /**
   * True when the tool's own lock (e.g. knex's lock row) was found set by this same incident
   * in an earlier run that crashed, and was taken over rather than refused.
   */
  tookOverStaleLock: boolean;
  /** The tool lock held, in words (e.g. "`public.knex_migrations_lock` is_locked = 1"); null when the tool has none. */
  toolLock: string | null;
}

/** Options of {@link MigrationTool.withRollbackLock}. */
export interface RollbackLockOptions {
  /**
   * The bot's event log says this incident set the tool's lock and never released it (a
   * crashed worker). When the advisory lock is free — no live bot holds it — the tool then
   * takes its lock over instead of refusing; a lock someone else set is never cleared.
   */
  ownStaleLock?: boolean;
}

/**
 * The MigrationTool port (DESIGN.md "rollback/"): reads a service's tracking table
 * and runs its down migrations. Adapter: `adapters/migrations/knex-migration-tool.ts`.
 */
export interface MigrationTool {
  /**
   * Tracking-table rows in apply order.
   * @throws AppError `service_db_unreachable` (retryable) or `tracking_table_missing`
   */
  listApplied(): Promise<AppliedMigration[]>;
  /** Migration file names in the service's migrations directory, sorted. */
  listFiles(): Promise<string[]>;
  /**
   * Builds plan steps for `migrations` (newest first): checks each file exists and has
   * a `down`, reads its transaction setting and captures the SQL its down would issue
   * without touching the database (a dry run).
   * @throws AppError `rollback_missing_file` / `rollback_irreversible`
   */
  describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]>;
  /**
   * Holds the rollback lock of the service's database while `fn` runs: a session
   * advisory lock (one rollback per database, whatever service names it) and the tool's
   * own lock (knex's lock row), released in `finally` (node-pg-migrate's pattern).
   * @throws AppError `rollback_already_running` (retryable; `details.holder` is a {@link LockHolder})
   *   when another session holds the advisory lock, `rollback_tool_locked` when the tool's
   *   lock is held by someone else, `service_db_unreachable` (retryable)
   */
  withRollbackLock<T>(fn: (lock: HeldRollbackLock) => Promise<T>, options?: RollbackLockOptions): Promise<T>;
  /** Who holds the database's rollback lock now, or null (the reconciler's "is a rollback alive?"). */
  rollbackLockHolder(): Promise<LockHolder | null>;
  /**
   * Runs one down migration with `lock_timeout` and removes its tracking-table row,
   * in one transaction unless the migration opted out of transactions.
   * Must run inside {@link withRollbackLock}. When `lock_timeout` is hit, the failure names
   * the sessions that blocked the step (`pg_blocking_pids`, watched while it waited).
   * @returns wall time, ms
   * @throws AppError `rollback_lock_timeout` (SQLSTATE 55P03), `rollback_step_failed`,
   *   `service_db_unreachable` (retryable)
   */
  runDown(step: PlanStep, lockTimeout: Duration): Promise<{ durationMs: number }>;
  close(): Promise<void>;
}
