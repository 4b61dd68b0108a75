import type { Duration } from '../../config/duration.js';
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

/** A schema-qualified relation, unquoted: `{ schema: 'public', name: 'knex_migrations' }`. */
export interface QualifiedName {
  schema: string;
  name: string;
}

/** What one {@link TrackingProbe} found: problems make triage say "attention". */
export interface ProbeFindings {
  problems: string[];
  notes: string[];
  /** One row per finding: the relation, the row in words, and what it means. */
  rows: Array<{ table: string; row: string; finding: string }>;
  /** True when the tool's own lock is held (knex `is_locked = 1`, an advisory lock taken by another session): the rollback will stop at it. */
  lockHeld?: boolean;
}

/**
 * A read-only look at one part of a tool's tracking state that can stop a rollback: knex's
 * lock row (runbook 004 "Migration Lock"), a dirty version (runbook 001 "Dirty Migration
 * Recovery"), node-pg-migrate's advisory lock. Triage runs `sql` in its read-only session.
 */
export interface TrackingProbe {
  /**
   * The relation the probe reads, checked first with `to_regclass` (no lock), and a column it
   * must have (e.g. `dirty`); null when the probe reads only catalogs.
   */
  relation: (QualifiedName & { column?: string }) | null;
  /** The query; `quoted` is the relation quoted with escapeIdentifier (empty when `relation` is null). At most 100 rows. */
  sql(quoted: string): string;
  /** Findings from the rows; `table` is the relation as regclass text. Pure. */
  evaluate(rows: Array<Record<string, unknown>>, table: string): ProbeFindings;
  /** What to note when `relation` does not exist, e.g. "no lock table public.knex_migrations_lock"; null: say nothing. */
  whenAbsent: string | null;
}

/**
 * What a tool's tracking table looks like, for triage and `/migrate status`, built from
 * services.yaml alone (no connection). Keeps tool words (knex `batch`, `_lock`) inside the
 * adapter that knows them.
 */
export interface TrackingDescription {
  /** `migrations.tool` of services.yaml. */
  tool: string;
  table: QualifiedName;
  /**
   * The newest `limit` rows, newest first, as the runbooks query them (e.g. runbook 004
   * `SELECT * FROM knex_migrations ORDER BY id DESC LIMIT 10`), with a column `name` holding
   * {@link AppliedMigration.name}. `quoted` is the table quoted with escapeIdentifier.
   */
  historySql(quoted: string, limit: number): string;
  /**
   * The tool's grouping of migrations, when rolling back "the latest group" is how its own
   * CLI works (knex `migrate:rollback` reverts the latest batch): the column and its word.
   */
  group?: { column: string; word: string; command: string };
  probes: TrackingProbe[];
}

/** How long a down may run and how to stop it now (`/migrate close --force`). */
export interface StepControl {
  /** statement_timeout of the step's statements and the step's deadline (services.yaml `step_timeout`). */
  stepTimeout: Duration;
  /** Aborted to stop the step now; `signal.reason` is carried on the `rollback_step_stopped` error. */
  signal?: AbortSignal;
  /** After the cancel, how long before the session is terminated, and again before giving up on the step, ms. Default 5000. */
  graceMs?: number;
}

/**
 * The MigrationTool port (DESIGN.md "rollback/"): reads a service's tracking table
 * and runs its down migrations. Adapters live in `adapters/migrations/`, one file per
 * tool, listed once in `adapters/migrations/registry.ts`.
 */
