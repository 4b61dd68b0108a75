import pg from 'pg';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';
import { code, strong, words } from '../../shared/words.js';
import { connectClient, isConnectionError } from '../postgres/connect.js';

/**
 * Sessions on a service database as every migration-tool adapter opens them: connection
 * settings, the SQLSTATE/network error → AppError mapping, short read-only sessions, and the
 * tracking table's columns with the error that names a layout of another tool.
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
  /** How long the plan's dry run of one JS migration function may take, ms ({@link captureWithin}). Default 10 000. */
  captureTimeoutMs?: number;
  logger: Logger;
}

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
  if (isConnectionError(err) || /connect/i.test(msg)) {
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
 * when `session` (a `RollbackLockSession`) is given and holds the rollback lock, else on a short-lived session.
 * @throws AppError from {@link serviceDbError}
 */
export async function readServiceDb<T>(
  db: ServiceDb,
  what: string,
  fn: (client: pg.ClientBase) => Promise<T>,
  session?: { work<R>(fn: (client: pg.Client) => Promise<R>): Promise<R> },
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
export async function withServiceDb<T>(db: ServiceDb, fn: (client: pg.Client) => Promise<T>): Promise<T> {
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
