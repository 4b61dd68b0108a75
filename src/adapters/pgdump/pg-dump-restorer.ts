import { code, strong, words } from '../../shared/words.js';
import { AppError, isAppError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import type {
  Restorer,
  RestoreCheck,
  RestoreHooks,
  RestoreOutcome,
  RestoreRequest,
  SnapshotSummary,
} from '../../domain/snapshots/restorer.js';
import type { SnapshotProgress, SnapshotProvider, SnapshotRecord } from '../../domain/snapshots/snapshot-provider.js';
import type { DumpStore } from './dump-store.js';
import { recordOf } from './pg-dump-provider.js';
import {
  assertRestoreTarget,
  createDatabase,
  databaseExists,
  databaseOf,
  dropDatabase,
  pgRestoreInto,
  recoveryDatabaseName,
  withDatabaseName,
} from './pg-restore.js';
import type { RestorePurpose } from '../../domain/snapshots/snapshot-name.js';

/** Options of {@link PgDumpRestorer}. */
export interface PgDumpRestorerOptions {
  /** Connection string of the service database: its server hosts the new database. */
  databaseUrl: string;
  /** Where dumps and their manifests are (SNAPSHOT_DIR or an S3 bucket). */
  store: DumpStore;
  /** Service name: only this service's dumps can be restored. */
  service: string;
  /** The pg_dump provider's integrity check (size, sha256, `pg_restore --list`). */
  verify: SnapshotProvider['verify'];
  clock: Clock;
}

/**
 * Restorer for pg_dump snapshots: `pg_restore` into a NEW database on the same server
 * (runbook 003 "Restore to a new DB instance (do not overwrite prod)"). The dump's size and
 * sha256 are checked against its manifest and `pg_restore --list` must read it, before the
 * incident opens and again right before the restore; the restore streams it from its store (a
 * directory or S3) into pg_restore and checks the sha256 again on the way. The target database is created by this
 * incident (the event log records it); if `pg_restore` fails, that database is dropped.
 */
export class PgDumpRestorer implements Restorer {
  readonly supportsPointInTime = false;

  constructor(private readonly options: PgDumpRestorerOptions) {}

  targetName(at: Date, purpose: RestorePurpose = 'recovery'): string {
    return recoveryDatabaseName(databaseOf(this.options.databaseUrl), at, purpose);
  }

  connectionUrl(outcome: RestoreOutcome, sourceUrl: string): string {
    return withDatabaseName(sourceUrl, outcome.identifier);
  }

  async recent(limit: number): Promise<SnapshotSummary[]> {
    const manifests = await this.options.store.list(this.options.service);
    return manifests
      .reverse()
      .slice(0, limit)
      .map((m) => ({
        id: m.id,
        createdAt: m.createdAt,
        status: 'available',
        ...(m.sizeBytes !== undefined ? { sizeBytes: m.sizeBytes } : {}),
      }));
  }

  /** The dump's manifest as a snapshot record, after its integrity check. */
  private async verified(snapshotId: string): Promise<SnapshotRecord> {
    const manifest = await this.options.store.readManifest(snapshotId);
    if (!manifest || manifest.service !== this.options.service) {
      throw new AppError({
        code: 'restore_snapshot_unknown',
        message: `no pg_dump snapshot ${snapshotId} of ${this.options.service} in ${this.options.store.where}`,
        details: { snapshotId, foreignService: manifest?.service ?? null },
        userMessage: manifest
          ? words`Snapshot ${code(snapshotId)} is a dump of ${strong(manifest.service)}, not of ${strong(this.options.service)}. Nothing was opened.`
          : words`There is no snapshot ${code(snapshotId)} of ${strong(this.options.service)}. Nothing was opened.`,
      });
    }
    return this.options.verify(recordOf(manifest));
  }

  async check(req: RestoreCheck): Promise<void> {
    if (!req.snapshotId || req.to) {
      throw new AppError({
        code: 'restore_unsupported',
        message: 'pg_dump restores need a snapshot id',
        userMessage: 'pg_dump snapshots restore from a snapshot ID, not to a point in time.',
      });
    }
    assertRestoreTarget(this.options.databaseUrl, req.target);
    await this.verified(req.snapshotId);
    if (await databaseExists(this.options.databaseUrl, req.target)) {
      throw new AppError({
        code: 'restore_target_exists',
        message: `database ${req.target} exists`,
        userMessage: words`Database ${code(req.target)} already exists; a restore never writes into an existing database. Nothing was opened.`,
      });
    }
  }

  async discard(identifier: string, _incidentId: string, onProgress?: SnapshotProgress): Promise<void> {
    // The use case only asks for a database the event log says this incident created.
    assertRestoreTarget(this.options.databaseUrl, identifier);
    await dropDatabase(this.options.databaseUrl, identifier);
    await onProgress?.(`Dropped the half-restored database \`${identifier}\`.`);
  }

  async restore(req: RestoreRequest, hooks: RestoreHooks, onProgress?: SnapshotProgress): Promise<RestoreOutcome> {
    if (!req.snapshotId || req.to) {
      throw new AppError({
        code: 'restore_unsupported',
        message: 'pg_dump restores need a snapshot id',
        userMessage: 'pg_dump snapshots restore from a snapshot ID, not to a point in time.',
      });
    }
    const { databaseUrl } = this.options;
    assertRestoreTarget(databaseUrl, req.target);
    const started = this.options.clock.now().getTime();
    // Integrity before use: the dump must still be the one the manifest describes.
    const record = await this.verified(req.snapshotId);
    if (await databaseExists(databaseUrl, req.target)) {
      if (!hooks.ownsTarget) {
        throw new AppError({
          code: 'restore_target_exists',
          message: `database ${req.target} exists`,
          userMessage: words`Database ${code(req.target)} already exists and was not created by this incident; nothing was restored into it.`,
        });
      }
      // An earlier attempt of this incident created it and stopped half-way: start it again from empty.
      await dropDatabase(databaseUrl, req.target);
      await hooks.targetRemoved?.(req.target);
    }
    await createDatabase(databaseUrl, req.target);
    await hooks.targetCreated(req.target);
    await onProgress?.(`Restoring \`${req.snapshotId}\` into the new database \`${req.target}\` with pg_restore…`);
    try {
      const url = await pgRestoreInto(databaseUrl, await this.options.store.open(record.id), req.target, record.sha256);
      return { identifier: req.target, endpoint: url, elapsedMs: this.options.clock.now().getTime() - started };
    } catch (err) {
      // Never a half-made target: drop the database this incident just created.
      const dropped = await dropDatabase(databaseUrl, req.target).then(
        () => true,
        () => false,
      );
      if (dropped) await hooks.targetRemoved?.(req.target);
      const why = isAppError(err) && err.userMessage ? err.userMessage : 'pg_restore failed.';
      throw new AppError({
        code: 'restore_failed',
        message: `restore of ${req.snapshotId} into ${req.target} failed${dropped ? '; target dropped' : ''}`,
        cause: err,
        details: { target: req.target, dropped, ...(dropped ? {} : { leftover: req.target }) },
        userMessage: `${why} ${dropped ? `The half-restored database \`${req.target}\` was dropped (the bot created it for this incident).` : `The half-restored database \`${req.target}\` could not be dropped: drop it by hand (\`DROP DATABASE ${req.target}\`).`} The source was not touched.`,
      });
    }
  }
}
