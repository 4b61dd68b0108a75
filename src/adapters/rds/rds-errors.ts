import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { awsErrorNames, isAwsAuthError, isAwsThrottling, isAwsTransient, sdkErrorShape } from '../aws/sdk-errors.js';

/**
 * The one mapper from `@aws-sdk/client-rds` errors to {@link AppError} (DESIGN.md
 * "Each edge maps errors once"; the RDS API Reference's error lists per action).
 *
 * The SDK names a service error after its modelled shape (`SnapshotQuotaExceededFault`)
 * and keeps the Query-protocol wire code in `Code` (`SnapshotQuotaExceeded`); both are
 * matched. The SDK's standard retry strategy already retries throttling
 * (`Throttling`, `ThrottlingException`, HTTP 429) and transient faults (HTTP 500/502/503/504,
 * socket resets) up to `maxAttempts`; what reaches this mapper has exhausted those retries.
 * `InvalidDBInstanceState` / `InvalidDBClusterStateFault` are HTTP 400 client faults the SDK
 * never retries; they are mapped `retryable: true` and retried by the caller (bounded).
 *
 * Messages never carry credentials: the SDK's own text is passed through
 * {@link redactSecrets} and goes only into `message` (logs), never into `userMessage`.
 */

/** Which use case the failing call belongs to; prefixes the codes that differ (`snapshot_…`, `restore_…`). */
export type RdsErrorArea = 'snapshot' | 'restore';

/** What the mapper needs to write a message a person can act on. */
export interface RdsErrorContext {
  /** RDS action that failed, e.g. `CreateDBSnapshot`, or `wait` for a waiter. */
  operation: string;
  area: RdsErrorArea;
  /** The production instance or Aurora cluster from services.yaml (`snapshot.instance` / `snapshot.cluster`). */
  source?: { kind: 'instance' | 'cluster'; id: string };
  /** Service key under `services:` in services.yaml, to name the exact config key. */
  service?: string;
  /** Snapshot identifier involved, if any. */
  snapshotId?: string;
  /** Identifier of the new instance/cluster a restore creates. */
  target?: string;
  /** `snapshot.max_wait_minutes`, for timeout messages. */
  maxWaitMinutes?: number;
}

const QUOTA = new Set(['SnapshotQuotaExceeded', 'SnapshotQuotaExceededFault']);
const INVALID_SOURCE_STATE = new Set([
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'InvalidDBClusterStateFault',
]);
const INSTANCE_NOT_FOUND = new Set(['DBInstanceNotFound', 'DBInstanceNotFoundFault']);
const CLUSTER_NOT_FOUND = new Set(['DBClusterNotFoundFault', 'DBClusterNotFound']);
const SNAPSHOT_NOT_FOUND = new Set([
  'DBSnapshotNotFound',
  'DBSnapshotNotFoundFault',
  'DBClusterSnapshotNotFoundFault',
  'DBClusterSnapshotNotFound',
]);
const SNAPSHOT_EXISTS = new Set([
  'DBSnapshotAlreadyExists',
  'DBSnapshotAlreadyExistsFault',
  'DBClusterSnapshotAlreadyExistsFault',
]);
const TARGET_EXISTS = new Set([
  'DBInstanceAlreadyExists',
  'DBInstanceAlreadyExistsFault',
  'DBClusterAlreadyExistsFault',
]);
const INVALID_SNAPSHOT_STATE = new Set([
  'InvalidDBSnapshotState',
  'InvalidDBSnapshotStateFault',
  'InvalidDBClusterSnapshotStateFault',
]);
const INVALID_RESTORE = new Set([
  'InvalidRestoreFault',
  'InvalidRestore',
  'PointInTimeRestoreNotEnabled',
  'PointInTimeRestoreNotEnabledFault',
]);
/** True when `err` is an RDS/SDK error with any of the given wire codes or SDK names. */
export function isRdsError(err: unknown, ...names: string[]): boolean {
  const have = awsErrorNames(err);
  return names.some((n) => have.includes(n));
}

