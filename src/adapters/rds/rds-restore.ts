import {
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  waitUntilDBClusterAvailable,
  waitUntilDBInstanceAvailable,
  type DBCluster,
  type DBInstance,
  type DescribeDBClustersCommandOutput,
  type DescribeDBInstancesCommandOutput,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import { formatDuration, systemClock, type Clock } from '../../shared/clock.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import {
  INSTANCE_IDENTIFIER_MAX_LENGTH,
  rdsIdentifierProblems,
  recoveryInstanceName,
} from '../../snapshots/snapshot-name.js';
import type { SnapshotProgress } from '../../snapshots/snapshot-provider.js';
import {
  isSourceNotFound,
  isTargetAlreadyExists,
  mapRdsError,
  waitTimeoutError,
  type RdsErrorContext,
} from './rds-errors.js';
import { isTerminalRdsStatus, waitWithFailFast, type PolledState, type RdsWaiter } from './rds-waiter.js';

/**
 * Restore to a NEW instance or cluster, never over the source (runbook 003 "Restore from backup:
 * 1. Restore to a new DB instance (do not overwrite prod)"; runbook 004 "Method 3: Point-in-Time
 * Recovery": `restore-db-instance-from-db-snapshot`, `restore-db-instance-to-point-in-time`;
 * `/migrate restore`). Cut-over stays manual (runbook 003 "Plan cutover").
 *
 * Each function: picks the target identifier (`<source>-recovery-<yyyymmdd-hhmm>` unless given),
 * refuses a target equal to the source, copies the source's DB subnet group and VPC security
 * groups when the source still exists (so the copy is reachable where production is), tags the
 * copy `restored-from=<snapshot or source@time>` plus `tags`, waits with the SDK's
 * `waitUntilDBInstanceAvailable` / `waitUntilDBClusterAvailable` (bounded, failing fast on
 * `failed`/`incompatible-*`), and returns the endpoint. A retried job that passes the same
 * `target` finds its own copy (same `restored-from` tag) and continues waiting instead of failing.
 */

/** Options shared by the three restore functions. */
export interface RestoreOptions {
  client: RDSClient;
  /** Longest wait for the copy to become `available`, minutes (restores take 10–60 minutes). */
  maxWaitMinutes: number;
  /** Waiter backoff floor, seconds (default 30, the SDK default). Tests use 1. */
  minDelaySeconds?: number;
  /** Waiter backoff ceiling, seconds (default 60). */
  maxDelaySeconds?: number;
  /**
   * Identifier of the new instance/cluster. Default `recoveryInstanceName(source, clock.now())`;
   * a BullMQ job should compute it once and pass it, so a retry reuses the same copy.
   */
  target?: string;
  /** Extra tags on the copy, e.g. `{ incident, 'requested-by' }`. */
  tags?: Record<string, string>;
  /** Service key under `services:`, named in error messages. */
  service?: string;
  onProgress?: SnapshotProgress;
  clock?: Clock;
  logger?: Logger;
}

/** What a restore produced. */
export interface RestoreResult {
  /** Identifier of the new DB instance or Aurora cluster. */
  identifier: string;
  kind: 'instance' | 'cluster';
  /** Where to connect: the instance endpoint, or the Aurora cluster (writer) endpoint. */
  endpoint: { address: string; port: number };
  /** RDS status when the wait ended (`available`). */
  status: string;
  /** Time from the restore call to `available`, ms. */
  elapsedMs: number;
}

/** The tag that marks a copy as made by one restore request (idempotent retries). */
export const RESTORED_FROM_TAG = 'restored-from';

interface Resolved {
  client: RDSClient;
  maxWaitMinutes: number;
  minDelaySeconds: number;
  maxDelaySeconds: number;
  clock: Clock;
  logger: Logger;
  onProgress: SnapshotProgress | undefined;
  tags: Record<string, string>;
  service: string | undefined;
}

