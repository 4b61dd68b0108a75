import { code, words } from '../../shared/words.js';
import type pg from 'pg';
import type { Duration } from '../../config/duration.js';
import type {
  HeldRollbackLock,
  LockHolder,
  RollbackLockOptions,
  StepControl,
} from '../../domain/rollback/migration-tool.js';
import { archiveStatements, type PlanStep } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import {
  describeBlockers,
  rollbackLockHolder,
  tryRollbackLock,
  watchBlockers,
  type BlockingSession,
} from '../postgres/rollback-lock.js';
import { connectServiceDb, type ServiceDb, serviceDbError, withServiceDb } from './service-db.js';
import { isStatementTimeout, StepStopper, stoppedStepError } from './step-stopper.js';

/**
 * The PostgreSQL side every migration-tool adapter shares when it runs downs: the rollback
 * advisory lock, `lock_timeout`, the blocker watch, and the step's SQLSTATE → AppError mapping
 * (connections and reads are in `service-db.ts`). An adapter adds only what its tool does
 * differently: how it reads its tracking table, loads a down, and takes its own lock.
 */

/**
 * A tool's own lock, taken on the rollback-lock session after the bot's advisory lock.
 * `take` returns the lock in words, or null when the tool has none on this database;
 * it throws `rollback_tool_locked` when someone else holds it (unless `ownStale`).
 */
export interface ToolLock {
  take(client: pg.ClientBase, ownStale: boolean): Promise<HeldRollbackLock>;
  release(client: pg.ClientBase): Promise<void>;
}

/**
 * The rollback lock of one service database: a session advisory lock (one rollback per
 * database, PostgreSQL "Advisory Locks") plus the tool's own lock, both on one session
 * that stays open while the rollback runs and also watches who blocks a step.
 */
export class RollbackLockSession {
  /** The session holding the locks while {@link run} runs; null otherwise. */
  private client: pg.Client | null = null;
  /** While {@link run} runs: the one session the downs and tracking reads use, opened on first use. */
  private workClient: pg.Client | null = null;
  private inRun = false;

  constructor(
    private readonly db: ServiceDb,
    private readonly toolLock?: ToolLock,
  ) {}

