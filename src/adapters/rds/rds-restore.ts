import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  waitUntilDBClusterAvailable,
  type DBClusterSnapshot,
  type DBInstance,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import { formatDuration } from '../../shared/clock.js';
import { mapRdsError, type RdsErrorContext } from './rds-errors.js';
import {
  type RestoreOptions,
  type RestoreResult,
  RESTORED_FROM_TAG,
  resolve,
  report,
  chooseTarget,
  toTags,
  tagValue,
  describeInstance,
  describeCluster,
  activeSecurityGroups,
  networkOf,
  startRestore,
  awaitAvailable,
  snapshotNotFound,
  noEndpoint,
  readClusterPoll,
  finishInstance,
} from './rds-restore-support.js';

/**
 * Restore to a NEW instance or cluster, never over the source (runbook 003 "Restore from backup:
 * 1. Restore to a new DB instance (do not overwrite prod)"; runbook 004 "Method 3: Point-in-Time
 * Recovery": `restore-db-instance-from-db-snapshot`, `restore-db-instance-to-point-in-time`;
 * `/migrate restore`). Cut-over stays manual (runbook 003 "Plan cutover").
 *
 * Each function: picks the target identifier (`<source>-recovery-<yyyymmdd-hhmmss>` unless given),
 * refuses a target equal to the source, copies the source's DB subnet group and VPC security
 * groups when the source still exists (so the copy is reachable where production is), tags the
 * copy `restored-from=<snapshot or source@time>` plus `tags`, waits with the SDK's
 * `waitUntilDBInstanceAvailable` / `waitUntilDBClusterAvailable` (bounded, failing fast on
 * `failed`/`incompatible-*`), and returns the endpoint. A retried job that passes the same
 * `target` finds its own copy (same `restored-from` tag) and continues waiting instead of failing.
 */
/**
 * Restores DB snapshot `snapshotId` to a new DB instance (`RestoreDBInstanceFromDBSnapshot`),
 * then waits until it is `available`.
 * @param options.source the production instance (`snapshot.instance`); the target may equal
 *   neither it nor the instance the snapshot was taken of.
 * @throws AppError `restore_target_is_source`, `restore_name_invalid`, `snapshot_not_found`,
 *   `snapshot_not_available` (retryable), `restore_target_exists`, `restore_failed`,
 *   `restore_wait_timeout` (retryable), and other codes of `mapRdsError`.
 */
export async function restoreInstanceFromSnapshot(
  options: RestoreOptions & { snapshotId: string; source: string },
): Promise<RestoreResult> {
  const r = resolve(options);
  const { client } = r;
  const { snapshotId, source } = options;
  const ctx: RdsErrorContext = {
    operation: 'RestoreDBInstanceFromDBSnapshot',
    area: 'restore',
    source: { kind: 'instance', id: source },
    service: r.service,
    snapshotId,
    maxWaitMinutes: r.maxWaitMinutes,
  };
  let snapshot: DBSnapshot | undefined;
  try {
    const out = await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    snapshot = out.DBSnapshots?.[0];
  } catch (err) {
    throw mapRdsError(err, { ...ctx, operation: 'DescribeDBSnapshots' });
  }
  if (!snapshot) throw snapshotNotFound(snapshotId);
  const target = chooseTarget(options, r.clock, source, [snapshot.DBInstanceIdentifier]);
  ctx.target = target;
  if (snapshot.Status !== 'available') {
    throw new AppError({
      code: 'snapshot_not_available',
      message: `snapshot ${snapshotId} is ${snapshot.Status ?? 'unknown'}, not available`,
      retryable: snapshot.Status === 'creating',
      userMessage: `Snapshot \`${snapshotId}\` is \`${snapshot.Status ?? 'unknown'}\`, not \`available\`, so it cannot be restored yet.`,
      details: { snapshotId, rdsStatus: snapshot.Status },
    });
  }
  const networkSource = await networkOf(r, ctx, 'DescribeDBInstances', snapshot.DBInstanceIdentifier ?? source, (id) =>
    describeInstance(client, id),
  );
  const marker = snapshotId;
  const startedAt = r.clock.now().getTime();
  await startRestore(
    r,
    ctx,
    marker,
    () =>
      client.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: target,
          DBSnapshotIdentifier: snapshotId,
          DBSubnetGroupName: networkSource?.DBSubnetGroup?.DBSubnetGroupName,
          VpcSecurityGroupIds: activeSecurityGroups(networkSource?.VpcSecurityGroups),
          Tags: toTags(r, marker),
        }),
      ),
    async () => tagValue((await describeInstance(client, target))?.TagList, RESTORED_FROM_TAG),
  );
  await report(r, `Restoring snapshot \`${snapshotId}\` to new instance \`${target}\`… creating`);
  return finishInstance(r, ctx, target, startedAt);
}

