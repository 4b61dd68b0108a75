import pg from 'pg';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { code, words } from '../../shared/words.js';
import { isConnectionError } from './connect.js';

/**
 * Errors of the bot's own state database (`DATABASE_URL`): incidents, events, approvals and the
 * outbox live there, so an outage of it is not an outage of a service database and is never
 * reported as one.
 */

/**
 * Maps an error of the state database: a connection error becomes `state_db_unreachable`
 * (retryable: jobs wait and resume, people are told it is the bot's own database); anything
 * else, and an AppError, is returned as it is.
 */
export function stateDbError(err: unknown): unknown {
  if (err instanceof AppError || !isConnectionError(err)) return err;
  const e = err as { code?: string; message?: string };
  return new AppError({
    code: 'state_db_unreachable',
    message: `state database unreachable: ${redactSecrets(e.message ?? String(err))}`,
    cause: err,
    retryable: true,
    userMessage: words`migrate-bot's own state database (${code('DATABASE_URL')}) is unreachable (${e.code ?? 'connection lost'}), so nothing could be read or recorded. Service databases are not affected; running work waits and resumes when it is back. Try again in a minute.`,
  });
}

/** A promise whose rejection is mapped by {@link stateDbError}; anything else (a submittable, undefined) as it is. */
function mapped<T>(result: T): T {
  return result instanceof Promise ? (result.catch((err: unknown) => Promise.reject(stateDbError(err))) as T) : result;
}

/**
 * A pool on the state database whose errors say so: `query`, `connect` and the queries of every
 * client it hands out reject with `state_db_unreachable` when the database cannot be reached or
 * drops the session ({@link stateDbError}), so a repository, the outbox or a lock never has to
 * tell its database apart from a service's. Pool errors of idle clients go to `onIdleError`.
 */
export function createStatePool(config: pg.PoolConfig, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', onIdleError);
  pool.on('connect', (client) => {
    // A session the state database drops while checked out (an outage, a restart) emits `error` too;
    // its pending query rejects anyway, so the event is logged, never left to crash the process.
    client.on('error', onIdleError);
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => mapped(query(...args))) as typeof client.query;
  });
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => mapped(query(...args))) as typeof pool.query;
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  pool.connect = ((...args: unknown[]) => mapped(connect(...args))) as typeof pool.connect;
  return pool;
}