function resolve(options: RestoreOptions): Resolved {
  return {
    client: options.client,
    maxWaitMinutes: options.maxWaitMinutes,
    minDelaySeconds: options.minDelaySeconds ?? 30,
    maxDelaySeconds: options.maxDelaySeconds ?? 60,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    onProgress: options.onProgress,
    tags: options.tags ?? {},
    service: options.service,
  };
}

async function report(r: Resolved, text: string): Promise<void> {
  if (!r.onProgress) return;
  try {
    await r.onProgress(text);
  } catch (err) {
    r.logger.warn({ err }, 'restore progress callback failed; continuing');
  }
}

/** Chooses and checks the target; refuses any identifier of the source (case-insensitive: RDS lower-cases). */
function chooseTarget(options: RestoreOptions, clock: Clock, source: string, alsoNot: Array<string | undefined>): string {
  const target = (options.target ?? recoveryInstanceName(source, clock.now())).toLowerCase();
  const problems = rdsIdentifierProblems(target, INSTANCE_IDENTIFIER_MAX_LENGTH);
  if (problems.length > 0) {
    throw new AppError({
      code: 'restore_name_invalid',
      message: `restore target "${target}" is not a valid RDS identifier: ${problems.join('; ')}`,
      userMessage: `\`${target}\` is not a valid RDS identifier (${problems.join('; ')}). Nothing was restored.`,
      details: { target, problems },
    });
  }
  for (const forbidden of [source, ...alsoNot]) {
    if (forbidden && forbidden.toLowerCase() === target) {
      throw new AppError({
        code: 'restore_target_is_source',
        message: `refusing to restore onto ${forbidden}: the target must be a new identifier`,
        userMessage:
          `Refusing to restore onto \`${forbidden}\`: a restore always goes to a NEW instance and never ` +
          'overwrites production (runbook 003 "Restore to a new DB instance"). Nothing was changed.',
        details: { target, source: forbidden },
      });
    }
  }
  return target;
}

const toTags = (r: Resolved, marker: string): Tag[] => [
  { Key: RESTORED_FROM_TAG, Value: marker },
  ...Object.entries(r.tags).filter(([k]) => k !== RESTORED_FROM_TAG).map(([Key, Value]) => ({ Key, Value })),
];

const tagValue = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((t) => t.Key === key)?.Value;

/** The DB instance `id`, or undefined when RDS has none. @throws the SDK error for anything but not-found */
export async function describeInstance(client: RDSClient, id: string): Promise<DBInstance | undefined> {
  try {
    const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return out.DBInstances?.[0];
  } catch (err) {
    if (isSourceNotFound(err)) return undefined;
    throw err;
  }
}

/** The DB cluster `id`, or undefined when RDS has none. @throws the SDK error for anything but not-found */
export async function describeCluster(client: RDSClient, id: string): Promise<DBCluster | undefined> {
  try {
    const out = await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
    return out.DBClusters?.[0];
  } catch (err) {
    if (isSourceNotFound(err)) return undefined;
    throw err;
  }
}

function activeSecurityGroups(groups: Array<{ VpcSecurityGroupId?: string | undefined; Status?: string | undefined }> | undefined): string[] | undefined {
  const ids = (groups ?? [])
    .filter((g) => g.Status === undefined || g.Status === 'active')
    .map((g) => g.VpcSecurityGroupId)
    .filter((id): id is string => !!id);
  return ids.length > 0 ? ids : undefined;
}

/**
 * Describes the resource whose network (DB subnet group, VPC security groups) the copy should join.
 * A source that no longer exists is fine (the copy then gets RDS defaults, and a warning is logged);
 * any other error stops the restore, so a transient failure never puts the copy in the default VPC.
 */
async function networkOf<T>(
  r: Resolved,
  ctx: RdsErrorContext,
  action: string,
  id: string,
  describe: (id: string) => Promise<T | undefined>,
): Promise<T | undefined> {
  let found: T | undefined;
  try {
    found = await describe(id);
  } catch (err) {
    throw mapRdsError(err, { ...ctx, operation: action });
  }
  if (!found) {
    r.logger.warn({ source: id, target: ctx.target }, 'source no longer exists; the copy gets the default subnet group and security groups');
  }
  return found;
}