  /** Who holds the database's rollback advisory lock now, or null. @throws AppError `service_db_unreachable` */
  async holder(): Promise<LockHolder | null> {
    const client = await connectServiceDb(this.db, 'migrate-bot-lock');
    try {
      return await rollbackLockHolder(client);
    } catch (err) {
      throw serviceDbError(err, this.db.service, 'read pg_locks');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Holds both locks while `fn` runs; releases them in `finally` (node-pg-migrate's pattern;
   * ending the session releases the advisory lock even if the explicit release fails).
   * @throws AppError `rollback_already_running` (retryable, `details.holder`), the tool lock's
   *   `rollback_tool_locked`, `service_db_unreachable`
   */
  async run<T>(fn: (lock: HeldRollbackLock) => Promise<T>, options: RollbackLockOptions = {}): Promise<T> {
    const client = await connectServiceDb(this.db, 'migrate-bot-lock');
    let toolLocked = false;
    try {
      if (!(await tryRollbackLock(client))) {
        const holder = await rollbackLockHolder(client).catch(() => null);
        throw new AppError({
          code: 'rollback_already_running',
          message: `another rollback holds the advisory lock on ${this.db.service}'s database (pid ${holder?.pid ?? '?'})`,
          retryable: true,
          details: { holder },
          userMessage:
            `Another rollback holds this database's rollback lock${holder ? ` (pid ${holder.pid}, \`${holder.applicationName || 'no application_name'}\`${holder.since ? `, connected since ${holder.since}` : ''})` : ''}. ` +
            'This one waits and starts when it ends.',
        });
      }
      const lock = this.toolLock
        ? await this.toolLock.take(client, options.ownStaleLock === true)
        : { tookOverStaleLock: false, toolLock: null };
      toolLocked = lock.toolLock !== null;
      this.client = client;
      this.inRun = true;
      return await fn(lock);
    } catch (err) {
      throw serviceDbError(err, this.db.service, 'take the rollback lock');
    } finally {
      this.client = null;
      this.inRun = false;
      await this.workClient?.end().catch(() => undefined);
      this.workClient = null;
      if (toolLocked && this.toolLock) {
        await this.toolLock
          .release(client)
          .catch((err) => this.db.logger.error({ err }, 'could not release the tool lock'));
      }
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Runs `fn` on the rollback's work session: inside {@link run}, one session for every down
   * and tracking read of the rollback (a connection per step would cost more than a small
   * down itself); outside it, a fresh session. A session whose transaction cannot be rolled
   * back after a failure is dropped and the next call connects again.
   * @throws AppError `service_db_unreachable` on connect; whatever `fn` throws
   */
  async work<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    if (!this.inRun) return withServiceDb(this.db, fn);
    this.workClient ??= await connectServiceDb(this.db, 'migrate-bot');
    const client = this.workClient;
    try {
      return await fn(client);
    } catch (err) {
      try {
        await client.query('ROLLBACK');
        await client.query('RESET lock_timeout; RESET statement_timeout');
      } catch {
        if (this.workClient === client) this.workClient = null;
        await client.end().catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * Watches who blocks backend `pid` while `fn` runs (from the lock session; nothing when
   * called outside {@link run}), and maps a failure with {@link stepError}. With `control`,
   * the step is stopped at its deadline or when the signal aborts ({@link StepStopper}).
   * @throws AppError `rollback_lock_timeout`, `rollback_step_failed`, `rollback_step_timeout`,
   *   `rollback_step_stopped`, `service_db_unreachable`
   */
  async watchStep<T>(
    step: PlanStep,
    lockTimeout: Duration,
    pid: number | null,
    fn: () => Promise<T>,
    control?: StepControl,
  ): Promise<T> {
    const watcher = this.client && pid !== null ? watchBlockers(this.client, pid) : null;
    const stopper = control && pid !== null ? new StepStopper(this.db, pid, control) : null;
    let failed = false;
    let failure: unknown;
    let result: T | undefined;
    try {
      result = await (stopper ? Promise.race([fn(), stopper.abandoned]) : fn());
    } catch (err) {
      failed = true;
      failure = err;
    } finally {
      stopper?.dispose();
    }
    const blockers: BlockingSession[] = watcher ? await watcher.stop() : [];
    if (!failed) return result as T; // committed, even if a stop came too late to matter
    const stopped = stopper?.stopped ?? (isStatementTimeout(failure) ? { kind: 'timeout' as const } : null);
    if (stopped && control) throw stoppedStepError(step, control, stopped, failure);
    throw stepError(failure, step, lockTimeout, blockers, this.db.service);
  }
}

/**
 * A down migration's failure in plain words: SQLSTATE 55P03 (lock_not_available, what
 * `lock_timeout` raises) names the sessions that blocked it (runbook 000 "Monitoring During
 * Migrations"); an unreachable database stays retryable; anything else is
 * `rollback_step_failed` with the server's message, redacted.
 */
export function stepError(
  err: unknown,
  step: PlanStep,
  lockTimeout: Duration,
  blockers: BlockingSession[],
  service: string,
): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string };
  const partly = step.transactional
    ? 'This step was rolled back as a whole, so it changed nothing.'
    : 'This step ran outside a transaction and may be partly applied.';
  if (e.code === '55P03') {
    const who = blockers.length
      ? `It was blocked by ${describeBlockers(blockers)}. `
      : 'Another session holds a lock on a table it changes. ';
    return new AppError({
      code: 'rollback_lock_timeout',
      message: `${step.migration}: lock_timeout ${lockTimeout.text} hit: ${e.message}`,
      cause: err,
      details: { blockers },
      userMessage:
        `\`${step.migration}\` could not get its lock within ${lockTimeout.text} (lock_timeout). ${who}${partly} ` +
        'Find the blocking session with `/migrate triage` (runbook 000 "Monitoring During Migrations"), then `/migrate retry` in a quiet moment.',
    });
  }
  const mapped = serviceDbError(err, service, `run down ${step.migration}`);
  if (mapped.code === 'service_db_unreachable') return mapped;
  // Class 23 — integrity constraint violation (PostgreSQL Appendix A): runbook 000 "Constraint violation on ADD CONSTRAINT".
  if (typeof e.code === 'string' && e.code.startsWith('23')) {
    const c = err as { constraint?: string; table?: string; column?: string };
    return new AppError({
      code: 'rollback_constraint_violation',
      message: `${step.migration}: ${redactSecrets(e.message ?? String(err))}`,
      cause: err,
      details: { sqlstate: e.code, constraint: c.constraint ?? null, table: c.table ?? null, column: c.column ?? null },
      userMessage:
        `\`${step.migration}\` failed: ${redactSecrets(e.message ?? 'constraint violation')}: existing rows violate a constraint the down adds back.` +
        (step.transactional
          ? ' The step was rolled back as a whole.'
          : ' The step ran outside a transaction and may be partly applied.'),
    });
  }
  return new AppError({
    code: 'rollback_step_failed',
    message: `${step.migration}: ${redactSecrets(e.message ?? String(err))}`,
    cause: err,
    userMessage:
      `\`${step.migration}\` failed: ${redactSecrets(e.message ?? 'unknown error')}` +
      (step.transactional
        ? ' The step was rolled back as a whole.'
        : ' The step ran outside a transaction and may be partly applied.'),
  });
}

/** The session's backend pid (for the blocker watch). */
export async function backendPid(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return rows[0]!.pid;
}

/** What {@link runSqlDown} runs: the down's statements and the tracking update for the same transaction. */
export interface SqlDown {
  step: PlanStep;
  statements: string[];
  lockTimeout: Duration;
  /** `step_timeout` and the stop signal ({@link StepControl}). */
  control?: StepControl;
  /** Moves the tracking table back (delete the row, set the previous version); throws when the row is gone. */
  track(client: pg.ClientBase): Promise<void>;
}

/**
 * Runs a down made of plain SQL statements on the rollback's work session: with `step.transactional`,
 * `BEGIN`, `SET LOCAL lock_timeout`, the step's archive copies, the statements, the tracking update, `COMMIT` — so a
 * failure or a crash changes nothing; otherwise each statement on its own with a session
 * `lock_timeout`, then the tracking update (PostgreSQL refuses CONCURRENTLY inside a
 * transaction block). Blockers are watched through `session`; a failure rolls back and resets
 * the session ({@link RollbackLockSession.work}).
 * @returns wall time, ms
 * @throws AppError from {@link stepError}
 */
export async function runSqlDown(session: RollbackLockSession, down: SqlDown): Promise<{ durationMs: number }> {
  const started = performance.now();
  await session.work(async (client) => {
    const pid = await backendPid(client);
    const local = down.step.transactional;
    await session.watchStep(
      down.step,
      down.lockTimeout,
      pid,
      async () => {
        if (local) await client.query('BEGIN');
        await setStepTimeouts(client, down.lockTimeout, down.control, local);
        // Archive before destroy: in the down's transaction, or just before a down that has none.
        for (const sql of archiveStatements(down.step)) await client.query(sql);
        for (const sql of down.statements) await client.query(sql);
        await down.track(client);
        if (local) await client.query('COMMIT');
        else await client.query('RESET lock_timeout; RESET statement_timeout');
      },
      down.control,
    );
  });
  return { durationMs: Math.round(performance.now() - started) };
}

/**
 * `lock_timeout` and, with `control`, `statement_timeout` = `step_timeout` for a down's
 * statements: for its transaction (`local`) or the session (reset by the caller afterwards).
 */
export async function setStepTimeouts(
  client: pg.ClientBase,
  lockTimeout: Duration,
  control: StepControl | undefined,
  local: boolean,
): Promise<void> {
  await client.query("SELECT set_config('lock_timeout', $1, $2)", [lockTimeout.text, local]);
  if (control) await client.query("SELECT set_config('statement_timeout', $1, $2)", [control.stepTimeout.text, local]);
}

/**
 * @throws AppError `rollback_tracking_row_missing` when a tracking update matched no row:
 *   someone changed the tracking table during the rollback.
 */
export function assertTracked(rowCount: number | null, migration: string): void {
  if (rowCount === 1) return;
  throw new AppError({
    code: 'rollback_tracking_row_missing',
    message: `tracking row of ${migration} not found`,
    userMessage: words`The tracking table no longer lists ${code(migration)}: someone changed it during the rollback. Stopped.`,
  });
}

/**
 * @throws AppError `rollback_tracking_row_missing` when a tracking update of several migrations
 *   matched another number of rows than `names` (someone changed the tracking table meanwhile).
 */
export function assertAllTracked(rowCount: number | null, names: readonly string[]): void {
  assertTracked(rowCount === names.length ? 1 : 0, names.join(', '));
}
