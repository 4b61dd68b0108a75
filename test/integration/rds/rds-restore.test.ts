import { describe, expect, it } from 'vitest';
import { RdsClusterSnapshotProvider } from '../../../src/adapters/rds/rds-cluster-snapshot-provider.js';
import {
  restoreClusterFromSnapshot,
  restoreInstanceFromSnapshot,
  restoreInstanceToPointInTime,
} from '../../../src/adapters/rds/rds-restore.js';
import { RdsSnapshotProvider } from '../../../src/adapters/rds/rds-snapshot-provider.js';
import type { Clock } from '../../../src/shared/clock.js';
import type { AppError } from '../../../src/shared/errors.js';
import { RESTORE_DELAY_MS, rejectionOf, useRdsFixture } from './rds-fixture.js';
import { userText } from '../../support/words.js';

const SOURCE = 'tickettoken-production';
const CLUSTER = 'payments-aurora';
const SNAPSHOT = 'pre-rollback-tickets-20261121-031207';
const LRT = new Date('2026-11-21T03:07:00.000Z');
const FIXED: Clock = { now: () => new Date('2026-11-21T04:30:59.000Z') };
const RECOVERY = 'tickettoken-production-recovery-20261121-043059';

const RESTORE_ACTIONS = [
  'RestoreDBInstanceFromDBSnapshot',
  'RestoreDBInstanceToPointInTime',
  'RestoreDBClusterFromSnapshot',
];