/**
 * Restores instance `source` as it was at `restoreTime` (or its latest restorable time) to a new
 * DB instance (`RestoreDBInstanceToPointInTime`), then waits until it is `available`.
 * Checks `restoreTime` against the source's `LatestRestorableTime` first.
 * @param options.restoreTime a UTC instant, or `'latest'` (`UseLatestRestorableTime`).
 * @throws AppError `restore_target_is_source`, `restore_name_invalid`, `restore_source_not_found`,
 *   `restore_time_invalid`, `restore_target_exists`, `restore_failed`, `restore_wait_timeout`,
 *   and other codes of `mapRdsError`.
 */
export async function restoreInstanceToPointInTime(
  options: RestoreOptions & { source: string; restoreTime: Date | 'latest' },
): Promise<RestoreResult> {
  const r = resolve(options);
  const { client } = r;
  const { source, restoreTime } = options;
  const target = chooseTarget(options, r.clock, source, []);
  const ctx: RdsErrorContext = {
    operation: 'RestoreDBInstanceToPointInTime',
    area: 'restore',
    source: { kind: 'instance', id: source },
    service: r.service,
    target,
    maxWaitMinutes: r.maxWaitMinutes,
  };
  let sourceInstance: DBInstance | undefined;
  try {
    const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: source }));
    sourceInstance = out.DBInstances?.[0];
  } catch (err) {
    throw mapRdsError(err, { ...ctx, operation: 'DescribeDBInstances' });
  }
  const latest = sourceInstance?.LatestRestorableTime;
  if (restoreTime !== 'latest' && latest && restoreTime.getTime() > latest.getTime()) {
    throw new AppError({
      code: 'restore_time_invalid',
      message: `restore time ${restoreTime.toISOString()} is after ${source}'s latest restorable time ${latest.toISOString()}`,
      userMessage:
        `\`${source}\` can be restored to at most ${latest.toISOString()} (its latest restorable time); ` +
        `${restoreTime.toISOString()} is later. Pick an earlier time. Nothing was restored.`,
      details: { source, restoreTime: restoreTime.toISOString(), latestRestorableTime: latest.toISOString() },
    });
  }
  const marker = `${source}@${restoreTime === 'latest' ? 'latest' : restoreTime.toISOString()}`;
  const startedAt = r.clock.now().getTime();
  await startRestore(
    r,
    ctx,
    marker,
    () =>
      client.send(
        new RestoreDBInstanceToPointInTimeCommand({
          SourceDBInstanceIdentifier: source,
          TargetDBInstanceIdentifier: target,
          ...(restoreTime === 'latest' ? { UseLatestRestorableTime: true } : { RestoreTime: restoreTime }),
          DBSubnetGroupName: sourceInstance?.DBSubnetGroup?.DBSubnetGroupName,
          VpcSecurityGroupIds: activeSecurityGroups(sourceInstance?.VpcSecurityGroups),
          Tags: toTags(r, marker),
        }),
      ),
    async () => tagValue((await describeInstance(client, target))?.TagList, RESTORED_FROM_TAG),
  );
  await report(
    r,
    `Restoring \`${source}\` as of ${restoreTime === 'latest' ? 'its latest restorable time' : restoreTime.toISOString()} to new instance \`${target}\`… creating`,
  );
  return finishInstance(r, ctx, target, startedAt);
}

