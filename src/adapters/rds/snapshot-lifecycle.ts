import type { RDSClient } from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import { formatDuration, systemClock, type Clock } from '../../shared/clock.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { assertValidSnapshotIdentifier, type RdsIdentifierKind } from '../../domain/snapshots/snapshot-name.js';
import type {
  SnapshotProgress,
  SnapshotProviderKind,
  SnapshotRecord,
  SnapshotRequest,
  SnapshotStatus,
} from '../../domain/snapshots/snapshot-provider.js';
import {
  isInvalidSourceState,
  isSnapshotAlreadyExists,
  isSnapshotNotFound,
  mapRdsError,
  waitTimeoutError,
  type RdsErrorContext,
} from './rds-errors.js';
import { isTerminalRdsStatus, waitWithFailFast, type PolledState, type RdsWaiter } from './rds-waiter.js';

/**
 * The create → wait → verify sequence shared by the RDS instance and Aurora cluster snapshot
 * providers (runbook 003 "Mandatory pre-action
 * checklist: take a fresh snapshot … and record its ID"; runbook 004 "Verify Backup").
 * The providers supply {@link SnapshotOps}, the SDK calls for their resource type.
 */

/** The tag every snapshot the bot creates carries; retention deletes nothing without it. */
export const BOT_SNAPSHOT_TAG = { Key: 'created-by', Value: 'migrate-bot' } as const;

/** A snapshot as read from `DescribeDBSnapshots` / `DescribeDBClusterSnapshots`, normalised. */
export interface SnapshotView {
  id: string;
  /** Instance or cluster the snapshot was taken of. */
  sourceId: string | undefined;
  /** RDS status: `creating`, `available`, `failed`, `deleted`, `incompatible-*`, … */
  status: string;
  arn: string | undefined;
  /** `SnapshotCreateTime`. */
  createdAt: Date | undefined;
  /** `PercentProgress`, 0–100. */
  percent: number | undefined;
  /** `TagList` as a map (RDS returns it on Describe). */
  tags: Record<string, string>;
}

/**
 * The SDK calls for one resource type. All may throw raw SDK errors.
 * `I` is the input of the `Describe…` call the waiter polls with.
 */
export interface SnapshotOps<I = unknown> {
  provider: Extract<SnapshotProviderKind, 'rds' | 'rds-cluster'>;
  identifierKind: RdsIdentifierKind;
  /** Instance or cluster identifier from services.yaml. */
  source: string;
  client: RDSClient;
  /** RDS action names, for messages and IAM hints. */
  actions: { create: string; describe: string; describeSource: string };
  create(name: string, tags: Array<{ Key: string; Value: string }>): Promise<void>;
  /** Describe one snapshot; undefined when RDS answers "not found". */
  describe(name: string): Promise<SnapshotView | undefined>;
  /** The SDK waiter and the input it polls with. */
  waiter: RdsWaiter<I>;
  waiterInput(name: string): I;
  /** Reads the snapshot from one waiter poll's `Describe…` output. */
  readPoll(output: unknown): PolledState | undefined;
  /** `LatestRestorableTime` of the source (`DescribeDBInstances` / `DescribeDBClusters`). */
  latestRestorableTime(): Promise<Date | undefined>;
}

/** Tuning shared by both providers. Times in the unit their name says. */
export interface SnapshotTiming {
  /** `snapshot.max_wait_minutes`: longest wait for `available`, minutes. */
  maxWaitMinutes: number;
  /** Waiter backoff floor, seconds (default 15). */
  minDelaySeconds: number;
  /** Waiter backoff ceiling, seconds (default 60). */
  maxDelaySeconds: number;
  /** Attempts of the create call while the source reports InvalidDB…State (default 3). */
  stateRetryAttempts: number;
  /** Delay before the first such retry, ms; doubles each time (default 10 000). */
  stateRetryDelayMs: number;
  clock: Clock;
  logger: Logger;
  /** Service key in services.yaml, for error messages. */
  service: string | undefined;
}