/** Runs the restore call; on "already exists" accepts only our own copy (same `restored-from` tag). */
async function startRestore(
  r: Resolved,
  ctx: RdsErrorContext,
  marker: string,
  call: () => Promise<unknown>,
  existingMarker: () => Promise<string | undefined>,
): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (isTargetAlreadyExists(err)) {
      const found = await existingMarker().catch((e: unknown) => {
        throw mapRdsError(e, { ...ctx, operation: 'Describe target' });
      });
      if (found === marker) {
        r.logger.info({ target: ctx.target }, 'restore target already exists from this request (retried job); waiting for it');
        return;
      }
    }
    throw mapRdsError(err, ctx);
  }
}

async function awaitAvailable<I>(
  r: Resolved,
  ctx: RdsErrorContext,
  waiter: RdsWaiter<I>,
  input: I,
  readPoll: (output: unknown) => PolledState | undefined,
): Promise<number> {
  const outcome = await waitWithFailFast({
    client: r.client,
    waiter,
    input,
    maxWaitSeconds: r.maxWaitMinutes * 60,
    minDelaySeconds: r.minDelaySeconds,
    maxDelaySeconds: r.maxDelaySeconds,
    read: readPoll,
    isTerminal: isTerminalRdsStatus,
    isNotFound: isSourceNotFound,
    now: () => r.clock.now().getTime(),
  });
  switch (outcome.kind) {
    case 'available':
      return outcome.elapsedMs;
    case 'timeout':
      throw waitTimeoutError(ctx, outcome.error);
    case 'terminal':
    case 'gone': {
      const status = outcome.kind === 'gone' ? 'deleted (no longer found)' : outcome.status;
      throw new AppError({
        code: 'restore_failed',
        message: `restore to ${ctx.target} ended as ${status}`,
        userMessage:
          `The restored copy \`${ctx.target}\` ended as \`${status}\` instead of \`available\`. Check RDS events for it ` +
          'in the AWS console. Production was not touched.',
        details: { target: ctx.target, rdsStatus: status },
      });
    }
    case 'error':
      throw mapRdsError(outcome.error, ctx);
  }
}

function snapshotNotFound(snapshotId: string): AppError {
  return new AppError({
    code: 'snapshot_not_found',
    message: `snapshot ${snapshotId} not found (empty Describe result)`,
    userMessage: `RDS has no snapshot named \`${snapshotId}\`. Check the ID in the AWS console. Nothing was restored.`,
    details: { snapshotId },
  });
}

function noEndpoint(ctx: RdsErrorContext): AppError {
  return new AppError({
    code: 'restore_failed',
    message: `restored ${ctx.target} is available but RDS reports no endpoint`,
    retryable: true,
    userMessage: `\`${ctx.target}\` is available but RDS did not report its endpoint yet. Check the AWS console.`,
    details: { target: ctx.target },
  });
}

const readInstancePoll = (output: unknown): PolledState | undefined => {
  const status = (output as DescribeDBInstancesCommandOutput).DBInstances?.[0]?.DBInstanceStatus;
  return status ? { status } : undefined;
};

const readClusterPoll = (output: unknown): PolledState | undefined => {
  const status = (output as DescribeDBClustersCommandOutput).DBClusters?.[0]?.Status;
  return status ? { status } : undefined;
};

async function finishInstance(r: Resolved, ctx: RdsErrorContext, target: string, startedAt: number): Promise<RestoreResult> {
  await awaitAvailable(r, ctx, waitUntilDBInstanceAvailable, { DBInstanceIdentifier: target }, readInstancePoll);
  const instance = await describeInstance(r.client, target).catch((e: unknown) => {
    throw mapRdsError(e, { ...ctx, operation: 'DescribeDBInstances' });
  });
  const address = instance?.Endpoint?.Address;
  const port = instance?.Endpoint?.Port;
  if (!instance || !address || port === undefined) throw noEndpoint(ctx);
  const elapsedMs = r.clock.now().getTime() - startedAt;
  await report(r, `\`${target}\` available after ${formatDuration(elapsedMs)} at \`${address}:${port}\``);
  return {
    identifier: target,
    kind: 'instance',
    endpoint: { address, port },
    status: instance.DBInstanceStatus ?? 'available',
    elapsedMs,
  };
}