const inSet = (err: unknown, set: ReadonlySet<string>): boolean => awsErrorNames(err).some((n) => set.has(n));

/** `DBSnapshotAlreadyExists` / `DBClusterSnapshotAlreadyExistsFault`. */
export const isSnapshotAlreadyExists = (err: unknown): boolean => inSet(err, SNAPSHOT_EXISTS);
/** `DBSnapshotNotFound` / `DBClusterSnapshotNotFoundFault` (HTTP 404). */
export const isSnapshotNotFound = (err: unknown): boolean => inSet(err, SNAPSHOT_NOT_FOUND);
/** `InvalidDBInstanceState` / `InvalidDBClusterStateFault`: the source is busy (backing up, modifying…). */
export const isInvalidSourceState = (err: unknown): boolean => inSet(err, INVALID_SOURCE_STATE);
/** `DBInstanceAlreadyExists` / `DBClusterAlreadyExistsFault`. */
export const isTargetAlreadyExists = (err: unknown): boolean => inSet(err, TARGET_EXISTS);
/** `DBInstanceNotFound` / `DBClusterNotFoundFault` (HTTP 404). */
export const isSourceNotFound = (err: unknown): boolean =>
  inSet(err, INSTANCE_NOT_FOUND) || inSet(err, CLUSTER_NOT_FOUND);

/** The waiter's own timeout (`@smithy` util-waiter throws `TimeoutError` with "Waiter has timed out"). */
export function isWaiterTimeout(err: unknown): boolean {
  const e = sdkErrorShape(err);
  return e.name === 'TimeoutError' && typeof e.message === 'string' && e.message.includes('Waiter has timed out');
}

function configKey(ctx: RdsErrorContext, leaf: string): string {
  return ctx.service ? `services.${ctx.service}.snapshot.${leaf}` : `snapshot.${leaf}`;
}

function describeSource(ctx: RdsErrorContext): string {
  if (!ctx.source) return 'the database';
  return ctx.source.kind === 'cluster' ? `Aurora cluster \`${ctx.source.id}\`` : `RDS instance \`${ctx.source.id}\``;
}

/**
 * Builds the AppError for a waiter that ran out of time (`snapshot_wait_timeout` /
 * `restore_wait_timeout`, retryable: the resource usually keeps being created in AWS).
 */
export function waitTimeoutError(ctx: RdsErrorContext, cause?: unknown): AppError {
  const minutes = ctx.maxWaitMinutes === undefined ? 'the configured time' : `${ctx.maxWaitMinutes} minutes`;
  if (ctx.area === 'restore') {
    return new AppError({
      code: 'restore_wait_timeout',
      message: `restore to ${ctx.target ?? '(unknown)'} not available within ${minutes}`,
      cause,
      retryable: true,
      userMessage:
        `The restored copy \`${ctx.target ?? '?'}\` was not available within ${minutes}. RDS keeps creating it: ` +
        'check its status in the AWS console (RDS → Databases) before doing anything else. ' +
        `Nothing was changed on ${describeSource(ctx)}.`,
      details: { target: ctx.target, maxWaitMinutes: ctx.maxWaitMinutes },
    });
  }
  return new AppError({
    code: 'snapshot_wait_timeout',
    message: `snapshot ${ctx.snapshotId ?? '(unknown)'} of ${ctx.source?.id ?? '(unknown)'} not available within ${minutes}`,
    cause,
    retryable: true,
    userMessage:
      `Snapshot \`${ctx.snapshotId ?? '?'}\` of ${describeSource(ctx)} was not available within ${minutes}, ` +
      'so the rollback stays blocked. Check the snapshot in the AWS console (RDS → Snapshots); ' +
      're-run `/migrate snapshot` once it is available or to start a new one, or raise ' +
      `\`${configKey(ctx, 'max_wait_minutes')}\` in services.yaml for large databases.`,
    details: { snapshotId: ctx.snapshotId, source: ctx.source?.id, maxWaitMinutes: ctx.maxWaitMinutes },
  });
}

