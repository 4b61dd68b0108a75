import { code, strong, words } from '../../shared/words.js';
import type { RDSClient } from '@aws-sdk/client-rds';
import { AppError, isAppError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { recoveryInstanceName, type RestorePurpose } from '../../domain/snapshots/snapshot-name.js';
import type {
  Restorer,
  RestoreCheck,
  RestoreHooks,
  RestoreOutcome,
  RestoreRequest,
  SnapshotSummary,
} from '../../domain/snapshots/restorer.js';
import type { SnapshotProgress } from '../../domain/snapshots/snapshot-provider.js';
import { ensureClusterWriter } from './aurora-writer.js';
import { discardRdsCopy } from './rds-discard.js';
import { checkRdsRestore, recentRdsSnapshots, type RdsRestoreSource } from './rds-restore-checks.js';
import {
  restoreClusterFromSnapshot,
  restoreInstanceFromSnapshot,
  restoreInstanceToPointInTime,
} from './rds-restore.js';
import { describeCluster, describeInstance, type RestoreResult } from './rds-restore-support.js';

/** Options shared by the RDS restorers; waits in minutes and seconds as named. */
export interface RdsRestorerOptions {
  client: RDSClient;
  kind: 'instance' | 'cluster';
  /** `snapshot.instance` or `snapshot.cluster`. */
  source: string;
  maxWaitMinutes: number;
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** Aurora: the restored cluster's writer class (`snapshot.writer_instance_class`); default the source writer's. */
  writerInstanceClass?: string;
  service: string;
  clock: Clock;
  logger: Logger;
}

/**
 * Restorer for RDS instances (snapshot or point in time) and Aurora clusters (snapshot, plus
 * the writer instance a restored cluster needs), on the functions of `rds-restore.ts`.
 */
export class RdsRestorer implements Restorer {
  readonly supportsPointInTime: boolean;
  private readonly where: RdsRestoreSource;

  constructor(private readonly options: RdsRestorerOptions) {
    this.supportsPointInTime = options.kind === 'instance';
    this.where = { client: options.client, kind: options.kind, source: options.source, service: options.service };
  }

  targetName(at: Date, purpose: RestorePurpose = 'recovery'): string {
    return recoveryInstanceName(this.options.source, at, purpose);
  }

  connectionUrl(outcome: RestoreOutcome, sourceUrl: string): string {
    const url = new URL(sourceUrl);
    const [host, port] = outcome.endpoint.split(':');
    url.hostname = host!;
    if (port) url.port = port;
    return url.toString();
  }

  check(req: RestoreCheck): Promise<void> {
    return checkRdsRestore(this.where, req);
  }

  recent(limit: number): Promise<SnapshotSummary[]> {
    return recentRdsSnapshots(this.where, limit);
  }

  discard(identifier: string, incidentId: string, onProgress?: SnapshotProgress): Promise<void> {
    const o = this.options;
    return discardRdsCopy({
      client: o.client,
      kind: o.kind,
      identifier,
      incidentId,
      service: o.service,
      maxWaitMinutes: o.maxWaitMinutes,
      minDelaySeconds: o.minDelaySeconds,
      maxDelaySeconds: o.maxDelaySeconds,
      onProgress,
    });
  }

  async restore(req: RestoreRequest, hooks: RestoreHooks, onProgress?: SnapshotProgress): Promise<RestoreOutcome> {
    const o = this.options;
    const common = {
      client: o.client,
      maxWaitMinutes: o.maxWaitMinutes,
      minDelaySeconds: o.minDelaySeconds,
      maxDelaySeconds: o.maxDelaySeconds,
      target: req.target,
      tags: { incident: req.incidentId, 'requested-by': req.requestedBy },
      service: o.service,
      onProgress,
      clock: o.clock,
      logger: o.logger,
      source: o.source,
    };
    let recorded = false;
    const recordCreated = async (target: string): Promise<void> => {
      if (recorded) return;
      recorded = true;
      await hooks.targetCreated(target);
    };
    try {
      let result: RestoreResult;
      const created: string[] = [];
      if (o.kind === 'cluster') {
        if (!req.snapshotId)
          throw new AppError({
            code: 'restore_unsupported',
            message: 'cluster point-in-time restore',
            userMessage: 'Aurora restores here start from a snapshot ID; point-in-time is for RDS instances.',
          });
        result = await restoreClusterFromSnapshot({ ...common, snapshotId: req.snapshotId });
        await recordCreated(result.identifier);
        created.push(
          (await ensureClusterWriter({ ...common, cluster: result.identifier, instanceClass: o.writerInstanceClass }))
            .identifier,
        );
      } else if (req.snapshotId) {
        result = await restoreInstanceFromSnapshot({ ...common, snapshotId: req.snapshotId });
        await recordCreated(result.identifier);
      } else {
        result = await restoreInstanceToPointInTime({ ...common, restoreTime: req.to ?? 'latest' });
        await recordCreated(result.identifier);
      }
      return {
        identifier: result.identifier,
        endpoint: `${result.endpoint.address}:${result.endpoint.port}`,
        elapsedMs: result.elapsedMs,
        ...(created.length ? { created } : {}),
      };
    } catch (err) {
      if (isAppError(err) && err.retryable) throw err; // the job waits again for the same copy
      throw await this.withLeftover(err, req.target, recordCreated);
    }
  }

  /**
   * A restore that failed after its create call leaves a copy that costs money: name it and
   * how to delete it; the bot never deletes an RDS resource on its own.
   */
  private async withLeftover(
    err: unknown,
    target: string,
    recordCreated: (target: string) => Promise<void>,
  ): Promise<unknown> {
    const leftover = await (this.options.kind === 'cluster'
      ? describeCluster(this.options.client, target)
      : describeInstance(this.options.client, target)
    ).catch(() => undefined);
    if (!leftover || !isAppError(err)) return err;
    await recordCreated(target).catch(() => undefined);
    const cluster = this.options.kind === 'cluster';
    const command = cluster
      ? `aws rds delete-db-instance --db-instance-identifier ${target}-writer --skip-final-snapshot; aws rds delete-db-cluster --db-cluster-identifier ${target} --skip-final-snapshot`
      : `aws rds delete-db-instance --db-instance-identifier ${target} --skip-final-snapshot`;
    return new AppError({
      code: err.code,
      message: `${err.message}; leftover ${cluster ? 'cluster' : 'instance'} ${target}`,
      cause: err,
      details: { ...err.details, leftover: target },
      userMessage: words`${err.userMessage ?? err.message} The half-made ${cluster ? 'cluster' : 'instance'} ${code(target)} exists and was left as it is: the bot deletes an RDS resource only when approvers ask it to (the ${strong('Delete')} button below), or by hand: ${code(command)}.`,
    });
  }
}
