import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import pg from 'pg';
import { describeBlockers, type BlockingSession } from '../postgres/rollback-lock.js';

/** What {@link streamPgDump} streamed, and what the sink returned. */
export interface StreamedDump<T> {
  /** Hex sha256 of the archive, computed while it streamed (no second read). */
  sha256: string;
  sizeBytes: number;
  stored: T;
}

/** A pg_dump that exited non-zero, with its stderr (secret-free: the password travels in PGPASSWORD). */
export class PgDumpFailed extends Error {
  constructor(
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`pg_dump exited with ${exitCode ?? 'a signal'}`);
  }
}

const STDERR_CAP = 64 * 1024;

/**
 * Runs pg_dump with its archive on stdout (pg_dump docs: with no `--file` the output goes to
 * stdout; `-Fc` "is compressed by default") and hands the stream to `sink` (a file, an S3
 * upload), hashing and counting the bytes on the way, so the dump is never read back to be
 * hashed. The stream ends only once pg_dump has exited 0: a pg_dump that fails makes the stream
 * fail with {@link PgDumpFailed}, so no sink ever completes a broken dump. pg_dump is killed
 * after `timeoutMs`.
 * @throws {@link PgDumpFailed} when pg_dump exits non-zero; the spawn error when it cannot start;
 *   the sink's own error
 */
export async function streamPgDump<T>(
  options: { bin: string; args: string[]; env: NodeJS.ProcessEnv; timeoutMs: number },
  sink: (archive: Readable) => Promise<T>,
): Promise<StreamedDump<T>> {
  const child = spawn(options.bin, options.args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < STDERR_CAP) stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      exited.then(
        (code) => done(code === 0 ? null : new PgDumpFailed(stderr, code)),
        (err: Error) => done(err),
      );
    },
  });
  child.stdout.on('error', (err) => tap.destroy(err));
  child.once('error', (err) => tap.destroy(err));
  const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  try {
    const stored = await sink(child.stdout.pipe(tap));
    const code = await exited;
    if (code !== 0) throw new PgDumpFailed(stderr, code);
    return { sha256: hash.digest('hex'), sizeBytes, stored };
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The table pg_dump could not lock within `--lock-wait-timeout`, from its stderr
 * (`Query was: LOCK TABLE public.t IN ACCESS SHARE MODE`), or null for any other failure.
 */
export function lockWaitTable(stderr: string): string | null {
  if (!/(lock|statement) timeout/i.test(stderr)) return null;
  return /LOCK TABLE (\S+) IN ACCESS SHARE MODE/i.exec(stderr)?.[1] ?? null;
}

/**
 * Who holds a lock on `table` that ACCESS SHARE waits for (an ACCESS EXCLUSIVE lock: ALTER,
 * DROP, TRUNCATE, VACUUM FULL, LOCK TABLE), from pg_locks and pg_stat_activity, in words for the
 * channel; empty when they are gone by now.
 */
export async function describeLockHolders(databaseUrl: string, table: string): Promise<string> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'migrate-bot-snapshot',
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number; application_name: string; state: string | null; query: string }>(
      `SELECT a.pid, a.application_name, a.state, left(a.query, 200) AS query
         FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
        WHERE l.relation = to_regclass($1) AND l.granted AND l.mode = 'AccessExclusiveLock'
        ORDER BY a.pid LIMIT 5`,
      [table],
    );
    const blockers: BlockingSession[] = rows.map((r) => ({
      pid: r.pid,
      applicationName: r.application_name,
      state: r.state,
      query: r.query,
    }));
    return blockers.length ? describeBlockers(blockers) : '';
  } catch {
    return '';
  } finally {
    await client.end().catch(() => undefined);
  }
}