/**
 * Maps any error thrown by an RDS call or waiter to an AppError. AppErrors pass through unchanged.
 *
 * | SDK error (wire code / SDK name) | code | retryable |
 * |---|---|---|
 * | `SnapshotQuotaExceeded` | `snapshot_quota_exceeded` | no |
 * | `InvalidDBInstanceState`, `InvalidDBClusterStateFault` | `<area>_source_busy` | yes |
 * | `Throttling`, `ThrottlingException`, HTTP 429 | `rds_throttled` | yes |
 * | HTTP 5xx (e.g. 503 `ServiceUnavailable`), socket errors | `rds_unavailable` | yes |
 * | `DBInstanceNotFound`, `DBClusterNotFoundFault` | `<area>_source_not_found` | no |
 * | `DBSnapshotNotFound`, `DBClusterSnapshotNotFoundFault` | `snapshot_not_found` | no |
 * | `DBSnapshotAlreadyExists`, `DBClusterSnapshotAlreadyExistsFault` | `snapshot_name_taken` | no |
 * | `DBInstanceAlreadyExists`, `DBClusterAlreadyExistsFault` | `restore_target_exists` | no |
 * | `InvalidDBSnapshotState`, `InvalidDBClusterSnapshotStateFault` | `snapshot_not_available` | yes |
 * | `InvalidRestoreFault`, `PointInTimeRestoreNotEnabled` | `restore_time_invalid` | no |
 * | auth errors (`AccessDenied`, `InvalidClientTokenId`, missing credentials, …) | `rds_access_denied` | no |
 * | "Region is missing" | `rds_region_missing` | no |
 * | waiter `TimeoutError` | `snapshot_wait_timeout` / `restore_wait_timeout` | yes |
 * | anything else | `rds_request_failed` | no |
 */
