import { code, strong, words } from '../../shared/words.js';
import pg from 'pg';
import type { Duration } from '../../config/duration.js';
import type { HeldRollbackLock, LockHolder, RollbackLockOptions } from '../../domain/rollback/migration-tool.js';
import type { PlanStep } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';
import {
  describeBlockers,
  rollbackLockHolder,
  tryRollbackLock,
  watchBlockers,
  type BlockingSession,
} from '../postgres/rollback-lock.js';
import { connectClient } from '../postgres/connect.js';

/**
 * The PostgreSQL side every migration-tool adapter shares: connections to the service
 * database, the rollback advisory lock, `lock_timeout`, the blocker watch, and the
 * SQLSTATE → AppError mapping. An adapter adds only what its tool does differently: how it
 * reads its tracking table, loads a down, and takes its own lock.
 */

/** Connection settings of a service database; timeouts in ms. */
export interface ServiceDb {
  /** Service name, for messages. */
  service: string;
  /** Connection string (secret: never logged unredacted). */
  url: string;
  /** Connect timeout, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** statement_timeout for reads of the tracking table, ms. Default 5000. */
  readTimeoutMs?: number;
  logger: Logger;
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  '53300',
  '57P03',
  '3D000',
  '28P01',
  '28000',
]);

/**
 * Maps a pg error from the service database to an AppError: 42P01 (undefined_table) →
 * `tracking_table_missing`; network, login and "database does not exist" →
 * `service_db_unreachable` (retryable; a full server, 53300, included); anything else → `service_db_error`.
 */
export function serviceDbError(err: unknown, service: string, what: string): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string };
  const msg = redactSecrets(e.message ?? String(err));
  if (e.code === '42P01') {
    return new AppError({
      code: 'tracking_table_missing',
      message: `${service}: ${msg}`,
      cause: err,
      userMessage: words`The tracking table of ${strong(service)} does not exist. Check ${code('migrations.table')} and ${code('migrations.schema')} in services.yaml.`,
    });
  }
  if (NETWORK.has(e.code ?? '') || /timeout expired|Connection terminated|connect/i.test(msg)) {
    return new AppError({
      code: 'service_db_unreachable',
      message: `${service}: cannot ${what}: ${msg}`,
      cause: err,
      retryable: true,
      userMessage: words`The database of ${strong(service)} is unreachable (${e.code ?? 'connection failed'}). Nothing was run against it.`,
    });
  }
  return new AppError({
    code: 'service_db_error',
    message: `${service}: ${what}: ${msg}`,
    cause: err,
    retryable: false,
  });
}

/**
 * Opens one session on the service database (waiting out a server that is full or starting up: {@link connectClient}).
 * @throws AppError `service_db_unreachable` (retryable)
 */
export async function connectServiceDb(db: ServiceDb, applicationName: string): Promise<pg.Client> {
  try {
    return await connectClient(
      {
        connectionString: db.url,
        application_name: applicationName,
        connectionTimeoutMillis: db.connectTimeoutMs ?? 5000,
      },
      (client) =>
        client.on('error', (err) =>
          db.logger.warn({ err: redactSecrets(err.message) }, 'service database session error'),
        ),
    );
  } catch (err) {
    throw serviceDbError(err, db.service, 'connect');
  }
}

/**
 * Runs `fn` in a `READ ONLY` transaction with `statement_timeout` (ms from
 * {@link ServiceDb.readTimeoutMs}): reads of the tracking table. On the rollback's work session
 * when `session` is given and holds the rollback lock, else on a short-lived session.
 * @throws AppError from {@link serviceDbError}
 */
export async function readServiceDb<T>(
  db: ServiceDb,
  what: string,
  fn: (client: pg.ClientBase) => Promise<T>,
  session?: RollbackLockSession,
): Promise<T> {
  const read = async (client: pg.ClientBase): Promise<T> => {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query("SELECT set_config('statement_timeout', $1, true)", [`${db.readTimeoutMs ?? 5000}ms`]);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  };
  try {
    return session ? await session.work(read) : await withServiceDb(db, read);
  } catch (err) {
    throw serviceDbError(err, db.service, what);
  }
}

