import {
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  waitUntilDBClusterDeleted,
  waitUntilDBInstanceDeleted,
  type RDSClient,
  type Tag,
} from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import type { SnapshotProgress } from '../../domain/snapshots/snapshot-provider.js';
import { isSourceNotFound, mapRdsError, type RdsErrorContext } from './rds-errors.js';
import { describeCluster, describeInstance } from './rds-restore-support.js';

/** Options of {@link discardRdsCopy}; waits in minutes and seconds as named. */
export interface DiscardOptions {
  client: RDSClient;
  kind: 'instance' | 'cluster';
  identifier: string;
  incidentId: string;
  service: string;
  maxWaitMinutes: number;
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  onProgress?: SnapshotProgress;
}

const taggedFor = (tags: Tag[] | undefined, incidentId: string): boolean =>
  tags?.some((t) => t.Key === 'incident' && t.Value === incidentId) === true;

/**
 * Deletes a copy a failed restore left behind (RDS API `DeleteDBInstance` / `DeleteDBCluster`
 * with `SkipFinalSnapshot`: it is a copy of a snapshot that still exists). For a cluster its
 * instances go first (RDS refuses to delete a cluster that has any), each waited for with
 * `waitUntilDBInstanceDeleted`, then the cluster with `waitUntilDBClusterDeleted`. Only a
 * resource tagged `incident=<incidentId>` — one this incident's restore made — is touched;
 * one already gone counts as deleted.
 * @throws AppError `restore_discard_refused` when the resource is not this incident's, mapped RDS errors
 */
export async function discardRdsCopy(o: DiscardOptions): Promise<void> {
  const ctx: RdsErrorContext = {
    operation: o.kind === 'cluster' ? 'DeleteDBCluster' : 'DeleteDBInstance',
    area: 'restore',
    service: o.service,
    target: o.identifier,
  };
  const fail =
    (operation: string) =>
    (err: unknown): never => {
      throw mapRdsError(err, { ...ctx, operation });
    };
  const waitFor = {
    client: o.client,
    maxWaitTime: o.maxWaitMinutes * 60,
    minDelay: o.minDelaySeconds ?? 30,
    maxDelay: o.maxDelaySeconds ?? 60,
  };
  const refuse = (): never => {
    throw new AppError({
      code: 'restore_discard_refused',
      message: `${o.identifier} is not tagged incident=${o.incidentId}`,
      userMessage: `\`${o.identifier}\` was not made by this incident (no \`incident\` tag with its id), so the bot will not delete it. Nothing was deleted.`,
    });
  };
  const deleteInstance = async (id: string): Promise<void> => {
    await o.client
      .send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      )
      .catch((err: unknown) => {
        if (!isSourceNotFound(err)) fail('DeleteDBInstance')(err);
      });
    await o.onProgress?.(`Deleting instance \`${id}\`…`);
    await waitUntilDBInstanceDeleted(waitFor, { DBInstanceIdentifier: id }).catch(fail('wait'));
  };

  if (o.kind === 'instance') {
    const instance = await describeInstance(o.client, o.identifier).catch(fail('DescribeDBInstances'));
    if (!instance) return;
    if (!taggedFor(instance.TagList, o.incidentId)) refuse();
    await deleteInstance(o.identifier);
    return;
  }
  const cluster = await describeCluster(o.client, o.identifier).catch(fail('DescribeDBClusters'));
  if (!cluster) return;
  if (!taggedFor(cluster.TagList, o.incidentId)) refuse();
  for (const member of cluster.DBClusterMembers ?? [])
    if (member.DBInstanceIdentifier) await deleteInstance(member.DBInstanceIdentifier);
  await o.client
    .send(new DeleteDBClusterCommand({ DBClusterIdentifier: o.identifier, SkipFinalSnapshot: true }))
    .catch((err: unknown) => {
      if (!isSourceNotFound(err)) fail('DeleteDBCluster')(err);
    });
  await o.onProgress?.(`Deleting cluster \`${o.identifier}\`…`);
  await waitUntilDBClusterDeleted(waitFor, { DBClusterIdentifier: o.identifier }).catch(fail('wait'));
}
