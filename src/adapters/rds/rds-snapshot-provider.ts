import { retainAfterSnapshot, type RetentionOps } from './rds-snapshot-retention.js';
import {
  DeleteDBSnapshotCommand,
  paginateDescribeDBSnapshots,
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  waitUntilDBSnapshotAvailable,
  type DBSnapshot,
  type DescribeDBSnapshotsCommandOutput,
  type DescribeDBSnapshotsCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type {
  SnapshotProgress,
  SnapshotProvider,
  SnapshotRecord,
  SnapshotRequest,
} from '../../domain/snapshots/snapshot-provider.js';
import { isSnapshotNotFound } from './rds-errors.js';
import {
  createAndAwaitSnapshot,
  snapshotTiming,
  verifySnapshot,
  type SnapshotOps,
  type SnapshotTiming,
  type SnapshotView,
} from './snapshot-lifecycle.js';

/** Options of {@link RdsSnapshotProvider}. */
export interface RdsSnapshotProviderOptions {
  /** From {@link createRdsClient}; its `maxAttempts`/`retryMode` drive throttling and 5xx retries. */
  client: RDSClient;
  /** `snapshot.instance` in services.yaml, e.g. `tickettoken-production`. */
  instance: string;
  /** `snapshot.max_wait_minutes`: longest wait for `available`, minutes. */
  maxWaitMinutes: number;
  /** Waiter backoff floor, seconds (default 15; the SDK's own default is 30). Tests use 1. */
  minDelaySeconds?: number;
  /** Waiter backoff ceiling, seconds (default 60). */
  maxDelaySeconds?: number;
  /** Create attempts while the instance reports `InvalidDBInstanceState` (default 3, i.e. 2 retries). */
  stateRetryAttempts?: number;
  /** Delay before the first `InvalidDBInstanceState` retry, ms, doubling (default 10 000). */
  stateRetryDelayMs?: number;
  /** Service key under `services:`, named in error messages. */
  service?: string;
  clock?: Clock;
  logger?: Logger;
  /** `snapshot.keep`: the bot's own manual snapshots of the service kept, oldest deleted first (absent: all kept). */
  keep?: number;
  /** Snapshot ids retention never deletes (those of open incidents). */
  protectedIds?: () => Promise<ReadonlySet<string>>;
}

/** Normalises an SDK `DBSnapshot`. */
export function dbSnapshotView(s: DBSnapshot): SnapshotView {
  const tags: Record<string, string> = {};
  for (const t of s.TagList ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  return {
    id: s.DBSnapshotIdentifier ?? '',
    sourceId: s.DBInstanceIdentifier,
    status: s.Status ?? 'unknown',
    arn: s.DBSnapshotArn,
    createdAt: s.SnapshotCreateTime,
    percent: s.PercentProgress,
    tags,
  };
}

/**
 * SnapshotProvider for an RDS DB instance (`snapshot.provider: rds`); runbook 004
 * "Take Manual Backup" (`aws rds create-db-snapshot`) and "Verify Backup"
 * (`describe-db-snapshots … Status`).
 *
 * `create()`: validates the name (≤ 255 characters), `CreateDBSnapshot` with tags `incident`,
 * `service`, `migration`, `requested-by`; an existing snapshot of the same name, instance and
 * incident is reused (idempotent job retries); waits with `waitUntilDBSnapshotAvailable`
 * (bounded by `maxWaitMinutes`, failing fast on `failed`/`deleted`/`incompatible-*`), then
 * verifies with `DescribeDBSnapshots` and records `LatestRestorableTime` from `DescribeDBInstances`.
 * Errors: see `createAndAwaitSnapshot` and `mapRdsError`.
 */
export class RdsSnapshotProvider implements SnapshotProvider {
  readonly kind = 'rds' as const;
  private readonly ops: SnapshotOps<DescribeDBSnapshotsCommandInput>;
  private readonly timing: SnapshotTiming;

  /** Listing and deleting this instance's manual snapshots, for `snapshot.keep`. */
  private get retention(): RetentionOps {
    const { client, instance } = this.options;
    return {
      list: async () => {
        const views: SnapshotView[] = [];
        for await (const page of paginateDescribeDBSnapshots(
          { client },
          { DBInstanceIdentifier: instance, SnapshotType: 'manual' },
        ))
          views.push(...(page.DBSnapshots ?? []).map(dbSnapshotView));
        return views;
      },
      remove: async (id) => void (await client.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }))),
    };
  }

  constructor(private readonly options: RdsSnapshotProviderOptions) {
    const { client, instance } = options;
    this.timing = snapshotTiming(options);
    this.ops = {
      provider: 'rds',
      identifierKind: 'instance',
      source: instance,
      client,
      actions: { create: 'CreateDBSnapshot', describe: 'DescribeDBSnapshots', describeSource: 'DescribeDBInstances' },
      create: async (name, tags) => {
        await client.send(
          new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: name, Tags: tags }),
        );
      },
      describe: async (name) => {
        try {
          const out = await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: name }));
          const first = out.DBSnapshots?.[0];
          return first ? dbSnapshotView(first) : undefined;
        } catch (err) {
          if (isSnapshotNotFound(err)) return undefined;
          throw err;
        }
      },
      waiter: waitUntilDBSnapshotAvailable,
      waiterInput: (name) => ({ DBSnapshotIdentifier: name }),
      readPoll: (output) => {
        const first = (output as DescribeDBSnapshotsCommandOutput).DBSnapshots?.[0];
        return first?.Status ? { status: first.Status, percent: first.PercentProgress } : undefined;
      },
      latestRestorableTime: async () => {
        const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }));
        return out.DBInstances?.[0]?.LatestRestorableTime;
      },
    };
  }

  /** See the class doc. Progress texts go to `onProgress`; its failures are logged, never thrown. */
  async create(req: SnapshotRequest, onProgress?: SnapshotProgress): Promise<SnapshotRecord> {
    const record = await createAndAwaitSnapshot(this.ops, this.timing, req, onProgress);
    await retainAfterSnapshot(this.retention, req, this.options, this.timing.logger);
    return record;
  }

  /** Re-describes the snapshot (and the instance's `LatestRestorableTime`); see `verifySnapshot`. */
  verify(record: SnapshotRecord): Promise<SnapshotRecord> {
    return verifySnapshot(this.ops, this.timing, record);
  }
}
