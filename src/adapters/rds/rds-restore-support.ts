import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
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
} from '../../domain/snapshots/snapshot-name.js';
import type { SnapshotProgress } from '../../domain/snapshots/snapshot-provider.js';
import {
  isSourceNotFound,
  isTargetAlreadyExists,
  mapRdsError,
  waitTimeoutError,
  type RdsErrorContext,
} from './rds-errors.js';
import { isTerminalRdsStatus, waitWithFailFast, type PolledState, type RdsWaiter } from './rds-waiter.js';

/**
 * The pieces the RDS restore functions share (`rds-restore.ts`): options and defaults, target
 * checks, tags, the source's network, the idempotent create call and the bounded waits.
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

/** RestoreOptions with defaults applied. */
export interface Resolved {
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

export function resolve(options: RestoreOptions): Resolved {
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

export async function report(r: Resolved, text: string): Promise<void> {
  if (!r.onProgress) return;
  try {
    await r.onProgress(text);
  } catch (err) {
    r.logger.warn({ err }, 'restore progress callback failed; continuing');
  }
}

/** Chooses and checks the target; refuses any identifier of the source (case-insensitive: RDS lower-cases). */
export function chooseTarget(
  options: RestoreOptions,
  clock: Clock,
  source: string,
  alsoNot: Array<string | undefined>,
): string {
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

export const toTags = (r: Resolved, marker: string): Tag[] => [
  { Key: RESTORED_FROM_TAG, Value: marker },
  ...Object.entries(r.tags)
    .filter(([k]) => k !== RESTORED_FROM_TAG)
    .map(([Key, Value]) => ({ Key, Value })),
];

export const tagValue = (tags: Tag[] | undefined, key: string): string | undefined =>
  tags?.find((t) => t.Key === key)?.Value;

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

export function activeSecurityGroups(
  groups: Array<{ VpcSecurityGroupId?: string | undefined; Status?: string | undefined }> | undefined,
): string[] | undefined {
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
export async function networkOf<T>(
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
    r.logger.warn(
      { source: id, target: ctx.target },
      'source no longer exists; the copy gets the default subnet group and security groups',
    );
  }
  return found;
}

/** Runs the restore call; on "already exists" accepts only our own copy (same `restored-from` tag). */
export async function startRestore(
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
        r.logger.info(
          { target: ctx.target },
          'restore target already exists from this request (retried job); waiting for it',
        );
        return;
      }
    }
    throw mapRdsError(err, ctx);
  }
}

export async function awaitAvailable<I>(
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

export function snapshotNotFound(snapshotId: string): AppError {
  return new AppError({
    code: 'snapshot_not_found',
    message: `snapshot ${snapshotId} not found (empty Describe result)`,
    userMessage: `RDS has no snapshot named \`${snapshotId}\`. Check the ID in the AWS console. Nothing was restored.`,
    details: { snapshotId },
  });
}

export function noEndpoint(ctx: RdsErrorContext): AppError {
  return new AppError({
    code: 'restore_failed',
    message: `restored ${ctx.target} is available but RDS reports no endpoint`,
    retryable: true,
    userMessage: `\`${ctx.target}\` is available but RDS did not report its endpoint yet. Check the AWS console.`,
    details: { target: ctx.target },
  });
}

export const readInstancePoll = (output: unknown): PolledState | undefined => {
  const status = (output as DescribeDBInstancesCommandOutput).DBInstances?.[0]?.DBInstanceStatus;
  return status ? { status } : undefined;
};

export const readClusterPoll = (output: unknown): PolledState | undefined => {
  const status = (output as DescribeDBClustersCommandOutput).DBClusters?.[0]?.Status;
  return status ? { status } : undefined;
};

export async function finishInstance(
  r: Resolved,
  ctx: RdsErrorContext,
  target: string,
  startedAt: number,
): Promise<RestoreResult> {
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
  return awaitAvailable(
    resolve(options),
    ctx,
    waitUntilDBInstanceAvailable,
    { DBInstanceIdentifier: id },
    readInstancePoll,
  );
}