/** Defaults for {@link SnapshotTiming}; `maxWaitMinutes` always comes from config. */
export function snapshotTiming(options: {
  maxWaitMinutes: number;
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  stateRetryAttempts?: number;
  stateRetryDelayMs?: number;
  clock?: Clock;
  logger?: Logger;
  service?: string;
}): SnapshotTiming {
  return {
    maxWaitMinutes: options.maxWaitMinutes,
    minDelaySeconds: options.minDelaySeconds ?? 15,
    maxDelaySeconds: options.maxDelaySeconds ?? 60,
    stateRetryAttempts: Math.max(1, options.stateRetryAttempts ?? 3),
    stateRetryDelayMs: options.stateRetryDelayMs ?? 10_000,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    service: options.service,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function toSnapshotStatus(status: string): SnapshotStatus {
  if (status === 'available') return 'available';
  return isTerminalRdsStatus(status) ? 'failed' : 'creating';
}

function errorContext<I>(
  ops: SnapshotOps<I>,
  timing: SnapshotTiming,
  snapshotId: string,
  operation: string,
): RdsErrorContext {
  return {
    operation,
    area: 'snapshot',
    source: { kind: ops.identifierKind, id: ops.source },
    service: timing.service,
    snapshotId,
    maxWaitMinutes: timing.maxWaitMinutes,
  };
}

async function report(onProgress: SnapshotProgress | undefined, text: string, logger: Logger): Promise<void> {
  if (!onProgress) return;
  try {
    await onProgress(text);
  } catch (err) {
    logger.warn({ err }, 'snapshot progress callback failed; continuing');
  }
}

function notOurs<I>(ops: SnapshotOps<I>, req: SnapshotRequest, existing: SnapshotView): string | undefined {
  if (existing.sourceId && existing.sourceId.toLowerCase() !== ops.source.toLowerCase()) {
    return `it was taken of \`${existing.sourceId}\`, not \`${ops.source}\``;
  }
  const incident = existing.tags['incident'];
  if (incident !== undefined && incident !== req.incidentId) return `it belongs to incident ${incident}`;
  return undefined;
}

/**
 * Issues the create call. `DBSnapshotAlreadyExists` for a snapshot of the same source (and,
 * when tagged, the same incident) is success: a retried job continues with that snapshot.
 * `InvalidDB…State` is retried `stateRetryAttempts` times in total with doubling delays
 * (the SDK's retry strategy classifies it as a non-retryable client fault); throttling and
 * 5xx are retried inside the SDK (`maxAttempts`).
 * @returns true when the snapshot already existed.
 */
async function issueCreate<I>(ops: SnapshotOps<I>, req: SnapshotRequest, timing: SnapshotTiming): Promise<boolean> {
  const tags = [
    { Key: 'incident', Value: req.incidentId },
    { Key: 'service', Value: req.service },
    { Key: 'migration', Value: req.migration },
    { Key: 'requested-by', Value: req.requestedBy },
    BOT_SNAPSHOT_TAG,
  ];
  const ctx = errorContext(ops, timing, req.name, ops.actions.create);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ops.create(req.name, tags);
      return false;
    } catch (err) {
      if (isSnapshotAlreadyExists(err)) {
        const existing = await ops.describe(req.name).catch((e: unknown) => {
          throw mapRdsError(e, { ...ctx, operation: ops.actions.describe });
        });
        const problem = existing ? notOurs(ops, req, existing) : undefined;
        if (problem) {
          throw new AppError({
            code: 'snapshot_name_taken',
            message: `snapshot ${req.name} already exists and is not this incident's: ${problem}`,
            cause: err,
            userMessage:
              `A snapshot named \`${req.name}\` already exists but ${problem}, so it cannot stand for this ` +
              'incident. Re-run `/migrate snapshot` to take one with a new name.',
            details: { snapshotId: req.name, source: ops.source, existingSource: existing?.sourceId },
          });
        }
        timing.logger.info({ snapshotId: req.name }, 'snapshot already exists (retried job); waiting for it');
        return true;
      }
      if (isInvalidSourceState(err) && attempt < timing.stateRetryAttempts) {
        const delay = timing.stateRetryDelayMs * 2 ** (attempt - 1);
        timing.logger.warn(
          { snapshotId: req.name, source: ops.source, attempt, delayMs: delay },
          'source not in a state that allows a snapshot; retrying',
        );
        await sleep(delay);
        continue;
      }
      throw mapRdsError(err, ctx);
    }
  }
}

