import type { SnapshotProgress } from './snapshot-provider.js';

/** What to restore: a snapshot, or (RDS instances) a point in time. Always to a new target. */
export interface RestoreRequest {
  incidentId: string;
  requestedBy: string;
  snapshotId?: string;
  /** Point in time to restore to (RDS instances only). */
  to?: Date;
  /** The new instance / cluster / database, from {@link Restorer.targetName}. */
  target: string;
}

/** Where the restored copy is. */
export interface RestoreOutcome {
  identifier: string;
  /** `host:port` of an RDS copy, or a connection string without password for a pg_dump copy. */
  endpoint: string;
  elapsedMs: number;
  /** Extra step people must take before connecting (Aurora: add a writer instance). */
  note?: string;
}

/**
 * The Restorer port (runbook 003 "Restore from backup": restore to a new DB
 * instance, never overwrite production). Adapters: RDS instance / Aurora cluster restores
 * and pg_restore into a new database.
 */
export interface Restorer {
  /** Whether a point-in-time restore (`--to`) is possible with this provider. */
  readonly supportsPointInTime: boolean;
  /** Name of the new copy for a restore started at `at`: `<source>-recovery-<yyyymmdd-hhmm>` or `<db>_recovery_<yyyymmdd_hhmm>`. */
  targetName(at: Date): string;
  /**
   * Restores and waits until the copy is usable.
   * @throws AppError `restore_*` / `snapshot_*` codes; `retryable` for waits and throttling
   */
  restore(req: RestoreRequest, onProgress?: SnapshotProgress): Promise<RestoreOutcome>;
}
