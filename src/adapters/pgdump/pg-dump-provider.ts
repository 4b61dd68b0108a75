import { pgClientInvocation, pgToolEnv } from './pg-client-env.js';
import { code, strong, words } from '../../shared/words.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import type {
  SnapshotProgress,
  SnapshotProvider,
  SnapshotRecord,
  SnapshotRequest,
  VerifyOptions,
} from '../../domain/snapshots/snapshot-provider.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { type DumpManifest, type DumpStore, pruneDumps, type StoredDump } from './dump-store.js';
import { describeLockHolders, lockWaitTable, PgDumpFailed, type StreamedDump, streamPgDump } from './pg-dump-stream.js';
import { inspectArchive } from './pg-restore.js';

const run = promisify(execFile);

/**
 * libpq's words for a server that refuses pg_dump's session for now, not for good: unreachable,
 * no answer, full ("sorry, too many clients already", "too many connections for role", SQLSTATE
 * 53300) or starting up, shutting down or in recovery (57P03).
 */
const TRANSIENT_DUMP_FAILURE =
  /could not connect|timeout expired|Connection refused|too many clients|too many connections|remaining connection slots|the database system is (starting up|shutting down|in recovery mode)/i;

/** Options of the pg_dump provider. */
export interface PgDumpProviderOptions {
  /** Connection string of the service database (secret: the password goes to PGPASSWORD, never to argv). */
  databaseUrl: string;
  /** Where dumps are kept: a directory (SNAPSHOT_DIR) or an S3 bucket. */
  store: DumpStore;
  clock: Clock;
  /** pg_dump / pg_restore binaries; default from PATH. */
  pgDumpPath?: string;
  pgRestorePath?: string;
  /** Kill pg_dump after this long, ms. Default 1 hour. */
  timeoutMs?: number;
  /**
   * pg_dump `--lock-wait-timeout` (a PostgreSQL duration, e.g. `1min`): fail instead of waiting
   * behind an ACCESS EXCLUSIVE lock; the failure names the table and who holds it. Default `1min`.
   */
  lockWaitTimeout?: string;
  /** `snapshot.keep`: keep this many bot-made dumps of the service (oldest removed first). */
  keep?: number;
  /** Snapshot ids that retention must never remove (those of open incidents). */
  protectedIds?: () => Promise<ReadonlySet<string>>;
  /** Where housekeeping (retention) is logged. */
  logger?: Logger;
}

/** `pg_dump --version`'s major version by binary, asked once per process (NaN when it cannot run). */
const CLIENT_MAJOR = new Map<string, Promise<number>>();

function clientMajor(bin: string): Promise<number> {
  let major = CLIENT_MAJOR.get(bin);
  if (!major) {
    major = run(bin, ['--version'], { env: pgToolEnv() }).then(
      (r) => Number(/(\d+)(?:\.\d+)?/.exec(r.stdout)?.[1] ?? NaN),
      () => NaN,
    );
    CLIENT_MAJOR.set(bin, major);
  }
  return major;
}