export function mapRdsError(err: unknown, ctx: RdsErrorContext): AppError {
  if (err instanceof AppError) return err;
  if (isWaiterTimeout(err)) return waitTimeoutError(ctx, err);

  const e = sdkErrorShape(err);
  const wire = e.Code ?? e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const sdkText = redactSecrets(typeof e.message === 'string' ? e.message : String(err));
  const message = `${ctx.operation} failed for ${ctx.source?.id ?? ctx.snapshotId ?? ctx.target ?? 'RDS'}: ${wire}${status ? ` (HTTP ${status})` : ''}: ${sdkText}`;
  const details = {
    operation: ctx.operation,
    awsCode: wire,
    httpStatus: status,
    requestId: e.$metadata?.requestId,
    source: ctx.source?.id,
    snapshotId: ctx.snapshotId,
    target: ctx.target,
  };
  const make = (code: string, retryable: boolean, userMessage: string): AppError =>
    new AppError({ code, message, cause: err, retryable, userMessage, details });
  const src = describeSource(ctx);

  if (inSet(err, QUOTA)) {
    const quota = ctx.source?.kind === 'cluster' ? 'Manual DB cluster snapshots' : 'Manual DB instance snapshots';
    return make(
      'snapshot_quota_exceeded',
      false,
      `RDS refused the snapshot of ${src}: SnapshotQuotaExceeded. The AWS account has used up its "${quota}" ` +
        'quota (Service Quotas → Amazon RDS; 100 per Region by default). Delete old manual snapshots or request ' +
        'a quota increase, then re-run `/migrate snapshot`. The rollback stays blocked until a snapshot is available.',
    );
  }
  if (isInvalidSourceState(err)) {
    return make(
      `${ctx.area}_source_busy`,
      true,
      `${src} is not in a state that allows this (${wire}); it is probably being backed up, modified or ` +
        'rebooted. migrate-bot retried a few times; wait until it shows `available` in the AWS console and try again.',
    );
  }
  if (isAwsThrottling(err)) {
    return make(
      'rds_throttled',
      true,
      `AWS is throttling RDS API calls (${wire}) and the retries ran out. Try again in a minute.`,
    );
  }
  if (isSourceNotFound(err) && ctx.source) {
    const leaf = ctx.source.kind === 'cluster' ? 'cluster' : 'instance';
    const what = ctx.source.kind === 'cluster' ? 'DB cluster' : 'DB instance';
    return make(
      `${ctx.area}_source_not_found`,
      false,
      `RDS has no ${what} named \`${ctx.source.id}\` in this account and Region (${wire}). ` +
        `Check \`${configKey(ctx, leaf)}\` in services.yaml and the bot's AWS region. Nothing was changed.`,
    );
  }
  if (isSourceNotFound(err)) {
    return make(
      `${ctx.area}_source_not_found`,
      false,
      `RDS could not find the database this action needs (${wire}). Nothing was changed.`,
    );
  }
  if (isSnapshotNotFound(err)) {
    return make(
      'snapshot_not_found',
      false,
      `RDS has no snapshot named \`${ctx.snapshotId ?? '?'}\` (${wire}). Check the ID with ` +
        '`aws rds describe-db-snapshots` or the AWS console. Nothing was changed.',
    );
  }
  if (isSnapshotAlreadyExists(err)) {
    return make(
      'snapshot_name_taken',
      false,
      `A snapshot named \`${ctx.snapshotId ?? '?'}\` already exists and was not made for this incident. ` +
        'Re-run `/migrate snapshot` to take one with a new name.',
    );
  }
  if (isTargetAlreadyExists(err)) {
    return make(
      'restore_target_exists',
      false,
      `\`${ctx.target ?? '?'}\` already exists and was not created by this restore, so nothing was restored. ` +
        'Check the AWS console, then run the restore again (a new restore gets a new name: it carries the second).',
    );
  }
  if (inSet(err, INVALID_SNAPSHOT_STATE)) {
    return make(
      'snapshot_not_available',
      true,
      `Snapshot \`${ctx.snapshotId ?? '?'}\` is not \`available\` yet (${wire}). Wait until it is, then try again.`,
    );
  }
  if (inSet(err, INVALID_RESTORE)) {
    return make(
      'restore_time_invalid',
      false,
      `RDS cannot restore ${src} to that time (${wire}): point-in-time restore needs automated backups and a ` +
        'time between the earliest and the latest restorable time. Nothing was restored.',
    );
  }
  if (isAwsAuthError(err)) {
    const iam = /^[A-Z][A-Za-z]+$/.test(ctx.operation) ? ` (\`rds:${ctx.operation}\` must be allowed)` : '';
    return make(
      'rds_access_denied',
      false,
      `AWS refused migrate-bot's credentials or permissions for ${ctx.operation} (${wire}). Check the IAM role or ` +
        `credentials the bot runs with${iam}. Nothing was changed.`,
    );
  }
  if (typeof e.message === 'string' && /region is missing/i.test(e.message)) {
    return make(
      'rds_region_missing',
      false,
      "migrate-bot has no AWS region configured. Set `AWS_REGION` (or a profile with `region`) in the bot's " +
        'environment. Nothing was changed.',
    );
  }
  if (isAwsTransient(err)) {
    return make(
      'rds_unavailable',
      true,
      `RDS did not answer ${ctx.operation} (${wire}${status ? `, HTTP ${status}` : ''}) after several tries. ` +
        'Try again in a few minutes.',
    );
  }
  return make(
    'rds_request_failed',
    false,
    `RDS rejected ${ctx.operation} for ${src} (${wire}). The details are in the bot logs; nothing further was changed.`,
  );
}
