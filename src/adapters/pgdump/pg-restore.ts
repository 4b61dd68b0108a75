import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { connectClient } from '../postgres/connect.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { utcSecondStamp } from '../../shared/clock.js';
import { pgClientInvocation } from './pg-client-env.js';

const run = promisify(execFile);

/**
 * `<db>_recovery_<yyyymmdd_hhmmss>` (UTC), to the second so two restores in one minute get
 * different targets, cut so it fits PostgreSQL's 63-byte identifiers (PostgreSQL
 * "Identifiers and Key Words": NAMEDATALEN − 1 bytes). The source's name is folded to the
 * bot's own pattern (lowercase letters, digits, `_`), so whatever the service database is
 * called, the target is a name the bot may create and later drop.
 */
export function recoveryDatabaseName(
  sourceDb: string,
  at: Date,
  purpose: 'recovery' | 'rehearsal' = 'recovery',
): string {
  const suffix = `_${purpose}_${utcSecondStamp(at).replace('-', '_')}`;
  let base = sourceDb
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^([^a-z_])/, '_$1');
  while (Buffer.byteLength(base + suffix, 'utf8') > 63) base = base.slice(0, -1);
  return `${base}${suffix}`;
}

/** The database name of a connection string. */
export const databaseOf = (url: string): string => decodeURIComponent(new URL(url).pathname.slice(1));

/** `databaseUrl` with its database replaced by `database`. */
export function withDatabaseName(databaseUrl: string, database: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Refuses a restore target that is not a plain new name or is the source database itself
 * (runbook 003 "Restore to a new DB instance (do not overwrite prod)").
 * @throws AppError `restore_target_invalid`
 */
export function assertRestoreTarget(databaseUrl: string, target: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(target) || target === databaseOf(databaseUrl)) {
    throw new AppError({
      code: 'restore_target_invalid',
      message: `refusing restore target ${target}`,
      userMessage: 'A restore goes to a new database, never the source.',
    });
  }
}

async function withAdmin<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = await connectClient({
    connectionString: databaseUrl,
    application_name: 'migrate-bot-restore',
    connectionTimeoutMillis: 10_000,
  });
  try {
    return await fn(admin);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Whether database `name` exists on the server of `databaseUrl` (pg_database; read-only). */
export function databaseExists(databaseUrl: string, name: string): Promise<boolean> {
  return withAdmin(
    databaseUrl,
    async (c) => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0,
  );
}

/** `CREATE DATABASE target` on the server of `databaseUrl`. @throws AppError `restore_target_exists` */
export async function createDatabase(databaseUrl: string, target: string): Promise<void> {
  await withAdmin(databaseUrl, async (c) => {
    try {
      await c.query(`CREATE DATABASE ${pg.escapeIdentifier(target)}`);
    } catch (cause) {
      if ((cause as { code?: string }).code === '42P04') {
        throw new AppError({
          code: 'restore_target_exists',
          message: `database ${target} exists`,
          cause,
          userMessage: `Database \`${target}\` already exists; nothing was restored over it.`,
        });
      }
      throw cause;
    }
  });
}

/** `DROP DATABASE IF EXISTS target WITH (FORCE)` (PostgreSQL 13+): only for a target this incident created. */
export async function dropDatabase(databaseUrl: string, target: string): Promise<void> {
  assertRestoreTarget(databaseUrl, target);
  await withAdmin(databaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(target)} WITH (FORCE)`));
}

/**
 * `pg_restore --exit-on-error` of a custom-format dump into the existing database `target`
 * (the password travels in PGPASSWORD, never in argv).
 * @returns the target's connection string with the password removed
 * @throws AppError `restore_failed` with pg_restore's first error line
 */
export async function pgRestoreInto(databaseUrl: string, dumpFile: string, target: string): Promise<string> {
  const { url, env } = pgClientInvocation(withDatabaseName(databaseUrl, target), { PGAPPNAME: 'migrate-bot-restore' });
  try {
    await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${url}`, dumpFile], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (cause) {
    const stderr = redactSecrets(String((cause as { stderr?: string }).stderr ?? (cause as Error).message)).trim();
    throw new AppError({
      code: 'restore_failed',
      message: `pg_restore into ${target} failed: ${stderr}`,
      cause,
      userMessage: `pg_restore into \`${target}\` failed: ${stderr.split('\n')[0]}`,
    });
  }
  return url;
}