/**
 * Waits until DB instance `id` is `available` with the restore's waiter settings (bounded by
 * `maxWaitMinutes`, failing fast on `failed`/`incompatible-*`).
 * @returns ms waited
 * @throws AppError `restore_wait_timeout` (retryable), `restore_failed`
 */
export function waitForInstance(options: RestoreOptions, ctx: RdsErrorContext, id: string): Promise<number> {
  return awaitAvailable(resolve(options), ctx, waitUntilDBInstanceAvailable, { DBInstanceIdentifier: id }, readInstancePoll);
}

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
    operation: 'RestoreDBInstanceFromDBSnapshot', area: 'restore', source: { kind: 'instance', id: source },
    service: r.service, snapshotId, maxWaitMinutes: r.maxWaitMinutes,
  };
  let snapshot;
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
  const networkSource = await networkOf(r, ctx, 'DescribeDBInstances', snapshot.DBInstanceIdentifier ?? source,
    (id) => describeInstance(client, id));
  const marker = snapshotId;
  const startedAt = r.clock.now().getTime();
  await startRestore(r, ctx, marker, () =>
    client.send(new RestoreDBInstanceFromDBSnapshotCommand({
      DBInstanceIdentifier: target,
      DBSnapshotIdentifier: snapshotId,
      DBSubnetGroupName: networkSource?.DBSubnetGroup?.DBSubnetGroupName,
      VpcSecurityGroupIds: activeSecurityGroups(networkSource?.VpcSecurityGroups),
      Tags: toTags(r, marker),
    })),
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
    operation: 'RestoreDBInstanceToPointInTime', area: 'restore', source: { kind: 'instance', id: source },
    service: r.service, target, maxWaitMinutes: r.maxWaitMinutes,
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
  await startRestore(r, ctx, marker, () =>
    client.send(new RestoreDBInstanceToPointInTimeCommand({
      SourceDBInstanceIdentifier: source,
      TargetDBInstanceIdentifier: target,
      ...(restoreTime === 'latest' ? { UseLatestRestorableTime: true } : { RestoreTime: restoreTime }),
      DBSubnetGroupName: sourceInstance?.DBSubnetGroup?.DBSubnetGroupName,
      VpcSecurityGroupIds: activeSecurityGroups(sourceInstance?.VpcSecurityGroups),
      Tags: toTags(r, marker),
    })),
    async () => tagValue((await describeInstance(client, target))?.TagList, RESTORED_FROM_TAG),
  );
  await report(r, `Restoring \`${source}\` as of ${restoreTime === 'latest' ? 'its latest restorable time' : restoreTime.toISOString()} to new instance \`${target}\`… creating`);
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
    operation: 'RestoreDBClusterFromSnapshot', area: 'restore', source: { kind: 'cluster', id: source },
    service: r.service, snapshotId, maxWaitMinutes: r.maxWaitMinutes,
  };
  let snapshot;
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
  const networkSource = await networkOf(r, ctx, 'DescribeDBClusters', snapshot.DBClusterIdentifier ?? source,
    (id) => describeCluster(client, id));
  const marker = snapshotId;
  const startedAt = r.clock.now().getTime();
  await startRestore(r, ctx, marker, () =>
    client.send(new RestoreDBClusterFromSnapshotCommand({
      DBClusterIdentifier: target,
      SnapshotIdentifier: snapshotId,
      Engine: snapshot.Engine,
      EngineVersion: snapshot.EngineVersion,
      DBSubnetGroupName: networkSource?.DBSubnetGroup,
      VpcSecurityGroupIds: activeSecurityGroups(networkSource?.VpcSecurityGroups),
      Tags: toTags(r, marker),
    })),
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
  return { identifier: target, kind: 'cluster', endpoint: { address, port }, status: cluster.Status ?? 'available', elapsedMs };
}

