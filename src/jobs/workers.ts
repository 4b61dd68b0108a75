import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IncidentDeps } from '../incident/deps.js';
import { prepareIncident } from '../incident/prepare-incident.js';
import { runRollback } from '../incident/run-rollback.js';
import { postStatusUpdate } from '../incident/status-update.js';
import { isAppError } from '../shared/errors.js';
import { IncidentJobPayload, JOB, QUEUE_NAMES, SnapshotJobPayload } from './queues.js';
import { takeOnDemandSnapshot } from '../incident/on-demand-snapshot.js';

/** Worker settings; times in ms. */
export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  /** How long a rollback waits before looking at the snapshot gate (or the database lock) again. Default 5000. */
  gatePollMs?: number;
  /** Rollback jobs in flight per process (each holds its database's lock). Default 4. */
  rollbackConcurrency?: number;
}

/** Maps a thrown error to BullMQ's retry signal: retryable AppErrors retry, everything else is final. */
function forBullmq(err: unknown): unknown {
  if (isAppError(err) && err.retryable) return err;
  if (err instanceof DelayedError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new UnrecoverableError(e.message);
}

/**
 * Starts the incident and rollback workers (DESIGN.md "jobs/").
 * @returns the workers, to close on shutdown
 */
export function startWorkers(deps: IncidentDeps, options: WorkerOptions): { workers: Worker[]; close(): Promise<void> } {
  const gatePollMs = options.gatePollMs ?? 5000;

  const incidents = new Worker<IncidentJobPayload | SnapshotJobPayload>(
    QUEUE_NAMES.incidents,
    async (job) => {
      const log = deps.logger.child({ jobId: job.id, job: job.name });
      try {
        if (job.name === JOB.snapshot) {
          await takeOnDemandSnapshot(deps, SnapshotJobPayload.parse(job.data));
          return;
        }
        const { incidentId } = IncidentJobPayload.parse(job.data);
        if (job.name === JOB.prepare) await prepareIncident(deps, incidentId);
        else if (job.name === JOB.statusUpdate) await postStatusUpdate(deps, incidentId);
        else throw new UnrecoverableError(`unknown job ${job.name}`);
      } catch (err) {
        log.error({ err }, 'incident job failed');
        throw forBullmq(err);
      }
    },
    { connection: options.connection, prefix: options.prefix, concurrency: 8 },
  );

  const rollbacks = new Worker<IncidentJobPayload>(
    QUEUE_NAMES.rollbacks,
    async (job: Job<IncidentJobPayload>, token?: string) => {
      const data = IncidentJobPayload.parse(job.data);
      const log = deps.logger.child({ incidentId: data.incidentId, jobId: job.id });
      const later = async (): Promise<never> => {
        await job.moveToDelayed(Date.now() + gatePollMs, token);
        throw new DelayedError();
      };
      try {
        const result = await runRollback(deps, data.incidentId);
        log.info({ result }, 'rollback job finished');
        if (result.kind === 'wait_for_snapshot') {
          if (!data.waitingNoticePosted) {
            const incident = await deps.repo.get(data.incidentId);
            if (incident) await deps.notifier.progress(incident, ':hourglass_flowing_sand: Approvals are in; the rollback waits for the snapshot to be available before touching the database.');
            await job.updateData({ ...data, waitingNoticePosted: true });
          }
          await later();
        }
      } catch (err) {
        if (isAppError(err, 'rollback_already_running')) await later();
        if (!(err instanceof DelayedError)) log.error({ err }, 'rollback job failed');
        throw forBullmq(err);
      }
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.rollbackConcurrency ?? 4 },
  );

  for (const w of [incidents, rollbacks]) {
    w.on('error', (err) => deps.logger.error({ err, queue: w.name }, 'worker error'));
  }
  return {
    workers: [incidents, rollbacks],
    async close() {
      await Promise.all([incidents.close(), rollbacks.close()]);
    },
  };
}