/**
 * Restores Aurora cluster snapshot `snapshotId` to a new DB cluster (`RestoreDBClusterFromSnapshot`,
 * with `Engine` and `EngineVersion` taken from the snapshot, as the API requires `Engine`), then
 * waits until the cluster is `available` and returns its (writer) endpoint.
 * Note: RDS restores the cluster's storage only; it has no DB instances until one is added
 * (`CreateDBInstance` with `DBClusterIdentifier`), so connections need that extra step.
 * @param options.source the production cluster (`snapshot.cluster`).
 * @throws AppError as {@link restoreInstanceFromSnapshot}.
 */
export async function restoreClusterFromSnapshot(
  options: RestoreOptions & { snapshotId: string; source: string },
): Promise<RestoreResult> {
  const r = resolve(options);
  const { client } = r;
  const { snapshotId, source } = options;
  const ctx: RdsErrorContext = {
    operation: 'RestoreDBClusterFromSnapshot',
    area: 'restore',
    source: { kind: 'cluster', id: source },
    service: r.service,
    snapshotId,
    maxWaitMinutes: r.maxWaitMinutes,
  };
  let snapshot: DBClusterSnapshot | undefined;
  try {
    const out = await client.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId }));
    snapshot = out.DBClusterSnapshots?.[0];
  } catch (err) {
    throw mapRdsError(err, { ...ctx, operation: 'DescribeDBClusterSnapshots' });
  }
  if (!snapshot) throw snapshotNotFound(snapshotId);
  const target = chooseTarget(options, r.clock, source, [snapshot.DBClusterIdentifier]);
  ctx.target = target;
  if (snapshot.Status !== 'available') {
    throw new AppError({
      code: 'snapshot_not_available',
      message: `cluster snapshot ${snapshotId} is ${snapshot.Status ?? 'unknown'}, not available`,
      retryable: snapshot.Status === 'creating',
      userMessage: `Snapshot \`${snapshotId}\` is \`${snapshot.Status ?? 'unknown'}\`, not \`available\`, so it cannot be restored yet.`,
      details: { snapshotId, rdsStatus: snapshot.Status },
    });
  }
  if (!snapshot.Engine) {
    throw new AppError({
      code: 'restore_failed',
      message: `cluster snapshot ${snapshotId} reports no Engine; RestoreDBClusterFromSnapshot requires one`,
      userMessage: `RDS did not report the engine of snapshot \`${snapshotId}\`, which a cluster restore needs. Nothing was restored.`,
      details: { snapshotId },
    });
  }
  const networkSource = await networkOf(r, ctx, 'DescribeDBClusters', snapshot.DBClusterIdentifier ?? source, (id) =>
    describeCluster(client, id),
  );
  const marker = snapshotId;
  const startedAt = r.clock.now().getTime();
  await startRestore(
    r,
    ctx,
    marker,
    () =>
      client.send(
        new RestoreDBClusterFromSnapshotCommand({
          DBClusterIdentifier: target,
          SnapshotIdentifier: snapshotId,
          Engine: snapshot.Engine,
          EngineVersion: snapshot.EngineVersion,
          DBSubnetGroupName: networkSource?.DBSubnetGroup,
          VpcSecurityGroupIds: activeSecurityGroups(networkSource?.VpcSecurityGroups),
          Tags: toTags(r, marker),
        }),
      ),
    async () => tagValue((await describeCluster(client, target))?.TagList, RESTORED_FROM_TAG),
  );
  await report(r, `Restoring cluster snapshot \`${snapshotId}\` to new cluster \`${target}\`… creating`);
  await awaitAvailable(r, ctx, waitUntilDBClusterAvailable, { DBClusterIdentifier: target }, readClusterPoll);
  const cluster = await describeCluster(client, target).catch((e: unknown) => {
    throw mapRdsError(e, { ...ctx, operation: 'DescribeDBClusters' });
  });
  const address = cluster?.Endpoint;
  const port = cluster?.Port;
  if (!cluster || !address || port === undefined) throw noEndpoint(ctx);
  const elapsedMs = r.clock.now().getTime() - startedAt;
  await report(r, `\`${target}\` available after ${formatDuration(elapsedMs)} at \`${address}:${port}\``);
  return {
    identifier: target,
    kind: 'cluster',
    endpoint: { address, port },
    status: cluster.Status ?? 'available',
    elapsedMs,
  };
}
