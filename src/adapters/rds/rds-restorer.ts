import type { RDSClient } from '@aws-sdk/client-rds';
import { AppError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import { recoveryInstanceName } from '../../snapshots/snapshot-name.js';
import type { Restorer, RestoreOutcome, RestoreRequest } from '../../snapshots/restorer.js';
import type { SnapshotProgress } from '../../snapshots/snapshot-provider.js';
import { restoreClusterFromSnapshot, restoreInstanceFromSnapshot, restoreInstanceToPointInTime, type RestoreResult } from './rds-restore.js';

/** Options shared by the RDS restorers; waits in minutes and seconds as named. */
export interface RdsRestorerOptions {
  client: RDSClient;
  kind: 'instance' | 'cluster';
  /** `snapshot.instance` or `snapshot.cluster`. */
  source: string;
  maxWaitMinutes: number;
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
  service: string;
  clock: Clock;
  logger: Logger;
}

/**
 * Restorer for RDS instances (snapshot or point in time) and Aurora clusters (snapshot),
 * on the functions of `rds-restore.ts`.
 */
export class RdsRestorer implements Restorer {
  readonly supportsPointInTime: boolean;

  constructor(private readonly options: RdsRestorerOptions) {
    this.supportsPointInTime = options.kind === 'instance';
  }

  targetName(at: Date): string {
    return recoveryInstanceName(this.options.source, at);
  }

  async restore(req: RestoreRequest, onProgress?: SnapshotProgress): Promise<RestoreOutcome> {
    const o = this.options;
    const common = {
      client: o.client, maxWaitMinutes: o.maxWaitMinutes, minDelaySeconds: o.minDelaySeconds, maxDelaySeconds: o.maxDelaySeconds,
      target: req.target, tags: { incident: req.incidentId, 'requested-by': req.requestedBy }, service: o.service,
      onProgress, clock: o.clock, logger: o.logger, source: o.source,
    };
    let result: RestoreResult;
    if (o.kind === 'cluster') {
      if (!req.snapshotId) throw new AppError({ code: 'restore_unsupported', message: 'cluster point-in-time restore', userMessage: 'Aurora restores here start from a snapshot ID; point-in-time is for RDS instances.' });
      result = await restoreClusterFromSnapshot({ ...common, snapshotId: req.snapshotId });
    } else if (req.snapshotId) {
      result = await restoreInstanceFromSnapshot({ ...common, snapshotId: req.snapshotId });
    } else {
      result = await restoreInstanceToPointInTime({ ...common, restoreTime: req.to ?? 'latest' });
    }
    return {
      identifier: result.identifier,
      endpoint: `${result.endpoint.address}:${result.endpoint.port}`,
      elapsedMs: result.elapsedMs,
      note: result.kind === 'cluster' ? 'A restored Aurora cluster has no DB instances: add a writer instance before connecting.' : undefined,
    };
  }
}
