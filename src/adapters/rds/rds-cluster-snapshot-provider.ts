import { retainAfterSnapshot, type RetentionOps } from './rds-snapshot-retention.js';
import {
  DeleteDBClusterSnapshotCommand,
  paginateDescribeDBClusterSnapshots,
  CreateDBClusterSnapshotCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  waitUntilDBClusterSnapshotAvailable,
  type DBClusterSnapshot,
  type DescribeDBClusterSnapshotsCommandOutput,
  type DescribeDBClusterSnapshotsCommandInput,
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

/** Options of {@link RdsClusterSnapshotProvider}. */
export interface RdsClusterSnapshotProviderOptions {
  /** From {@link createRdsClient}; its `maxAttempts`/`retryMode` drive throttling and 5xx retries. */
  client: RDSClient;
  /** `snapshot.cluster` in services.yaml: the Aurora DB cluster identifier. */
  cluster: string;
  /** `snapshot.max_wait_minutes`: longest wait for `available`, minutes. */
  maxWaitMinutes: number;
  /** Waiter backoff floor, seconds (default 15; the SDK's own default is 30). Tests use 1. */
  minDelaySeconds?: number;
  /** Waiter backoff ceiling, seconds (default 60). */
  maxDelaySeconds?: number;
  /** Create attempts while the cluster reports `InvalidDBClusterStateFault` (default 3). */
  stateRetryAttempts?: number;
  /** Delay before the first `InvalidDBClusterStateFault` retry, ms, doubling (default 10 000). */
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

/** Normalises an SDK `DBClusterSnapshot`. */
export function dbClusterSnapshotView(s: DBClusterSnapshot): SnapshotView {
  const tags: Record<string, string> = {};
  for (const t of s.TagList ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  return {
    id: s.DBClusterSnapshotIdentifier ?? '',
    sourceId: s.DBClusterIdentifier,
    status: s.Status ?? 'unknown',
    arn: s.DBClusterSnapshotArn,
    createdAt: s.SnapshotCreateTime,
    percent: s.PercentProgress,
    tags,
  };
}

/**
 * SnapshotProvider for an Aurora DB cluster (`snapshot.provider: rds-cluster`).
 * Same contract as {@link RdsSnapshotProvider} with `CreateDBClusterSnapshot` (names
 * ≤ 63 characters), `waitUntilDBClusterSnapshotAvailable`, `DescribeDBClusterSnapshots`, and
 * `LatestRestorableTime` from `DescribeDBClusters`. `DBClusterSnapshotAlreadyExistsFault` for
 * this incident's own name is success.
 * Errors: see `createAndAwaitSnapshot` and `mapRdsError`.
 */
export class RdsClusterSnapshotProvider implements SnapshotProvider {
  readonly kind = 'rds-cluster' as const;
  private readonly ops: SnapshotOps<DescribeDBClusterSnapshotsCommandInput>;
  private readonly timing: SnapshotTiming;

  /** Listing and deleting this cluster's manual snapshots, for `snapshot.keep`. */
  private get retention(): RetentionOps {
    const { client, cluster } = this.options;
    return {
      list: async () => {
        const views: SnapshotView[] = [];
        for await (const page of paginateDescribeDBClusterSnapshots(
          { client },
          { DBClusterIdentifier: cluster, SnapshotType: 'manual' },
        ))
          views.push(...(page.DBClusterSnapshots ?? []).map(dbClusterSnapshotView));
        return views;
      },
      remove: async (id) =>
        void (await client.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id }))),
    };
  }

  constructor(private readonly options: RdsClusterSnapshotProviderOptions) {
    const { client, cluster } = options;
    this.timing = snapshotTiming(options);
    this.ops = {
      provider: 'rds-cluster',
      identifierKind: 'cluster',
      source: cluster,
      client,
      actions: {
        create: 'CreateDBClusterSnapshot',
        describe: 'DescribeDBClusterSnapshots',
        describeSource: 'DescribeDBClusters',
      },
      create: async (name, tags) => {
        await client.send(
          new CreateDBClusterSnapshotCommand({
            DBClusterIdentifier: cluster,
            DBClusterSnapshotIdentifier: name,
            Tags: tags,
          }),
        );
      },
      describe: async (name) => {
        try {
          const out = await client.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: name }));
          const first = out.DBClusterSnapshots?.[0];
          return first ? dbClusterSnapshotView(first) : undefined;
        } catch (err) {
          if (isSnapshotNotFound(err)) return undefined;
          throw err;
        }
      },
      waiter: waitUntilDBClusterSnapshotAvailable,
      waiterInput: (name) => ({ DBClusterSnapshotIdentifier: name }),
      readPoll: (output) => {
        const first = (output as DescribeDBClusterSnapshotsCommandOutput).DBClusterSnapshots?.[0];
        return first?.Status ? { status: first.Status, percent: first.PercentProgress } : undefined;
      },
      latestRestorableTime: async () => {
        const out = await client.send(new DescribeDBClustersCommand({ DBClusterIdentifier: cluster }));
        return out.DBClusters?.[0]?.LatestRestorableTime;
      },
    };
  }

  /** See the class doc. Progress texts go to `onProgress`; its failures are logged, never thrown. */
  async create(req: SnapshotRequest, onProgress?: SnapshotProgress): Promise<SnapshotRecord> {
    const record = await createAndAwaitSnapshot(this.ops, this.timing, req, onProgress);
    await retainAfterSnapshot(this.retention, req, this.options, this.timing.logger);
    return record;
  }

  /** Re-describes the cluster snapshot (and the cluster's `LatestRestorableTime`); see `verifySnapshot`. */
  verify(record: SnapshotRecord): Promise<SnapshotRecord> {
    return verifySnapshot(this.ops, this.timing, record);
  }
}