/** The server's major version (`server_version_num` / 10000), or null when it cannot be read. */
async function serverMajor(databaseUrl: string): Promise<number | null> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 10_000,
    application_name: 'migrate-bot-snapshot',
  });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    return Math.floor(Number(rows[0]?.server_version_num) / 10_000) || null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Snapshot provider that writes a custom-format logical dump (`pg_dump -Fc`) of the
 * service database (runbook 001 "Logical Backup", runbook 002 "Create Pre-Migration
 * Backup") into a {@link DumpStore} (a directory, or S3), hashing it while it streams, reading
 * its table of contents back with `pg_restore --list`, and only then writing the `<name>.json`
 * manifest (sha256, size, incident) that marks it finished, so a crash never leaves a dump that
 * looks finished.
 */
export class PgDumpSnapshotProvider implements SnapshotProvider {
  readonly kind = 'pg_dump' as const;

  constructor(private readonly options: PgDumpProviderOptions) {}

  /** pg_dump's connection string (no password) and its environment (libpq's variables and PGPASSWORD only). */
  private invocation(): { url: string; env: NodeJS.ProcessEnv } {
    return pgClientInvocation(this.options.databaseUrl, { PGAPPNAME: 'migrate-bot-snapshot', PGCONNECT_TIMEOUT: '10' });
  }

  async create(req: SnapshotRequest, onProgress?: SnapshotProgress): Promise<SnapshotRecord> {
    const { store } = this.options;
    // A retried job finds its own finished dump: success, no second dump.
    const existing = await store.readManifest(req.name);
    if (existing) return this.verify(recordOf(existing));

    await this.assertClientCanDump(req.service);
    await store.preflight(req.service);
    const started = this.options.clock.now();
    await onProgress?.(`Snapshot \`${req.name}\` (pg_dump) creating…`);
    const { url, env } = this.invocation();
    let streamed: StreamedDump<StoredDump>;
    try {
      streamed = await streamPgDump(
        {
          bin: this.options.pgDumpPath ?? 'pg_dump',
          args: [
            '--format=custom',
            '--no-password',
            `--lock-wait-timeout=${this.options.lockWaitTimeout ?? '1min'}`,
            `--dbname=${url}`,
          ],
          env,
          timeoutMs: this.options.timeoutMs ?? 3_600_000,
        },
        (archive) => store.write(req.name, archive, req),
      );
    } catch (cause) {
      throw cause instanceof AppError ? cause : await this.dumpError(cause, req.service);
    }
    const { stored } = streamed;
    const record: SnapshotRecord = {
      id: req.name,
      provider: 'pg_dump',
      status: 'available',
      createdAt: started.toISOString(),
      location: stored.location,
      sha256: streamed.sha256,
      sizeBytes: streamed.sizeBytes,
      ...(stored.file ? { file: stored.file } : {}),
      ...(stored.etag ? { etag: stored.etag } : {}),
      elapsedMs: this.options.clock.now().getTime() - started.getTime(),
    };
    // Integrity: pg_restore can read the stored archive's table of contents.
    await inspectArchive(await store.open(req.name), { whole: false, pgRestorePath: this.options.pgRestorePath });
    await store.writeManifest({
      id: record.id,
      service: req.service,
      createdAt: record.createdAt,
      sha256: streamed.sha256,
      sizeBytes: streamed.sizeBytes,
      location: stored.location,
      ...(stored.etag ? { etag: stored.etag } : {}),
      incidentId: req.incidentId,
      migration: req.migration,
    });
    if (this.options.keep !== undefined) {
      const protectedIds = new Set([...((await this.options.protectedIds?.()) ?? []), req.name]);
      const removed = await pruneDumps(store, req.service, this.options.keep, protectedIds);
      // Housekeeping: logged, never posted in an incident's channel.
      if (removed.length)
        this.options.logger?.info(
          { service: req.service, keep: this.options.keep, removed },
          'pg_dump retention removed older dumps',
        );
    }
    // "available" is the incident's own notice (with size and time); the provider says no more.
    return record;
  }

  /**
   * pg_dump refuses a server of a newer major version ("aborting because of server version
   * mismatch", PostgreSQL docs: pg_dump "cannot dump from PostgreSQL servers newer than its own
   * major version"). Checked before anything is written, with a message saying what to install.
   * @throws AppError `snapshot_pg_dump_too_old`; a server that cannot be reached is left to pg_dump's own error
   */
  private async assertClientCanDump(service: string): Promise<void> {
    const [client, server] = await Promise.all([
      clientMajor(this.options.pgDumpPath ?? 'pg_dump'),
      serverMajor(this.options.databaseUrl),
    ]);
    if (Number.isFinite(client) && server !== null && server > client) {
      throw new AppError({
        code: 'snapshot_pg_dump_too_old',
        message: `pg_dump ${client} cannot dump ${service}'s PostgreSQL ${server} server`,
        userMessage: words`The bot's pg_dump is version ${client} and ${strong(service)} runs PostgreSQL ${server}: pg_dump cannot dump a newer server, so no snapshot was taken and nothing ran. Install postgresql-client-${server} (or newer) where the bot runs — the image ships PostgreSQL 18's client — or take the snapshot by hand (runbook 001 "Logical Backup").`,
      });
    }
  }

  /**
   * Checks the dump against its record: size, sha256 and `pg_restore --list`, in one streamed
   * read. With `rehash: 'if_changed'` (the rollback gate) a dump the store says is unchanged (a
   * file's size, mtime and inode; an object's size and ETag) is trusted without reading it
   * again, so approval → rollback does not grow with the dump's size; `'always'` (the default;
   * restores) reads it whole.
   * @throws AppError `snapshot_not_found`, `snapshot_verification_failed`
   */
  async verify(record: SnapshotRecord, options: VerifyOptions = {}): Promise<SnapshotRecord> {
    const { store } = this.options;
    if (options.rehash === 'if_changed' && (await store.unchanged(record.id, record))) {
      return { ...record, status: 'available' };
    }
    const read = await inspectArchive(await store.open(record.id), {
      whole: true,
      pgRestorePath: this.options.pgRestorePath,
    });
    const size = read.sizeBytes!;
    const actual = read.sha256!;
    if (record.sizeBytes !== undefined && size !== record.sizeBytes) {
      throw new AppError({
        code: 'snapshot_verification_failed',
        message: `size of ${record.location ?? record.id} is ${size} bytes, recorded ${record.sizeBytes}`,
        details: { expected: { sizeBytes: record.sizeBytes }, found: { sizeBytes: size } },
        userMessage: words`Snapshot ${code(record.id)} is ${size} bytes but was recorded as ${record.sizeBytes} bytes: it changed after it was taken. Do not use it; take a new snapshot.`,
      });
    }
    if (record.sha256 && actual !== record.sha256) {
      throw new AppError({
        code: 'snapshot_verification_failed',
        message: `sha256 of ${record.location ?? record.id} is ${actual}, recorded ${record.sha256}`,
        details: { expected: { sha256: record.sha256 }, found: { sha256: actual } },
        userMessage: words`Snapshot ${code(record.id)} does not match its recorded sha256 (expected ${code(record.sha256)}, found ${code(actual)}): it changed after it was taken. Do not use it; take a new snapshot.`,
      });
    }
    return { ...record, status: 'available', sha256: actual };
  }

  /**
   * A failed pg_dump in words: a lock it waited for names the table and who holds it; a server
   * that could not be reached, was full or was starting up is retryable (the prepare job tries again).
   */
  private async dumpError(cause: unknown, service: string): Promise<AppError> {
    const stderr = redactSecrets(cause instanceof PgDumpFailed ? cause.stderr : (cause as Error).message).trim();
    const table = lockWaitTable(stderr);
    if (table) {
      const holders = await describeLockHolders(this.options.databaseUrl, table);
      return new AppError({
        code: 'snapshot_lock_wait_timeout',
        message: `pg_dump of ${service} could not lock ${table} within ${this.options.lockWaitTimeout ?? '1min'}`,
        cause,
        userMessage:
          `The pg_dump snapshot of ${service} could not lock \`${table}\` within ${this.options.lockWaitTimeout ?? '1min'} (\`snapshot.lock_wait_timeout\`): ` +
          `${holders ? `it is held by ${holders}` : 'another session holds an ACCESS EXCLUSIVE lock on it'}. Nothing was changed. ` +
          'End or wait out that session (`/migrate triage` shows it), then `/migrate retry`.',
      });
    }
    return new AppError({
      code: 'snapshot_pg_dump_failed',
      message: `pg_dump failed for ${service}: ${stderr}`,
      cause,
      retryable: TRANSIENT_DUMP_FAILURE.test(stderr),
      userMessage: words`The pg_dump snapshot of ${strong(service)} failed: ${stderr.split('\n')[0] ?? 'unknown error'}. Nothing was changed.`,
    });
  }
}

/** A snapshot record from a dump's manifest. */
export function recordOf(m: DumpManifest): SnapshotRecord {
  return {
    id: m.id,
    provider: 'pg_dump',
    status: 'available',
    createdAt: m.createdAt,
    ...(m.location ? { location: m.location } : {}),
    ...(m.sha256 ? { sha256: m.sha256 } : {}),
    ...(m.sizeBytes !== undefined ? { sizeBytes: m.sizeBytes } : {}),
    ...(m.etag ? { etag: m.etag } : {}),
  };
}
