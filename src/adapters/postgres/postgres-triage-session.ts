import { BOT_QUERY_TAG } from '../../domain/rollback/usage.js';
import pg from 'pg';
import { connectClient } from './connect.js';
import type { Duration } from '../../config/duration.js';
import { AppError } from '../../shared/errors.js';
import type { TriageQueryResult, TriageSession } from '../../domain/triage/triage-session.js';

/** `application_name` of every triage connection, so DBAs (and our own checks) can tell them apart. */
export const TRIAGE_APPLICATION_NAME = 'migrate-bot-triage';
/** Default connect timeout, ms: an unreachable database fails every check within this. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** Client-side grace beyond `statement_timeout`, ms, before a silent server is given up on. */
export const CLIENT_GRACE_MS = 2000;

/** Where and under which limits to open a triage session. */
export interface TriageSessionOptions {
  /** Connection string (secret: never logged or posted unredacted). */
  url: string;
  statement_timeout: Duration;
  lock_timeout: Duration;
  /** Connect timeout, ms; default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
}

/** A triage session on its own connection; `close()` rolls back and disconnects, never throws. */
export interface OpenTriageSession extends TriageSession {
  /** Server process ID of this connection (pg_backend_pid()). */
  readonly pid: number;
  close(): Promise<void>;
}

/**
 * One triage connection that runs each check in a transaction of its own (so several checks
 * share a connection, and one that timed out does not spoil the next): `begin()` starts it,
 * the session's `close()` rolls it back. `broken` is true once the socket failed; then the
 * runner opens a new connection.
 */
export interface TriageConnection {
  readonly pid: number;
  readonly broken: boolean;
  /** `BEGIN READ ONLY` with the limits; the returned session's `close()` ends only the transaction. */
  begin(): Promise<OpenTriageSession>;
  /** Ends the connection; never throws, gives up after 1 s on a silent server. */
  close(): Promise<void>;
}

/**
 * Opens one connection to the service database for triage (`application_name =
 * 'migrate-bot-triage'`, connect timeout, a client-side query timeout of `statement_timeout` +
 * {@link CLIENT_GRACE_MS}). Each check then runs in a transaction from `begin()`:
 * `BEGIN READ ONLY`, then, local to that transaction, `statement_timeout` and
 * `lock_timeout` from services.yaml, `idle_in_transaction_session_timeout` (twice
 * the statement timeout, so a stalled bot never leaves an idle transaction behind),
 * and `application_name` again (a connection string's own `application_name` wins over the
 * connect option in node-postgres). Settings travel as parameters of
 * `set_config(name, value, true)`, which is `SET LOCAL`.
 *
 * Any write through a session fails with SQLSTATE 25006 (read_only_sql_transaction).
 *
 * @throws AppError `triage_connect_failed` (cause: the driver error) when the connection
 *   fails; the connection is closed first.
 */
export async function connectTriage(options: TriageSessionOptions): Promise<TriageConnection> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let client: pg.Client;
  try {
    client = await connectClient({
      connectionString: options.url,
      application_name: TRIAGE_APPLICATION_NAME,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: options.statement_timeout.ms + CLIENT_GRACE_MS,
    });
  } catch (cause) {
    throw new AppError({
      code: 'triage_connect_failed',
      message: 'could not open a triage session',
      cause,
      retryable: true,
    });
  }
  let broken = false;

  const end = async (): Promise<void> => {
    const ending = (async () => {
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    })();
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
        stream?.destroy?.();
        resolve();
      }, 1000);
    });
    await Promise.race([ending, giveUp]);
    clearTimeout(timer);
  };

  let pid: number;
  try {
    pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  } catch (cause) {
    broken = true;
    await end();
    throw new AppError({
      code: 'triage_connect_failed',
      message: 'could not open a triage session',
      cause,
      retryable: true,
    });
  }

  const run = async <R>(sql: string, params?: readonly unknown[]): Promise<TriageQueryResult<R>> => {
    try {
      // Tagged so pg_stat_statements tells the bot's own reads from the application's (who still uses it).
      const result = await client.query({ text: `${BOT_QUERY_TAG} ${sql}`, values: params ? [...params] : undefined });
      return { rows: result.rows as R[], columns: result.fields.map((f) => f.name) };
    } catch (err) {
      // No SQLSTATE: the socket or the client-side timer failed; the connection is unusable.
      if (typeof (err as { code?: unknown }).code !== 'string' || !/^[0-9A-Z]{5}$/.test((err as { code: string }).code))
        broken = true;
      throw err;
    }
  };

  return {
    pid,
    get broken() {
      return broken;
    },
    async begin() {
      try {
        await run('BEGIN READ ONLY');
        await run(
          `SELECT set_config('statement_timeout', $1, true),
                  set_config('lock_timeout', $2, true),
                  set_config('idle_in_transaction_session_timeout', $3, true),
                  set_config('application_name', $4, true)`,
          [
            options.statement_timeout.text,
            options.lock_timeout.text,
            String(2 * options.statement_timeout.ms),
            TRIAGE_APPLICATION_NAME,
          ],
        );
      } catch (cause) {
        broken = true;
        throw new AppError({
          code: 'triage_connect_failed',
          message: 'could not start a triage transaction',
          cause,
          retryable: true,
        });
      }
      return {
        pid,
        escapeIdentifier: (name: string) => pg.escapeIdentifier(name),
        query: run,
        async close() {
          if (!broken) await run('ROLLBACK').catch(() => undefined);
        },
      };
    },
    close: end,
  };
}

/**
 * One check's session on a connection of its own ({@link connectTriage} then `begin()`);
 * `close()` rolls back and disconnects, never throws.
 * @throws AppError `triage_connect_failed` (cause: the driver error) when the connection or the
 *   transaction setup fails; the connection is closed first.
 */
export async function openTriageSession(options: TriageSessionOptions): Promise<OpenTriageSession> {
  const connection = await connectTriage(options);
  let session: OpenTriageSession;
  try {
    session = await connection.begin();
  } catch (err) {
    await connection.close();
    throw err;
  }
  return { ...session, close: () => connection.close() };
}
