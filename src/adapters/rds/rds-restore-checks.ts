import { code, strong, words } from '../../shared/words.js';
import { DescribeDBClusterSnapshotsCommand, DescribeDBSnapshotsCommand, type RDSClient } from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import type { RestoreCheck, SnapshotSummary } from '../../domain/snapshots/restorer.js';
import { isSnapshotNotFound, mapRdsError, type RdsErrorContext } from './rds-errors.js';
import { describeCluster, describeInstance } from './rds-restore-support.js';

/** Where the checks look: the service's production instance or Aurora cluster. */
export interface RdsRestoreSource {
  client: RDSClient;
  kind: 'instance' | 'cluster';
  /** `snapshot.instance` / `snapshot.cluster`. */
  source: string;
  service: string;
}

interface SnapshotFacts {
  id: string;
  sourceId: string | undefined;
  status: string | undefined;
  createdAt: Date | undefined;
}

/** One snapshot by id (`DescribeDBSnapshots` / `DescribeDBClusterSnapshots`), or null when RDS has none. */
async function describeSnapshot(s: RdsRestoreSource, id: string): Promise<SnapshotFacts | null> {
  const ctx: RdsErrorContext = {
    operation: s.kind === 'cluster' ? 'DescribeDBClusterSnapshots' : 'DescribeDBSnapshots',
    area: 'restore',
    source: { kind: s.kind, id: s.source },
    service: s.service,
    snapshotId: id,
  };
  try {
    if (s.kind === 'cluster') {
      const snap = (await s.client.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })))
        .DBClusterSnapshots?.[0];
      return snap
        ? {
            id: snap.DBClusterSnapshotIdentifier ?? id,
            sourceId: snap.DBClusterIdentifier,
            status: snap.Status,
            createdAt: snap.SnapshotCreateTime,
          }
        : null;
    }
    const snap = (await s.client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0];
    return snap
      ? {
          id: snap.DBSnapshotIdentifier ?? id,
          sourceId: snap.DBInstanceIdentifier,
          status: snap.Status,
          createdAt: snap.SnapshotCreateTime,
        }
      : null;
  } catch (err) {
    if (isSnapshotNotFound(err)) return null;
    throw mapRdsError(err, ctx);
  }
}

/**
 * Read-only checks of a restore before any channel or incident exists (runbook 003 "Restore
 * from backup"): the snapshot exists, is `available` and was taken of this service's source;
 * for a point in time, it is not after the source's `LatestRestorableTime`; the target
 * identifier is not taken.
 * @throws AppError `restore_snapshot_unknown`, `restore_snapshot_foreign`, `snapshot_not_available`,
 *   `restore_time_invalid`, `restore_target_exists`, or a mapped RDS error
 */
export async function checkRdsRestore(s: RdsRestoreSource, req: RestoreCheck): Promise<void> {
  const what = s.kind === 'cluster' ? 'Aurora cluster' : 'instance';
  if (req.snapshotId) {
    const snap = await describeSnapshot(s, req.snapshotId);
    if (!snap) {
      throw new AppError({
        code: 'restore_snapshot_unknown',
        message: `no RDS snapshot ${req.snapshotId}`,
        details: { snapshotId: req.snapshotId },
        userMessage: words`RDS has no snapshot ${code(req.snapshotId)}. Nothing was opened.`,
      });
    }
    if ((snap.sourceId ?? '').toLowerCase() !== s.source.toLowerCase()) {
      throw new AppError({
        code: 'restore_snapshot_foreign',
        message: `snapshot ${snap.id} is of ${snap.sourceId}, not ${s.source}`,
        userMessage: words`Snapshot ${code(snap.id)} was taken of ${code(snap.sourceId ?? 'unknown')}, not of ${strong(s.service)}'s ${what} ${code(s.source)}. Nothing was opened.`,
      });
    }
    if (snap.status !== 'available') {
      throw new AppError({
        code: 'snapshot_not_available',
        message: `snapshot ${snap.id} is ${snap.status}`,
        userMessage: words`Snapshot ${code(snap.id)} is ${code(snap.status ?? 'unknown')}, not ${code('available')}, so it cannot be restored yet. Nothing was opened.`,
      });
    }
  } else if (req.to && s.kind === 'instance') {
    const source = await describeInstance(s.client, s.source).catch((err: unknown) => {
      throw mapRdsError(err, {
        operation: 'DescribeDBInstances',
        area: 'restore',
        source: { kind: 'instance', id: s.source },
        service: s.service,
      });
    });
    const latest = source?.LatestRestorableTime;
    if (latest && req.to.getTime() > latest.getTime()) {
      throw new AppError({
        code: 'restore_time_invalid',
        message: `restore time ${req.to.toISOString()} is after ${s.source}'s latest restorable time ${latest.toISOString()}`,
        userMessage: words`${code(s.source)} can be restored to at most ${latest.toISOString()} (its latest restorable time); ${req.to.toISOString()} is later. Nothing was opened.`,
      });
    }
  }
  const ctx: RdsErrorContext = {
    operation: s.kind === 'cluster' ? 'DescribeDBClusters' : 'DescribeDBInstances',
    area: 'restore',
    service: s.service,
    target: req.target,
  };
  const taken = await (s.kind === 'cluster'
    ? describeCluster(s.client, req.target)
    : describeInstance(s.client, req.target)
  ).catch((err: unknown) => {
    throw mapRdsError(err, ctx);
  });
  if (taken) {
    throw new AppError({
      code: 'restore_target_exists',
      message: `${req.target} exists`,
      userMessage: words`An ${what} named ${code(req.target)} already exists; a restore always makes a new one. Nothing was opened.`,
    });
  }
}

/** The source's newest manual snapshots, newest first (`DescribeDBSnapshots` / `DescribeDBClusterSnapshots` filtered by source). */
export async function recentRdsSnapshots(s: RdsRestoreSource, limit: number): Promise<SnapshotSummary[]> {
  const ctx: RdsErrorContext = {
    operation: s.kind === 'cluster' ? 'DescribeDBClusterSnapshots' : 'DescribeDBSnapshots',
    area: 'restore',
    source: { kind: s.kind, id: s.source },
    service: s.service,
  };
  try {
    const items: SnapshotFacts[] =
      s.kind === 'cluster'
        ? (
            (await s.client.send(new DescribeDBClusterSnapshotsCommand({ DBClusterIdentifier: s.source })))
              .DBClusterSnapshots ?? []
          ).map((x) => ({
            id: x.DBClusterSnapshotIdentifier ?? '?',
            sourceId: x.DBClusterIdentifier,
            status: x.Status,
            createdAt: x.SnapshotCreateTime,
          }))
        : (
            (await s.client.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: s.source }))).DBSnapshots ?? []
          ).map((x) => ({
            id: x.DBSnapshotIdentifier ?? '?',
            sourceId: x.DBInstanceIdentifier,
            status: x.Status,
            createdAt: x.SnapshotCreateTime,
          }));
    return items
      .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))
      .slice(0, limit)
      .map((x) => ({ id: x.id, createdAt: x.createdAt?.toISOString() ?? null, status: x.status ?? 'unknown' }));
  } catch (err) {
    throw mapRdsError(err, ctx);
  }
}