/**
 * Describes the snapshot and the source and builds the record; the snapshot must be `available`.
 * @throws AppError `snapshot_not_found`, `snapshot_verification_failed`, or a mapped RDS error.
 */
async function describeRecord<I>(
  ops: SnapshotOps<I>,
  timing: SnapshotTiming,
  id: string,
  fallbackCreatedAt: Date,
): Promise<SnapshotRecord> {
  const ctx = errorContext(ops, timing, id, ops.actions.describe);
  let view: SnapshotView | undefined;
  try {
    view = await ops.describe(id);
  } catch (err) {
    throw mapRdsError(err, ctx);
  }
  if (!view) {
    throw new AppError({
      code: 'snapshot_not_found',
      message: `snapshot ${id} of ${ops.source} not found`,
      userMessage: `Snapshot \`${id}\` no longer exists in RDS. Take a new one with \`/migrate snapshot\`.`,
      details: { snapshotId: id, source: ops.source },
    });
  }
  if (view.sourceId && view.sourceId.toLowerCase() !== ops.source.toLowerCase()) {
    throw new AppError({
      code: 'snapshot_verification_failed',
      message: `snapshot ${id} is of ${view.sourceId}, expected ${ops.source}`,
      userMessage: `Snapshot \`${id}\` was taken of \`${view.sourceId}\`, not \`${ops.source}\`; it does not protect this service.`,
      details: { snapshotId: id, source: ops.source, snapshotSource: view.sourceId },
    });
  }
  const status = toSnapshotStatus(view.status);
  if (status === 'failed') {
    throw new AppError({
      code: 'snapshot_verification_failed',
      message: `snapshot ${id} of ${ops.source} has status ${view.status}`,
      userMessage: `Snapshot \`${id}\` is \`${view.status}\` in RDS and cannot be restored. Take a new one with \`/migrate snapshot\`.`,
      details: { snapshotId: id, source: ops.source, rdsStatus: view.status },
    });
  }
  let latest: Date | undefined;
  try {
    latest = await ops.latestRestorableTime();
  } catch (err) {
    throw mapRdsError(err, { ...ctx, operation: ops.actions.describeSource });
  }
  const record: SnapshotRecord = {
    id: view.id,
    provider: ops.provider,
    status,
    createdAt: (view.createdAt ?? fallbackCreatedAt).toISOString(),
  };
  if (view.arn) record.arn = view.arn;
  if (latest) record.latestRestorableTime = latest.toISOString();
  return record;
}

/**
 * Creates `req.name`, waits until RDS reports it `available` (bounded by `maxWaitMinutes`),
 * verifies it with a fresh Describe and records ID, ARN, status, `SnapshotCreateTime`,
 * the source's `LatestRestorableTime` and the time taken (`elapsedMs`, ms).
 *
 * Progress texts: "Snapshot `…` creating…", "Snapshot `…` creating… 40%" (when RDS reports
 * `PercentProgress` and it changes), "Snapshot `…` available after 4m12s".
 * @throws AppError: `snapshot_name_invalid`, `snapshot_name_taken`, `snapshot_failed`
 *   (status `failed`, `deleted`, `incompatible-*`, or the snapshot vanished while waiting),
 *   `snapshot_wait_timeout` (retryable), and the codes of {@link mapRdsError}.
 */
