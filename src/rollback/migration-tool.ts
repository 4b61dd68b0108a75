import type { Duration } from '../config/duration.js';
import type { AppliedMigration, PlanStep } from './plan.js';

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
   * advisory lock (one rollback per database, whatever service names it) and the
   * knex lock row, released in `finally` (node-pg-migrate's pattern).
   * @throws AppError `rollback_already_running` when another holder has it
   */
  withRollbackLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs one down migration with `lock_timeout` and removes its tracking-table row,
   * in one transaction unless the migration opted out of transactions.
   * @returns wall time, ms
   * @throws AppError `rollback_lock_timeout` (SQLSTATE 55P03), `rollback_step_failed`
   */
  runDown(step: PlanStep, lockTimeout: Duration): Promise<{ durationMs: number }>;
  close(): Promise<void>;
}
