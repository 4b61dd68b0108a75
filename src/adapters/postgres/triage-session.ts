import pg from 'pg';
import type { Duration } from '../../config/duration.js';
import { AppError } from '../../shared/errors.js';
import type { TriageQueryResult, TriageSession } from '../../triage/triage-session.js';

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
 * Opens one connection to the service database and starts the transaction every
 * triage check runs in:
 * `BEGIN READ ONLY`, then, local to that transaction, `statement_timeout` and
 * `lock_timeout` from services.yaml, `idle_in_transaction_session_timeout` (twice
 * the statement timeout, so a stalled bot never leaves an idle transaction behind),
 * and `application_name = 'migrate-bot-triage'` (also sent at connect time; set
 * again here because a connection string's own `application_name` wins over the
 * connect option in node-postgres). Settings travel as parameters of
 * `set_config(name, value, true)`, which is `SET LOCAL`.
 *
 * Any write through the session fails with SQLSTATE 25006 (read_only_sql_transaction).
 *
 * @throws AppError `triage_connect_failed` (cause: the driver error) when the
 *   connection or the transaction setup fails; the connection is closed first.
 */
export async function openTriageSession(options: TriageSessionOptions): Promise<OpenTriageSession> {
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const client = new pg.Client({
    connectionString: options.url,
    application_name: TRIAGE_APPLICATION_NAME,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: options.statement_timeout.ms + CLIENT_GRACE_MS,
  });
  // A server-side disconnect emits 'error' on the client; the pending query rejects anyway.
  client.on('error', () => undefined);
  let broken = false;

  const close = async (): Promise<void> => {
    const end = (async () => {
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
    await Promise.race([end, giveUp]);
    clearTimeout(timer);
  };

  let pid: number;
  try {
    await client.connect();
    await client.query('BEGIN READ ONLY');
    const setup = await client.query<{ pid: number }>(
      `SELECT set_config('statement_timeout', $1, true),
              set_config('lock_timeout', $2, true),
              set_config('idle_in_transaction_session_timeout', $3, true),
              set_config('application_name', $4, true),
              pg_backend_pid() AS pid`,
      [options.statement_timeout.text, options.lock_timeout.text, String(2 * options.statement_timeout.ms), TRIAGE_APPLICATION_NAME],
    );
    pid = setup.rows[0]!.pid;
  } catch (cause) {
    broken = true;
    await close();
    throw new AppError({ code: 'triage_connect_failed', message: 'could not open a triage session', cause, retryable: true });
  }

  return {
    pid,
    escapeIdentifier: (name: string) => pg.escapeIdentifier(name),
    async query<R>(sql: string, params?: readonly unknown[]): Promise<TriageQueryResult<R>> {
      try {
        const result = await client.query({ text: sql, values: params ? [...params] : undefined });
        return { rows: result.rows as R[], columns: result.fields.map((f) => f.name) };
      } catch (err) {
        // No SQLSTATE: the socket or the client-side timer failed; the connection is unusable.
        if (typeof (err as { code?: unknown }).code !== 'string' || !/^[0-9A-Z]{5}$/.test((err as { code: string }).code)) broken = true;
        throw err;
      }
    },
    close,
  };
}
