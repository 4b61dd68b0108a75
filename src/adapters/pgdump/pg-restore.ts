import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { connectClient } from '../postgres/connect.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { utcSecondStamp } from '../../shared/clock.js';
import { pgClientInvocation, pgToolEnv } from './pg-client-env.js';

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
 * `pg_restore --exit-on-error` of a custom-format dump, streamed into its stdin, into the
 * existing database `target` (the password travels in PGPASSWORD, never in argv). pg_restore
 * reads a custom-format archive from a pipe in order (PostgreSQL docs, pg_restore: "If not
 * specified, the standard input is used"), which is how pg_dump wrote it; the bytes are hashed
 * on the way and must match `sha256`, so an archive changed since it was checked fails the restore.
 * @returns the target's connection string with the password removed
 * @throws AppError `restore_failed` with pg_restore's first error line, or on a sha256 mismatch
 */
export async function pgRestoreInto(
  databaseUrl: string,
  archive: Readable,
  target: string,
  sha256?: string,
): Promise<string> {
  const { url, env } = pgClientInvocation(withDatabaseName(databaseUrl, target), { PGAPPNAME: 'migrate-bot-restore' });
  const child = spawn('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${url}`], {
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const hash = createHash('sha256');
  const fed = pipeline(
    archive,
    new Transform({
      transform(chunk: Buffer, _e, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    }),
    child.stdin,
  ).catch((err: unknown) => err as Error);
  const [code, feedError] = await Promise.all([exited.catch((e: Error) => e), fed]);
  const failure = (why: string, cause?: unknown) =>
    new AppError({
      code: 'restore_failed',
      message: `pg_restore into ${target} failed: ${why}`,
      cause,
      userMessage: `pg_restore into \`${target}\` failed: ${why.split('\n')[0]}`,
    });
  if (code !== 0) {
    throw failure(
      redactSecrets(stderr.trim() || (code instanceof Error ? code.message : `exit ${code}`)),
      code instanceof Error ? code : undefined,
    );
  }
  if (feedError) throw failure(`the archive could not be read: ${(feedError as Error).message}`, feedError);
  const actual = hash.digest('hex');
  if (sha256 && actual !== sha256) throw failure(`the archive's sha256 is ${actual}, recorded ${sha256}`);
  return url;
}

/** What {@link inspectArchive} read. */
export interface ArchiveInspection {
  /** Entries in the archive's table of contents (`pg_restore --list`). */
  tocEntries: number;
  /** Hex sha256 and size of the whole archive; only when read `whole`. */
  sha256?: string;
  sizeBytes?: number;
}

/**
 * Proves a custom-format archive is readable: `pg_restore --list` reads its table of contents
 * from stdin. With `whole`, every byte is also hashed (flat memory, one read); without, reading
 * stops as soon as pg_restore has the table of contents (the head of the archive: for S3 a
 * partial download).
 * @throws AppError `snapshot_verification_failed` when pg_restore cannot read it
 */
export async function inspectArchive(
  archive: Readable,
  options: { whole: boolean; pgRestorePath?: string },
): Promise<ArchiveInspection> {
  const child = spawn(options.pgRestorePath ?? 'pg_restore', ['--list'], {
    env: pgToolEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let listing = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    listing += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 16 * 1024) stderr += d.toString('utf8');
  });
  let listingOpen = true;
  child.stdin.on('error', () => undefined); // EPIPE once pg_restore has what it needs
  const exited = new Promise<number | Error | null>((resolve) => {
    child.once('error', resolve);
    child.once('close', (code) => {
      listingOpen = false;
      resolve(code);
    });
  });
  const hash = createHash('sha256');
  let sizeBytes = 0;
  try {
    for await (const chunk of archive as AsyncIterable<Buffer>) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      if (listingOpen && !child.stdin.write(chunk)) {
        await Promise.race([once(child.stdin, 'drain').catch(() => undefined), exited]);
      }
      if (!listingOpen && !options.whole) break;
    }
  } finally {
    if (!child.stdin.destroyed) child.stdin.end();
  }
  const code = await exited;
  if (code !== 0) {
    const why = code instanceof Error ? code.message : redactSecrets(stderr.trim()) || `exit ${code}`;
    throw new AppError({
      code: 'snapshot_verification_failed',
      message: `pg_restore --list failed: ${why}`,
      ...(code instanceof Error ? { cause: code } : {}),
      userMessage:
        'The pg_dump snapshot could not be read back with `pg_restore --list`. Do not proceed without a readable snapshot.',
    });
  }
  const tocEntries = listing.split('\n').filter((l) => l && !l.startsWith(';')).length;
  return options.whole ? { tocEntries, sha256: hash.digest('hex'), sizeBytes } : { tocEntries };
}