export async function createAndAwaitSnapshot<I>(
  ops: SnapshotOps<I>,
  timing: SnapshotTiming,
  req: SnapshotRequest,
  onProgress?: SnapshotProgress,
): Promise<SnapshotRecord> {
  assertValidSnapshotIdentifier(req.name, ops.identifierKind);
  const log = timing.logger.child({ snapshotId: req.name, source: ops.source, incidentId: req.incidentId });
  const startedAt = timing.clock.now();

  const existed = await issueCreate(ops, req, { ...timing, logger: log });
  await report(
    onProgress,
    existed
      ? `Snapshot \`${req.name}\` already requested; waiting for it… (creating)`
      : `Snapshot \`${req.name}\` creating…`,
    log,
  );

  let lastPercent: number | undefined;
  const progress: Array<Promise<void>> = [];
  const outcome = await waitWithFailFast({
    client: ops.client,
    waiter: ops.waiter,
    input: ops.waiterInput(req.name),
    maxWaitSeconds: timing.maxWaitMinutes * 60,
    minDelaySeconds: timing.minDelaySeconds,
    maxDelaySeconds: timing.maxDelaySeconds,
    read: ops.readPoll,
    isTerminal: isTerminalRdsStatus,
    isNotFound: isSnapshotNotFound,
    now: () => timing.clock.now().getTime(),
    onPoll: (state) => {
      if (
        state.status === 'creating' &&
        state.percent !== undefined &&
        state.percent !== lastPercent &&
        state.percent > 0
      ) {
        lastPercent = state.percent;
        progress.push(report(onProgress, `Snapshot \`${req.name}\` creating… ${state.percent}%`, log));
      }
    },
  });
  await Promise.all(progress);
  const elapsedMs = timing.clock.now().getTime() - startedAt.getTime();
  const ctx = errorContext(ops, timing, req.name, ops.actions.describe);

  switch (outcome.kind) {
    case 'available':
      break;
    case 'timeout':
      log.warn({ lastStatus: outcome.lastStatus, elapsedMs }, 'snapshot wait timed out');
      throw waitTimeoutError(ctx, outcome.error);
    case 'terminal':
    case 'gone': {
      const status = outcome.kind === 'gone' ? 'deleted (no longer found)' : outcome.status;
      throw new AppError({
        code: 'snapshot_failed',
        message: `snapshot ${req.name} of ${ops.source} ended as ${status} after ${formatDuration(elapsedMs)}`,
        userMessage:
          `Snapshot \`${req.name}\` of \`${ops.source}\` ended as \`${status}\` instead of \`available\`, so the ` +
          'rollback stays blocked. Check RDS events for the instance in the AWS console, then re-run `/migrate snapshot`.',
        details: { snapshotId: req.name, source: ops.source, rdsStatus: status, elapsedMs },
      });
    }
    case 'error':
      throw mapRdsError(outcome.error, { ...ctx, operation: outcome.operation ?? ctx.operation });
  }

  const record = await describeRecord(ops, timing, req.name, startedAt);
  if (record.status !== 'available') {
    // The waiter saw `available`; a Describe straight after disagreeing is an RDS inconsistency.
    throw new AppError({
      code: 'snapshot_verification_failed',
      message: `snapshot ${req.name} reported available by the waiter but ${record.status} on verification`,
      retryable: true,
      userMessage: `Snapshot \`${req.name}\` could not be verified as available yet. The job will check again.`,
      details: { snapshotId: req.name },
    });
  }
  record.elapsedMs = elapsedMs;
  log.info({ elapsedMs, arn: record.arn }, 'snapshot available');
  await report(onProgress, `Snapshot \`${req.name}\` available after ${formatDuration(elapsedMs)}`, log);
  return record;
}

/**
 * Re-reads `record` from RDS (runbook 004 "Verify Backup": `describe-db-snapshots … Status`).
 * Returns it with fresh status, ARN, creation time and `LatestRestorableTime`; `status` is
 * `creating` while RDS is still copying (not an error: the rollback gate waits).
 * @throws AppError `snapshot_not_found` (deleted or never existed),
 *   `snapshot_verification_failed` (failed/deleted/incompatible status, or taken of another source),
 *   or a mapped RDS error (e.g. `rds_throttled`, retryable).
 */
export async function verifySnapshot<I>(
  ops: SnapshotOps<I>,
  timing: SnapshotTiming,
  record: SnapshotRecord,
): Promise<SnapshotRecord> {
  const fresh = await describeRecord(ops, timing, record.id, new Date(record.createdAt));
  const out: SnapshotRecord = { ...record, ...fresh };
  if (record.elapsedMs !== undefined) out.elapsedMs = record.elapsedMs;
  return out;
}
