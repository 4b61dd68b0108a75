import { describe, expect, it } from 'vitest';
import {
  RdsClusterSnapshotProvider,
  type RdsClusterSnapshotProviderOptions,
} from '../../../src/adapters/rds/rds-cluster-snapshot-provider.js';
import type { AppError } from '../../../src/shared/errors.js';
import { snapshotName } from '../../../src/domain/snapshots/snapshot-name.js';
import type { SnapshotRequest } from '../../../src/domain/snapshots/snapshot-provider.js';
import { SNAPSHOT_DELAY_MS, rejectionOf, useRdsFixture } from './rds-fixture.js';
import { userText } from '../../support/words.js';

const CLUSTER = 'payments-aurora';
const LRT = new Date('2026-11-21T03:10:00.000Z');
const NAME = 'pre-rollback-payments-20261121-031207';

function request(name = NAME): SnapshotRequest {
  return {
    incidentId: 'inc-0002',
    service: 'payments',
    migration: '012_split_ledger.ts',
    requestedBy: 'U0SRE001',
    name,
  };
}

describe('RdsClusterSnapshotProvider against the loopback RDS endpoint (real @aws-sdk/client-rds)', () => {
  const fx = useRdsFixture();

  const provider = (overrides: Partial<RdsClusterSnapshotProviderOptions> = {}): RdsClusterSnapshotProvider =>
    new RdsClusterSnapshotProvider({
      client: fx.client,
      cluster: CLUSTER,
      service: 'payments',
      maxWaitMinutes: 1,
      minDelaySeconds: 1,
      maxDelaySeconds: 1,
      stateRetryDelayMs: 50,
      ...overrides,
    });

  it('creates an Aurora cluster snapshot with tags, waits, and records ARN and LatestRestorableTime', async () => {
    fx.server.addCluster(CLUSTER, { latestRestorableTime: LRT });
    const progress: string[] = [];
    const record = await provider().create(request(), (t) => {
      progress.push(t);
    });

    expect(record).toMatchObject({
      id: NAME,
      provider: 'rds-cluster',
      status: 'available',
      arn: `arn:aws:rds:us-east-1:123456789012:cluster-snapshot:${NAME}`,
      latestRestorableTime: LRT.toISOString(),
    });
    expect(record.elapsedMs).toBeGreaterThanOrEqual(SNAPSHOT_DELAY_MS);
    const create = fx.server.requestsFor('CreateDBClusterSnapshot');
    expect(create).toHaveLength(1);
    expect(create[0]!.params).toMatchObject({
      DBClusterIdentifier: CLUSTER,
      DBClusterSnapshotIdentifier: NAME,
      'Tags.Tag.1.Key': 'incident',
      'Tags.Tag.1.Value': 'inc-0002',
      'Tags.Tag.4.Key': 'requested-by',
      'Tags.Tag.4.Value': 'U0SRE001',
    });
    expect(fx.server.requestsFor('DescribeDBClusterSnapshots').length).toBeGreaterThanOrEqual(2);
    expect(fx.server.requestsFor('DescribeDBClusters')).toHaveLength(1);
    expect(fx.server.requestsFor('CreateDBSnapshot')).toHaveLength(0);
    expect(progress.at(-1)).toMatch(/available after \d+s$/);

    expect((await provider().verify(record)).status).toBe('available');
  });

  it('DBClusterSnapshotAlreadyExistsFault for its own name is success; the server holds one', async () => {
    fx.server.addCluster(CLUSTER);
    const first = await provider().create(request());
    const second = await provider().create(request());
    expect(second.id).toBe(first.id);
    expect(fx.server.clusterSnapshotIds()).toEqual([NAME]);
  });

  it('rejects names over 63 characters before any call (a 40-character service name)', async () => {
    fx.server.addCluster(CLUSTER);
    const long = snapshotName('a'.repeat(40), new Date('2026-11-21T03:12:07Z'));
    const err = (await rejectionOf(() => provider().create(request(long)))) as AppError;
    expect(err.code).toBe('snapshot_name_invalid');
    expect(err.message).toContain('at most 63');
    expect(fx.server.requests).toHaveLength(0);
  });

  it('DBClusterNotFoundFault names the cluster and snapshot.cluster', async () => {
    const err = (await rejectionOf(() => provider().create(request()))) as AppError;
    expect(err.code).toBe('snapshot_source_not_found');
    expect(userText(err)).toContain(`\`${CLUSTER}\``);
    expect(userText(err)).toContain('services.payments.snapshot.cluster');
  });

  it('InvalidDBClusterStateFault is retried (bounded) and then succeeds', async () => {
    fx.server.addCluster(CLUSTER);
    fx.server.failNext('CreateDBClusterSnapshot', 'InvalidDBClusterStateFault');
    const record = await provider().create(request());
    expect(record.status).toBe('available');
    expect(fx.server.requestsFor('CreateDBClusterSnapshot')).toHaveLength(2);
  });

  it('SnapshotQuotaExceeded names the cluster snapshot quota and is not retried', async () => {
    fx.server.addCluster(CLUSTER);
    fx.server.snapshotQuota = 0;
    const err = (await rejectionOf(() => provider().create(request()))) as AppError;
    expect(err.code).toBe('snapshot_quota_exceeded');
    expect(userText(err)).toContain('Manual DB cluster snapshots');
    expect(fx.server.requestsFor('CreateDBClusterSnapshot')).toHaveLength(1);
  });

  it('a failed cluster snapshot fails fast', async () => {
    fx.server.addCluster(CLUSTER);
    fx.server.failSnapshotsWith('failed');
    const started = Date.now();
    const err = (await rejectionOf(() => provider({ maxWaitMinutes: 5 }).create(request()))) as AppError;
    expect(err.code).toBe('snapshot_failed');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
