import pg from 'pg';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';

/** Network failures that mean "nothing answers there", as node's `net` and `dns` name them. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
]);

/** How to start PostgreSQL on the machines the README names (Debian cluster, systemd, the compose stack). */
export const START_POSTGRES_HINT =
  'Start it: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (Debian), `sudo systemctl start postgresql`, or `docker compose up -d postgres`.';

/** `host:port/database` of a connection string, never its password. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return redactSecrets(url);
  }
}

/** The foreign error's code (`ECONNREFUSED`, a SQLSTATE), also from an AggregateError's first error (node's dual-stack connect). */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string') return e.code;
  return Array.isArray(e?.errors) && e.errors.length ? codeOf(e.errors[0]) : undefined;
}

/**
 * Wraps a connect failure to PostgreSQL in an AppError that names the server and how to
 * start it.
 * @param what who the database is for, e.g. "the bot's state database (DATABASE_URL)"
 */
export function postgresUnreachable(what: string, url: string, err: unknown): AppError {
  const code = codeOf(err) ?? 'unknown';
  const reason = err instanceof Error ? redactSecrets(err.message) : String(err);
  return new AppError({
    code: 'postgres_unreachable',
    message: `PostgreSQL for ${what} at ${describePgUrl(url)} is not reachable (${code}: ${reason}). ${UNREACHABLE.has(code) ? START_POSTGRES_HINT : 'Check the connection string, user and password.'}`,
    cause: err,
    retryable: true,
  });
}

/**
 * Makes sure the database named by `url` exists: connects to it, and when PostgreSQL
 * answers `3D000 invalid_catalog_name` ("database … does not exist"), connects to the
 * server's `postgres` database and runs `CREATE DATABASE` (a concurrent creator's
 * `42P04 duplicate_database` counts as success). Used for the state database in every mode
 * and for the drill's demo service database.
 * @returns `created` or `existed`
 * @throws AppError `postgres_unreachable` naming the server and the command that starts it;
 *   `postgres_create_database_failed` when the user may not create databases
 */
export async function ensureDatabase(url: string, what: string): Promise<'created' | 'existed'> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await probe.connect();
    return 'existed';
  } catch (err) {
    if (codeOf(err) !== '3D000') throw postgresUnreachable(what, url, err);
  } finally {
    await probe.end().catch(() => undefined);
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return 'created';
  } catch (err) {
    if (codeOf(err) === '42P04') return 'existed';
    if (UNREACHABLE.has(codeOf(err) ?? '')) throw postgresUnreachable(what, url, err);
    throw new AppError({
      code: 'postgres_create_database_failed',
      message: `Database ${name} for ${what} does not exist at ${describePgUrl(url)} and could not be created (${codeOf(err) ?? 'error'}: ${redactSecrets(err instanceof Error ? err.message : String(err))}). Create it (\`createdb ${name}\`) or give the user CREATEDB.`,
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Drops the database named by `url` (`DROP DATABASE … WITH (FORCE)`, PostgreSQL 13+, which
 * ends its sessions) and creates it empty. Only for databases the bot owns outright: the
 * drill's state and demo databases.
 * @throws AppError `postgres_unreachable`
 */
export async function recreateDatabase(url: string, what: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (err) {
    throw postgresUnreachable(what, url, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