/** Runs `fn` on a fresh session that is ended afterwards. @throws AppError `service_db_unreachable` on connect */
async function withServiceDb<T>(db: ServiceDb, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectServiceDb(db, 'migrate-bot');
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Columns of `table` (pg_attribute, in column order), or null when the table does not
 * exist. Used to tell tracking-table layouts apart and to say which columns were found.
 */
export async function tableColumns(
  client: pg.ClientBase,
  table: { schema: string; name: string },
): Promise<string[] | null> {
  const regclass = `${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)}`;
  const { rows } = await client.query<{ exists: boolean; columns: string[] | null }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists,
            (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_catalog.pg_attribute
              WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped) AS columns`,
    [regclass],
  );
  return rows[0]?.exists ? (rows[0].columns ?? []) : null;
}

/**
 * The errors for a tracking table that is missing or laid out unlike the tool's: names
 * the table, the columns found and the columns expected. Nothing is written on this path.
 */
export function trackingLayoutError(
  service: string,
  tool: string,
  table: { schema: string; name: string },
  found: string[] | null,
  expected: string,
): AppError {
  const name = `${table.schema}.${table.name}`;
  if (found === null) {
    return new AppError({
      code: 'tracking_table_missing',
      message: `${service}: tracking table ${name} does not exist`,
      userMessage: words`The tracking table ${code(name)} of ${strong(service)} does not exist (tool ${code(tool)}, expected columns ${expected}). Check ${code('migrations.table')} and ${code('migrations.schema')} in services.yaml. Nothing was changed.`,
    });
  }
  return new AppError({
    code: 'tracking_table_unexpected',
    message: `${service}: ${name} has columns (${found.join(', ')}), ${tool} expects ${expected}`,
    details: { table: name, found, expected },
    userMessage:
      `The tracking table \`${name}\` of ${service} does not look like a \`${tool}\` tracking table: it has columns ` +
      `${found.length ? found.map((c) => `\`${c}\``).join(', ') : '(none)'}, expected ${expected}. ` +
      'Check `migrations.tool` and `migrations.table` in services.yaml. Nothing was changed.',
  });
}

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
        await client.query('RESET lock_timeout');
      } catch {
        if (this.workClient === client) this.workClient = null;
        await client.end().catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * Watches who blocks backend `pid` while `fn` runs (from the lock session; nothing when
   * called outside {@link run}), and maps a failure with {@link stepError}.
   * @throws AppError `rollback_lock_timeout`, `rollback_step_failed`, `service_db_unreachable`
   */
  async watchStep<T>(step: PlanStep, lockTimeout: Duration, pid: number | null, fn: () => Promise<T>): Promise<T> {
    const watcher = this.client && pid !== null ? watchBlockers(this.client, pid) : null;
    let failed = false;
    let failure: unknown;
    let result: T | undefined;
    try {
      result = await fn();
    } catch (err) {
      failed = true;
      failure = err;
    }
    const blockers: BlockingSession[] = watcher ? await watcher.stop() : [];
    if (failed) throw stepError(failure, step, lockTimeout, blockers, this.db.service);
    return result as T;
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
  /** Moves the tracking table back (delete the row, set the previous version); throws when the row is gone. */
  track(client: pg.ClientBase): Promise<void>;
}

/**
 * Runs a down made of plain SQL statements on the rollback's work session: with `step.transactional`,
 * `BEGIN`, `SET LOCAL lock_timeout`, the statements, the tracking update, `COMMIT` — so a
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
    await session.watchStep(down.step, down.lockTimeout, pid, async () => {
      if (down.step.transactional) {
        await client.query('BEGIN');
        await client.query("SELECT set_config('lock_timeout', $1, true)", [down.lockTimeout.text]);
        for (const sql of down.statements) await client.query(sql);
        await down.track(client);
        await client.query('COMMIT');
      } else {
        await client.query("SELECT set_config('lock_timeout', $1, false)", [down.lockTimeout.text]);
        for (const sql of down.statements) await client.query(sql);
        await down.track(client);
        await client.query('RESET lock_timeout');
      }
    });
  });
  return { durationMs: Math.round(performance.now() - started) };
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
