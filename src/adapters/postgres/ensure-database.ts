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

/** The comment a drill puts on every database it creates; the drill drops or reuses nothing without it. */
export const DRILL_MARKER = 'migrate-bot drill';

/** Hosts a drill may use without `--drill-host-ok`: this machine. */
const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Drops and creates afresh a database of the drill (its state database or its demo service
 * database), marked with `COMMENT ON DATABASE … IS 'migrate-bot drill'` (PostgreSQL "COMMENT").
 * A database that exists without that marker is never dropped: the drill refuses and names it,
 * so a `DRILL_DATABASE_URL` pointing at real data cannot destroy it. Hosts other than this
 * machine are refused unless `allowRemoteHost` (`--drill-host-ok`).
 * @throws AppError `drill_database_not_ours` (nothing dropped), `drill_host_refused`, `postgres_unreachable`
 */
export async function recreateDrillDatabase(
  url: string,
  what: string,
  options: { allowRemoteHost?: boolean } = {},
): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!options.allowRemoteHost && !LOCAL_HOSTS.has(target.hostname)) {
    throw new AppError({
      code: 'drill_host_refused',
      message: `The drill runs only on this machine's PostgreSQL; ${what} points at ${describePgUrl(url)}. Nothing was dropped or created. Use a localhost URL, or start with --drill-host-ok if that server is a disposable one.`,
    });
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw postgresUnreachable(what, url, err);
  }
  try {
    const found = await client.query<{ marker: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE datname = $1",
      [name],
    );
    if (found.rowCount && found.rows[0]!.marker !== DRILL_MARKER) {
      throw new AppError({
        code: 'drill_database_not_ours',
        message: `The drill will not drop database ${name} at ${describePgUrl(url)} (${what}): a drill did not create it (its comment is not '${DRILL_MARKER}'). Nothing was dropped. Point the drill at a new database name, or drop ${name} yourself if it really is a leftover.`,
      });
    }
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    await client.query(`COMMENT ON DATABASE ${pg.escapeIdentifier(name)} IS ${pg.escapeLiteral(DRILL_MARKER)}`);
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw postgresUnreachable(what, url, err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