export interface MigrationTool {
  /** The tracking table, its lock and dirty state, as triage shows them. */
  readonly tracking: TrackingDescription;
  /**
   * Tracking-table rows in apply order (ascending {@link AppliedMigration.order}).
   * @throws AppError `service_db_unreachable` (retryable), `tracking_table_missing` or
   *   `tracking_table_unexpected` (names the table, the columns found and those expected)
   */
  listApplied(): Promise<AppliedMigration[]>;
  /** Migration names found in the service's migrations directory, sorted (to tell "not applied" from "unknown"). */
  listFiles(): Promise<string[]>;
  /**
   * Builds plan steps for `migrations` (newest first): checks each file exists and has
   * a down, reads its transaction setting and captures the SQL its down would issue
   * without touching the database (a dry run).
   * @throws AppError `rollback_missing_file` / `rollback_irreversible` (no down, `down = false`,
   *   no rollback file), each with a userMessage
   */
  describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]>;
  /**
   * Holds the rollback lock of the service's database while `fn` runs: a session
   * advisory lock (one rollback per database, whatever service names it) and the tool's
   * own lock (knex's lock row, node-pg-migrate's advisory lock), released in `finally`
   * (node-pg-migrate's pattern).
   * @throws AppError `rollback_already_running` (retryable; `details.holder` is a {@link LockHolder})
   *   when another session holds the advisory lock, `rollback_tool_locked` when the tool's
   *   lock is held by someone else, `service_db_unreachable` (retryable)
   */
  withRollbackLock<T>(fn: (lock: HeldRollbackLock) => Promise<T>, options?: RollbackLockOptions): Promise<T>;
  /** Who holds the database's rollback lock now, or null (the reconciler's "is a rollback alive?"). */
  rollbackLockHolder(): Promise<LockHolder | null>;
  /**
   * Runs one down migration with `lock_timeout` and moves the tracking table back (removes
   * its row, or sets the previous version), in one transaction unless the step is not
   * transactional.
   * Must run inside {@link withRollbackLock}. When `lock_timeout` is hit, the failure names
   * the sessions that blocked the step (`pg_blocking_pids`, watched while it waited).
   * With `control`, the step also runs with `statement_timeout` = `control.stepTimeout` and
   * is stopped at that deadline or when `control.signal` aborts: its running statement is
   * cancelled (`pg_cancel_backend`), its session terminated after a grace period
   * (`pg_terminate_backend`), and the call rejects even when a JS down never settles.
   * @returns wall time, ms
   * @throws AppError `rollback_lock_timeout` (SQLSTATE 55P03), `rollback_step_failed`,
   *   `rollback_step_timeout`, `rollback_step_stopped` (`details.reason`: the signal's reason),
   *   `service_db_unreachable` (retryable)
   */
  runDown(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }>;
  /**
   * Runs the one step of a computed plan ({@link PlanStep.computed}): its SQL, computed from the
   * live schema to the target, with `lock_timeout` (and `control` as {@link runDown}), then the
   * tracking table moved to the target the way the tool expects (rows of the reverted migrations
   * deleted; golang-migrate's version set and dirty cleared), in one transaction when no statement
   * must run outside one. Must run inside {@link withRollbackLock}.
   * @returns wall time, ms
   * @throws as {@link runDown}
   */
  runComputed(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }>;
  /**
   * Applies the ups of `migrations` (apply order, a prefix of the tool's files) that the
   * database does not have yet, with the tool's own migrator, as a deploy would: called again with
   * a longer prefix, it applies only the rest. Used only on scratch databases (the fingerprint's
   * reference, the computed plan, `migrate-bot check`), never on a service database. Absent when
   * the tool cannot stop at a given migration.
   * @throws the tool's error when an up fails
   */
  migrateUp?(migrations: AppliedMigration[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs one plan step with the tool: a computed step with {@link MigrationTool.runComputed}, any
 * other with {@link MigrationTool.runDown}. Must run inside {@link MigrationTool.withRollbackLock}.
 * @returns wall time, ms
 * @throws as {@link MigrationTool.runDown}
 */
export function runPlanStep(
  tool: MigrationTool,
  step: PlanStep,
  lockTimeout: Duration,
  control?: StepControl,
): Promise<{ durationMs: number }> {
  return step.computed ? tool.runComputed(step, lockTimeout, control) : tool.runDown(step, lockTimeout, control);
}
