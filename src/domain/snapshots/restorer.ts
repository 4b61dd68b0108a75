import type { SnapshotProgress } from './snapshot-provider.js';
import type { RestorePurpose } from './snapshot-name.js';

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

/** What {@link Restorer.check} is asked before an incident opens. */
export type RestoreCheck = Pick<RestoreRequest, 'snapshotId' | 'to' | 'target'>;

/** One of a service's snapshots, for the "did you mean" list of an unknown id. */
export interface SnapshotSummary {
  id: string;
  /** ISO-8601 UTC, or null when the provider does not say. */
  createdAt: string | null;
  /** `available`, `creating`, … as the provider reports it. */
  status: string;
  /** Size of a pg_dump file, bytes. */
  sizeBytes?: number;
}

/** Where the restored copy is. */
export interface RestoreOutcome {
  identifier: string;
  /** `host:port` of an RDS copy, or a connection string without password for a pg_dump copy. */
  endpoint: string;
  elapsedMs: number;
  /** Extra resources the restore made for the copy to be usable (Aurora: the writer instance). */
  created?: string[];
}

/**
 * What the restore job tells the restorer about the target, and hears back: the event log
 * is the record of which targets this incident created (so only those are ever dropped).
 */
export interface RestoreHooks {
  /** The event log says this incident created `target` in an earlier attempt (a crashed or retried job). */
  ownsTarget: boolean;
  /** Called right after the target was created, before anything is restored into it. */
  targetCreated(target: string): Promise<void>;
  /** Called after a half-made target this incident created was removed. */
  targetRemoved?(target: string): Promise<void>;
}

/**
 * The Restorer port (runbook 003 "Restore from backup": restore to a new DB
 * instance, never overwrite production). Adapters: RDS instance / Aurora cluster restores
 * and pg_restore into a new database.
 */
export interface Restorer {
  /** Whether a point-in-time restore (`--to`) is possible with this provider. */
  readonly supportsPointInTime: boolean;
  /**
   * Name of the new copy for a restore started at `at`, unique to the second:
   * `<source>-recovery-<yyyymmdd-hhmmss>` or `<db>_recovery_<yyyymmdd_hhmmss>` (`rehearsal` in
   * place of `recovery` for a scratch copy).
   */
  targetName(at: Date, purpose?: RestorePurpose): string;
  /**
   * Connection string of a restored copy, with the source's credentials (`sourceUrl`): the
   * same server and a new database (pg_dump), or the copy's endpoint in place of the host (RDS).
   * Secret: never logged or posted unredacted.
   */
  connectionUrl(outcome: RestoreOutcome, sourceUrl: string): string;
  /**
   * Read-only checks before any channel or incident exists: the snapshot exists, is
   * available, was taken of this service's source and (pg_dump) is intact; the target name is free.
   * @throws AppError `restore_snapshot_unknown` (the caller lists {@link recent}),
   *   `restore_snapshot_foreign`, `snapshot_not_available`, `snapshot_verification_failed`,
   *   `restore_target_exists`, `restore_time_invalid`
   */
  check(req: RestoreCheck): Promise<void>;
  /** The service's newest snapshots, newest first, at most `limit`. */
  recent(limit: number): Promise<SnapshotSummary[]>;
  /**
   * Restores and waits until the copy is usable. Never leaves a half-made target behind
   * silently: a pg_dump target it created is dropped on failure; an RDS copy that fails after
   * the create call is named in the error.
   * @throws AppError `restore_*` / `snapshot_*` codes; `retryable` for waits and throttling
   */
  restore(req: RestoreRequest, hooks: RestoreHooks, onProgress?: SnapshotProgress): Promise<RestoreOutcome>;
  /**
   * Deletes a half-made copy a failed restore left behind, once people approved its deletion:
   * only a resource this incident made (RDS: tagged `incident=<incidentId>`; pg_dump: the
   * recovery database recorded in the event log), with its instances, without a final snapshot.
   * Waits until it is gone.
   * @throws AppError `restore_discard_refused` (not this incident's), mapped provider errors
   */
  discard(identifier: string, incidentId: string, onProgress?: SnapshotProgress): Promise<void>;
}
