import { describe, expect, it } from 'vitest';
import { RdsClusterSnapshotProvider } from '../../../src/adapters/rds/rds-cluster-snapshot-provider.js';
import { RdsRestorer } from '../../../src/adapters/rds/rds-restorer.js';
import { RdsSnapshotProvider } from '../../../src/adapters/rds/rds-snapshot-provider.js';
import { systemClock } from '../../../src/shared/clock.js';
import type { AppError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import type { RestoreHooks } from '../../../src/domain/snapshots/restorer.js';
import { rejectionOf, useRdsFixture } from './rds-fixture.js';
import { saying, userText } from '../../support/words.js';

const wait = { maxWaitMinutes: 1, minDelaySeconds: 1, maxDelaySeconds: 1 };
const hooks = (): RestoreHooks & { created: string[] } => {
  const created: string[] = [];
  return { created, ownsTarget: false, targetCreated: async (t) => void created.push(t) };
};

describe('RdsRestorer: checks before opening, the Aurora writer, leftovers named (real @aws-sdk/client-rds)', () => {
  const fx = useRdsFixture({ snapshotDelayMs: 200 });
  const snapshotRequest = (name: string) => ({
    incidentId: 'inc-1',
    service: 'tickets',
    migration: '007',
    requestedBy: 'U0SRE001',
    name,
  });

  it('checks an instance snapshot: unknown, of another instance, not yet available, target taken; lists recent ones newest first', async () => {
    fx.server
      .addInstance('tickets-prod')
      .addInstance('billing-prod')
      .addInstance('tickets-prod-recovery-20261121-043059');
    const tickets = new RdsSnapshotProvider({ client: fx.client, instance: 'tickets-prod', ...wait });
    await tickets.create(snapshotRequest('pre-rollback-tickets-20261121-030000'));
    await new Promise((r) => setTimeout(r, 20));
    await tickets.create(snapshotRequest('pre-rollback-tickets-20261121-040000'));
    await new RdsSnapshotProvider({ client: fx.client, instance: 'billing-prod', ...wait }).create(
      snapshotRequest('pre-rollback-billing-20261121-030000'),
    );
    const restorer = new RdsRestorer({
      client: fx.client,
      kind: 'instance',
      source: 'tickets-prod',
      ...wait,
      service: 'tickets',
      clock: systemClock,
      logger: silentLogger,
    });
    const target = restorer.targetName(new Date('2026-11-21T04:31:00Z'));
    const before = fx.server.requests.length;

    await expect(restorer.check({ snapshotId: 'nope', target })).rejects.toMatchObject({
      code: 'restore_snapshot_unknown',
    });
    await expect(restorer.check({ snapshotId: 'pre-rollback-billing-20261121-030000', target })).rejects.toMatchObject({
      code: 'restore_snapshot_foreign',
      userMessage: saying("was taken of `billing-prod`, not of tickets's instance `tickets-prod`"),
    });
    await expect(
      restorer.check({
        snapshotId: 'pre-rollback-tickets-20261121-030000',
        target: 'tickets-prod-recovery-20261121-043059',
      }),
    ).rejects.toMatchObject({ code: 'restore_target_exists' });
    await restorer.check({ snapshotId: 'pre-rollback-tickets-20261121-040000', target });
    const latest = new Date(Date.now() + 3_600_000);
    await expect(restorer.check({ to: latest, target })).rejects.toMatchObject({ code: 'restore_time_invalid' });
    // Nothing but Describe calls.
    expect(
      fx.server.requests
        .slice(before)
        .map((r) => r.action)
        .every((a) => a.startsWith('Describe')),
    ).toBe(true);

    expect((await restorer.recent(5)).map((s) => s.id)).toEqual([
      'pre-rollback-tickets-20261121-040000',
      'pre-rollback-tickets-20261121-030000',
    ]);
  });

  it("restores an Aurora cluster and creates its writer with the source writer's class, then posts the cluster endpoint", async () => {
    fx.server.addCluster('payments-aurora', { engine: 'aurora-postgresql', engineVersion: '15.6' });
    fx.server.addInstance('payments-aurora-writer-1', {
      cluster: 'payments-aurora',
      instanceClass: 'db.r6g.xlarge',
      engine: 'aurora-postgresql',
    });
    await new RdsClusterSnapshotProvider({ client: fx.client, cluster: 'payments-aurora', ...wait }).create(
      snapshotRequest('pre-rollback-payments-20261121-031207'),
    );
    const restorer = new RdsRestorer({
      client: fx.client,
      kind: 'cluster',
      source: 'payments-aurora',
      ...wait,
      service: 'payments',
      clock: systemClock,
      logger: silentLogger,
    });
    const target = restorer.targetName(new Date());
    await restorer.check({ snapshotId: 'pre-rollback-payments-20261121-031207', target });
    const progress: string[] = [];
    const h = hooks();
    const out = await restorer.restore(
      { incidentId: 'inc-2', requestedBy: 'U0REQ001', snapshotId: 'pre-rollback-payments-20261121-031207', target },
      h,
      (t) => void progress.push(t),
    );
    expect(out.identifier).toBe(target);
    expect(out.endpoint).toBe(`${target}.cluster-c0abcdefghij.us-east-1.rds.amazonaws.com:5432`);
    expect(out.created).toEqual([`${target}-writer`]);
    expect(h.created).toEqual([target]);
    expect(fx.server.requestsFor('CreateDBInstance')[0]!.params).toMatchObject({
      DBInstanceIdentifier: `${target}-writer`,
      DBClusterIdentifier: target,
      DBInstanceClass: 'db.r6g.xlarge',
      Engine: 'aurora-postgresql',
    });
    expect(progress.some((p) => p.includes(`Writer instance \`${target}-writer\` available`))).toBe(true);
    expect(fx.server.tagsOf(`${target}-writer`)).toMatchObject({ incident: 'inc-2' });
  });

  it('a configured writer class wins; a source without a writer and no class configured says what to set', async () => {
    fx.server.addCluster('ledger-aurora', { engine: 'aurora-postgresql' });
    await new RdsClusterSnapshotProvider({ client: fx.client, cluster: 'ledger-aurora', ...wait }).create(
      snapshotRequest('pre-rollback-ledger-20261121-031207'),
    );
    const unconfigured = new RdsRestorer({
      client: fx.client,
      kind: 'cluster',
      source: 'ledger-aurora',
      ...wait,
      service: 'ledger',
      clock: systemClock,
      logger: silentLogger,
    });
    const first = unconfigured.targetName(new Date('2026-11-21T05:00:00Z'));
    const failedHooks = hooks();
    const err = (await rejectionOf(() =>
      unconfigured.restore(
        { incidentId: 'i', requestedBy: 'U', snapshotId: 'pre-rollback-ledger-20261121-031207', target: first },
        failedHooks,
      ),
    )) as AppError;
    expect(failedHooks.created).toEqual([first]); // recorded once in the event log, not again for the leftover
    expect(err.code).toBe('restore_writer_class_unknown');
    // The restored cluster is left as it is and named, never deleted silently.
    expect(userText(err)).toContain('`snapshot.writer_instance_class`');
    expect(userText(err)).toContain(`The half-made cluster \`${first}\` exists and was left as it is`);
    expect(err.details).toMatchObject({ leftover: first });
    expect(fx.server.clusterIds()).toContain(first);

    const configured = new RdsRestorer({
      client: fx.client,
      kind: 'cluster',
      source: 'ledger-aurora',
      writerInstanceClass: 'db.r6g.large',
      ...wait,
      service: 'ledger',
      clock: systemClock,
      logger: silentLogger,
    });
    const second = configured.targetName(new Date('2026-11-21T05:00:01Z'));
    expect(second).not.toBe(first);
    const out = await configured.restore(
      { incidentId: 'i', requestedBy: 'U', snapshotId: 'pre-rollback-ledger-20261121-031207', target: second },
      hooks(),
    );
    expect(out.created).toEqual([`${second}-writer`]);
    expect(fx.server.requestsFor('CreateDBInstance').at(-1)!.params.DBInstanceClass).toBe('db.r6g.large');
  });
  it('discard deletes only a copy tagged with this incident, instances before their cluster, without a final snapshot', async () => {
    fx.server.addCluster('orders-aurora', { engine: 'aurora-postgresql' });
    fx.server.addInstance('orders-aurora-1', {
      cluster: 'orders-aurora',
      instanceClass: 'db.r6g.large',
      engine: 'aurora-postgresql',
    });
    await new RdsClusterSnapshotProvider({ client: fx.client, cluster: 'orders-aurora', ...wait }).create(
      snapshotRequest('pre-rollback-orders-20261121-031207'),
    );
    const restorer = new RdsRestorer({
      client: fx.client,
      kind: 'cluster',
      source: 'orders-aurora',
      ...wait,
      service: 'orders',
      clock: systemClock,
      logger: silentLogger,
    });
    const target = restorer.targetName(new Date());
    await restorer.restore(
      { incidentId: 'inc-7', requestedBy: 'U', snapshotId: 'pre-rollback-orders-20261121-031207', target },
      hooks(),
    );
    // Another incident's copy, or production itself, is never deleted.
    await expect(restorer.discard(target, 'inc-other')).rejects.toMatchObject({ code: 'restore_discard_refused' });
    await expect(restorer.discard('orders-aurora', 'inc-7')).rejects.toMatchObject({ code: 'restore_discard_refused' });
    expect(fx.server.requestsFor('DeleteDBInstance')).toHaveLength(0);

    await restorer.discard(target, 'inc-7');
    expect(
      fx.server.requests
        .filter((r) => r.action.startsWith('Delete'))
        .map((r) => [
          r.action,
          r.params.DBInstanceIdentifier ?? r.params.DBClusterIdentifier,
          r.params.SkipFinalSnapshot,
        ]),
    ).toEqual([
      ['DeleteDBInstance', `${target}-writer`, 'true'],
      ['DeleteDBCluster', target, 'true'],
    ]);
    expect(fx.server.clusterIds()).toEqual(['orders-aurora']);
    expect(fx.server.instanceIds()).toEqual(['orders-aurora-1']);
    await restorer.discard(target, 'inc-7'); // already gone: nothing to do
  });
});
