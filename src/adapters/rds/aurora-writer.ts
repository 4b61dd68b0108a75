import { CreateDBInstanceCommand } from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import { formatDuration, systemClock } from '../../shared/clock.js';
import { INSTANCE_IDENTIFIER_MAX_LENGTH } from '../../domain/snapshots/snapshot-name.js';
import { isTargetAlreadyExists, mapRdsError, type RdsErrorContext } from './rds-errors.js';
import { describeCluster, describeInstance, waitForInstance, type RestoreOptions } from './rds-restore-support.js';

/** `<cluster>-writer`, within RDS's 63-character DB instance limit. */
export function writerInstanceName(cluster: string): string {
  const suffix = '-writer';
  return `${cluster.slice(0, INSTANCE_IDENTIFIER_MAX_LENGTH - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/**
 * Makes a restored Aurora cluster usable: RDS restores a cluster's storage only, with no DB
 * instance to connect to (RDS docs "Restoring from a DB cluster snapshot": "you must create the
 * primary instance"). Creates the writer `<cluster>-writer` with `CreateDBInstance`
 * (`DBClusterIdentifier`, the cluster's engine, and `instanceClass` or else the class of the
 * source cluster's writer), then waits until it is `available`. A retried job that finds a
 * writer already in the cluster waits for it instead.
 * @param options.source the production cluster, whose writer's class is copied
 * @returns the writer's identifier and the time the writer took, ms
 * @throws AppError `restore_writer_class_unknown` (configure `snapshot.writer_instance_class`),
 *   `restore_wait_timeout` (retryable), `restore_failed`, mapped RDS errors
 */
export async function ensureClusterWriter(
  options: RestoreOptions & { cluster: string; source: string; instanceClass?: string },
): Promise<{ identifier: string; elapsedMs: number }> {
  const { client, cluster, source } = options;
  const clock = options.clock ?? systemClock;
  const ctx: RdsErrorContext = {
    operation: 'CreateDBInstance',
    area: 'restore',
    source: { kind: 'cluster', id: source },
    service: options.service,
    target: cluster,
    maxWaitMinutes: options.maxWaitMinutes,
  };
  const mapped =
    (operation: string) =>
    (err: unknown): never => {
      throw mapRdsError(err, { ...ctx, operation });
    };
  const restored = await describeCluster(client, cluster).catch(mapped('DescribeDBClusters'));
  const existing = restored?.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
  const identifier = existing ?? writerInstanceName(cluster);
  const started = clock.now().getTime();
  if (!existing) {
    let instanceClass = options.instanceClass;
    if (!instanceClass) {
      const sourceWriter = (
        await describeCluster(client, source).catch(mapped('DescribeDBClusters'))
      )?.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
      instanceClass = sourceWriter
        ? (await describeInstance(client, sourceWriter).catch(mapped('DescribeDBInstances')))?.DBInstanceClass
        : undefined;
    }
    if (!instanceClass) {
      throw new AppError({
        code: 'restore_writer_class_unknown',
        message: `no writer instance class for ${cluster}: ${source} has no writer to copy it from`,
        userMessage: `The restored cluster \`${cluster}\` needs a writer instance, and \`${source}\` has no writer to copy its class from. Set \`snapshot.writer_instance_class\` (e.g. \`db.r6g.large\`) in services.yaml, then \`/migrate retry\`.`,
      });
    }
    try {
      await client.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: identifier,
          DBClusterIdentifier: cluster,
          DBInstanceClass: instanceClass,
          Engine: restored?.Engine,
          Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    } catch (err) {
      // A retried call whose first attempt got through: the instance exists in this cluster.
      const mine =
        isTargetAlreadyExists(err) &&
        (await describeInstance(client, identifier).catch(() => undefined))?.DBClusterIdentifier === cluster;
      if (!mine) mapped('CreateDBInstance')(err);
    }
    await options.onProgress?.(
      `Creating the writer instance \`${identifier}\` (${instanceClass}) in the restored cluster \`${cluster}\`…`,
    );
  }
  await waitForInstance(options, { ...ctx, target: identifier }, identifier);
  const elapsedMs = clock.now().getTime() - started;
  await options.onProgress?.(`Writer instance \`${identifier}\` available after ${formatDuration(elapsedMs)}.`);
  return { identifier, elapsedMs };
}