describe('restore to a new instance against the loopback RDS endpoint (real @aws-sdk/client-rds)', () => {
  const fx = useRdsFixture({ snapshotDelayMs: 300 });

  const wait = { maxWaitMinutes: 1, minDelaySeconds: 1, maxDelaySeconds: 1 };

  async function seedSnapshot(): Promise<void> {
    fx.server.addInstance(SOURCE, {
      latestRestorableTime: LRT,
      subnetGroup: 'prod-db-subnets',
      securityGroups: ['sg-0prod1', 'sg-0prod2'],
      endpoint: { address: 'tickettoken-production.c0abcdefghij.us-east-1.rds.amazonaws.com', port: 5432 },
    });
    await new RdsSnapshotProvider({ client: fx.client, instance: SOURCE, ...wait }).create({
      incidentId: 'inc-0001',
      service: 'tickets',
      migration: '007_add_security_tables.ts',
      requestedBy: 'U0SRE001',
      name: SNAPSHOT,
    });
    fx.server.requests.length = 0;
  }

  it('restores a snapshot to <source>-recovery-<yyyymmdd-hhmmss>, in the source network, and returns its endpoint', async () => {
    await seedSnapshot();
    const progress: string[] = [];
    const result = await restoreInstanceFromSnapshot({
      client: fx.client,
      snapshotId: SNAPSHOT,
      source: SOURCE,
      clock: FIXED,
      ...wait,
      tags: { incident: 'inc-0001' },
      onProgress: (t) => {
        progress.push(t);
      },
    });

    expect(result).toMatchObject({
      identifier: RECOVERY,
      kind: 'instance',
      status: 'available',
      endpoint: { address: `${RECOVERY}.c0abcdefghij.us-east-1.rds.amazonaws.com`, port: 5432 },
    });
    expect(result.identifier).not.toBe(SOURCE);

    const restore = fx.server.requestsFor('RestoreDBInstanceFromDBSnapshot');
    expect(restore).toHaveLength(1);
    expect(restore[0]!.params).toMatchObject({
      DBInstanceIdentifier: RECOVERY,
      DBSnapshotIdentifier: SNAPSHOT,
      DBSubnetGroupName: 'prod-db-subnets',
      'VpcSecurityGroupIds.VpcSecurityGroupId.1': 'sg-0prod1',
      'VpcSecurityGroupIds.VpcSecurityGroupId.2': 'sg-0prod2',
    });
    expect(fx.server.tagsOf(RECOVERY)).toEqual({ 'restored-from': SNAPSHOT, incident: 'inc-0001' });
    // Waited with DescribeDBInstances on the NEW identifier; the source was never a restore target.
    expect(
      fx.server.requestsFor('DescribeDBInstances').some((r) => r.params['DBInstanceIdentifier'] === RECOVERY),
    ).toBe(true);
    expect(fx.server.instanceIds().sort()).toEqual([SOURCE, RECOVERY].sort());
    expect(progress.at(-1)).toContain(`at \`${RECOVERY}.c0abcdefghij.us-east-1.rds.amazonaws.com:5432\``);
  });

  it('measures the wait with the real clock', async () => {
    await seedSnapshot();
    const result = await restoreInstanceFromSnapshot({
      client: fx.client,
      snapshotId: SNAPSHOT,
      source: SOURCE,
      target: 'tickets-recovery-a',
      ...wait,
    });
    expect(result.identifier).toBe('tickets-recovery-a');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(RESTORE_DELAY_MS);
  });

  it('a retried restore with the same target reuses its own copy', async () => {
    await seedSnapshot();
    const first = await restoreInstanceFromSnapshot({
      client: fx.client,
      snapshotId: SNAPSHOT,
      source: SOURCE,
      clock: FIXED,
      ...wait,
    });
    const second = await restoreInstanceFromSnapshot({
      client: fx.client,
      snapshotId: SNAPSHOT,
      source: SOURCE,
      clock: FIXED,
      ...wait,
    });
    expect(second.identifier).toBe(first.identifier);
    expect(fx.server.instanceIds()).toHaveLength(2);
    expect(fx.server.requestsFor('RestoreDBInstanceFromDBSnapshot')).toHaveLength(2);
  });

  it('an existing instance with the target name that is not ours is restore_target_exists', async () => {
    await seedSnapshot();
    fx.server.addInstance('reporting-db');
    const err = (await rejectionOf(() =>
      restoreInstanceFromSnapshot({
        client: fx.client,
        snapshotId: SNAPSHOT,
        source: SOURCE,
        target: 'reporting-db',
        ...wait,
      }),
    )) as AppError;
    expect(err.code).toBe('restore_target_exists');
    expect(userText(err)).toContain('reporting-db');
  });

  it.each([SOURCE, 'TicketToken-Production'])(
    'refuses to restore onto the source (%s) and sends no restore call',
    async (target) => {
      await seedSnapshot();
      const fromSnapshot = (await rejectionOf(() =>
        restoreInstanceFromSnapshot({ client: fx.client, snapshotId: SNAPSHOT, source: SOURCE, target, ...wait }),
      )) as AppError;
      expect(fromSnapshot.code).toBe('restore_target_is_source');
      expect(userText(fromSnapshot)).toContain('never overwrites production');

      const pitr = (await rejectionOf(() =>
        restoreInstanceToPointInTime({ client: fx.client, source: SOURCE, restoreTime: 'latest', target, ...wait }),
      )) as AppError;
      expect(pitr.code).toBe('restore_target_is_source');
      expect(fx.server.requests.filter((r) => RESTORE_ACTIONS.includes(r.action))).toHaveLength(0);
    },
  );

  it('restores to a point in time as a new instance', async () => {
    await seedSnapshot();
    const at = new Date(LRT.getTime() - 60_000);
    const result = await restoreInstanceToPointInTime({
      client: fx.client,
      source: SOURCE,
      restoreTime: at,
      clock: FIXED,
      ...wait,
    });
    expect(result.identifier).toBe(RECOVERY);
    expect(result.identifier).not.toBe(SOURCE);
    expect(result.endpoint).toEqual({ address: `${RECOVERY}.c0abcdefghij.us-east-1.rds.amazonaws.com`, port: 5432 });
    const restore = fx.server.requestsFor('RestoreDBInstanceToPointInTime');
    expect(restore).toHaveLength(1);
    expect(restore[0]!.params).toMatchObject({
      SourceDBInstanceIdentifier: SOURCE,
      TargetDBInstanceIdentifier: RECOVERY,
      DBSubnetGroupName: 'prod-db-subnets',
    });
    // The SDK serialises timestamps as ISO-8601 without milliseconds.
    expect(Date.parse(restore[0]!.params['RestoreTime']!)).toBe(at.getTime());
    expect(restore[0]!.params['UseLatestRestorableTime']).toBeUndefined();
  });

  it('restores to the latest restorable time', async () => {
    await seedSnapshot();
    const result = await restoreInstanceToPointInTime({
      client: fx.client,
      source: SOURCE,
      restoreTime: 'latest',
      target: 'tickets-latest',
      ...wait,
    });
    expect(result.identifier).toBe('tickets-latest');
    expect(fx.server.requestsFor('RestoreDBInstanceToPointInTime')[0]!.params['UseLatestRestorableTime']).toBe('true');
  });

  it('a time after LatestRestorableTime is refused before the restore call', async () => {
    await seedSnapshot();
    const err = (await rejectionOf(() =>
      restoreInstanceToPointInTime({
        client: fx.client,
        source: SOURCE,
        restoreTime: new Date(LRT.getTime() + 60_000),
        ...wait,
      }),
    )) as AppError;
    expect(err.code).toBe('restore_time_invalid');
    expect(userText(err)).toContain(LRT.toISOString());
    expect(fx.server.requestsFor('RestoreDBInstanceToPointInTime')).toHaveLength(0);
  });

  it('a point-in-time restore of an unknown instance names it and snapshot.instance', async () => {
    const err = (await rejectionOf(() =>
      restoreInstanceToPointInTime({
        client: fx.client,
        source: 'no-such-db',
        restoreTime: 'latest',
        service: 'tickets',
        ...wait,
      }),
    )) as AppError;
    expect(err.code).toBe('restore_source_not_found');
    expect(userText(err)).toContain('`no-such-db`');
    expect(userText(err)).toContain('services.tickets.snapshot.instance');
  });

  it('an error reading the source network stops the restore instead of using the default VPC', async () => {
    await seedSnapshot();
    fx.server.failNext('DescribeDBInstances', 'AccessDenied', 403, 'not authorized to perform rds:DescribeDBInstances');
    const err = (await rejectionOf(() =>
      restoreInstanceFromSnapshot({
        client: fx.client,
        snapshotId: SNAPSHOT,
        source: SOURCE,
        target: 'tickets-x',
        ...wait,
      }),
    )) as AppError;
    expect(err.code).toBe('rds_access_denied');
    expect(userText(err)).toContain('`rds:DescribeDBInstances`');
    expect(fx.server.requests.filter((r) => RESTORE_ACTIONS.includes(r.action))).toHaveLength(0);
  });

  it('an unknown snapshot is snapshot_not_found', async () => {
    fx.server.addInstance(SOURCE);
    const err = (await rejectionOf(() =>
      restoreInstanceFromSnapshot({
        client: fx.client,
        snapshotId: 'pre-rollback-tickets-19990101-000000',
        source: SOURCE,
        ...wait,
      }),
    )) as AppError;
    expect(err.code).toBe('snapshot_not_found');
  });

  it('a restore that never becomes available is restore_wait_timeout', async () => {
    await seedSnapshot();
    fx.server.restoresNeverComplete = true;
    const err = (await rejectionOf(() =>
      restoreInstanceFromSnapshot({
        client: fx.client,
        snapshotId: SNAPSHOT,
        source: SOURCE,
        target: 'tickets-slow',
        ...wait,
        maxWaitMinutes: 0.05,
      }),
    )) as AppError;
    expect(err.code).toBe('restore_wait_timeout');
    expect(err.retryable).toBe(true);
    expect(userText(err)).toContain('tickets-slow');
  });

  it('restores an Aurora cluster snapshot to a new cluster with the snapshot engine', async () => {
    fx.server.addCluster(CLUSTER, {
      engine: 'aurora-postgresql',
      engineVersion: '15.6',
      subnetGroup: 'aurora-subnets',
      securityGroups: ['sg-0aurora'],
    });
    const name = 'pre-rollback-payments-20261121-031207';
    await new RdsClusterSnapshotProvider({ client: fx.client, cluster: CLUSTER, ...wait }).create({
      incidentId: 'inc-0002',
      service: 'payments',
      migration: '012_split_ledger.ts',
      requestedBy: 'U0SRE001',
      name,
    });
    const result = await restoreClusterFromSnapshot({
      client: fx.client,
      snapshotId: name,
      source: CLUSTER,
      clock: FIXED,
      ...wait,
    });
    expect(result).toMatchObject({
      identifier: 'payments-aurora-recovery-20261121-043059',
      kind: 'cluster',
      status: 'available',
      endpoint: {
        address: 'payments-aurora-recovery-20261121-043059.cluster-c0abcdefghij.us-east-1.rds.amazonaws.com',
        port: 5432,
      },
    });
    expect(fx.server.requestsFor('RestoreDBClusterFromSnapshot')[0]!.params).toMatchObject({
      DBClusterIdentifier: 'payments-aurora-recovery-20261121-043059',
      SnapshotIdentifier: name,
      Engine: 'aurora-postgresql',
      EngineVersion: '15.6',
      DBSubnetGroupName: 'aurora-subnets',
      'VpcSecurityGroupIds.VpcSecurityGroupId.1': 'sg-0aurora',
    });
    expect(fx.server.clusterIds().sort()).toEqual([CLUSTER, 'payments-aurora-recovery-20261121-043059'].sort());

    const onto = (await rejectionOf(() =>
      restoreClusterFromSnapshot({ client: fx.client, snapshotId: name, source: CLUSTER, target: CLUSTER, ...wait }),
    )) as AppError;
    expect(onto.code).toBe('restore_target_is_source');
  });
});
