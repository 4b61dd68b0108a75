/**
 * The SnapshotProvider port (DESIGN.md "snapshots/"). Runbook 003 "Mandatory
 * pre-action checklist": take a fresh snapshot or logical dump and record its ID
 * before anything changes. Adapters: `adapters/pgdump` (pg_dump custom format),
 * `adapters/rds` (RDS instance and Aurora cluster snapshots), `none` (waived).
 */

/** Which provider made a snapshot; matches `snapshot.provider` in services.yaml. */
export type SnapshotProviderKind = 'pg_dump' | 'rds' | 'rds-cluster' | 'none';

/** Lifecycle of a snapshot as we record it. `available` is the only state that opens the rollback gate. */
export type SnapshotStatus = 'creating' | 'available' | 'failed';

/** What the incident asks a provider to snapshot. */
export interface SnapshotRequest {
  incidentId: string;
  service: string;
  /** The migration being rolled back, for tags and file names (e.g. `007_add_security_tables.ts`). */
  migration: string;
  /** Slack user ID of the requester (tag `requested-by`). */
  requestedBy: string;
  /** Snapshot identifier, `pre-rollback-<service>-<yyyymmdd-hhmmss>` (UTC); see snapshot-name.ts. */
  name: string;
}

/** A snapshot as recorded on the incident and shown in Slack. */
export interface SnapshotRecord {
  /** Provider's identifier: RDS snapshot identifier, or the dump's file name for pg_dump. */
  id: string;
  provider: SnapshotProviderKind;
  status: SnapshotStatus;
  /** ISO-8601 UTC creation time. */
  createdAt: string;
  /** RDS/Aurora snapshot ARN. */
  arn?: string;
  /** Where a pg_dump archive is: an absolute file path, or `s3://bucket/key`. */
  location?: string;
  /** Hex sha256 of a pg_dump archive. */
  sha256?: string;
  /** Size of a pg_dump archive, bytes. */
  sizeBytes?: number;
  /** A pg_dump file's mtime (ms) and inode when it was recorded: unchanged means not rewritten since. */
  file?: { mtimeMs: number; ino: number };
  /** A pg_dump object's S3 ETag when it was recorded: unchanged (with the size) means not rewritten since. */
  etag?: string;
  /** RDS instance `LatestRestorableTime` (ISO-8601 UTC) when the snapshot was verified. */
  latestRestorableTime?: string;
  /** Time from create call to `available`, ms. */
  elapsedMs?: number;
}

/** Progress callback: plain text a human reads in the channel ("creating… 40%"). */
export type SnapshotProgress = (text: string) => Promise<void> | void;

export interface SnapshotProvider {
  readonly kind: SnapshotProviderKind;
  /**
   * Creates the snapshot named `req.name` and waits until it is usable.
   * Idempotent per name: a retried job that finds its own snapshot already
   * existing treats it as success and returns it.
   * @throws AppError (`snapshot_*` codes) with `retryable` set for transient failures.
   */
  create(req: SnapshotRequest, onProgress?: SnapshotProgress): Promise<SnapshotRecord>;
  /**
   * Re-reads a snapshot and checks it is intact (RDS: `Describe*Snapshots` status;
   * pg_dump: the archive's size and sha256 against its manifest, and `pg_restore --list`).
   * @throws AppError `snapshot_not_found` / `snapshot_verification_failed`.
   */
  verify(record: SnapshotRecord, options?: VerifyOptions): Promise<SnapshotRecord>;
}

/** Options of {@link SnapshotProvider.verify}. */
export interface VerifyOptions {
  /**
   * `always` (default) reads a pg_dump file whole; `if_changed` trusts one whose size, mtime and
   * inode are still the recorded ones (the rollback gate, right after the snapshot was taken).
   */
  rehash?: 'always' | 'if_changed';
}
