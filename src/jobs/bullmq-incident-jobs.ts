import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { IncidentJobs, OnDemandSnapshotRequest } from '../incident/job-queue.js';
import { JOB, QUEUE_NAMES, jobId, type IncidentJobPayload, type SnapshotJobPayload } from './queues.js';

/** Retries for transient failures (Slack 5xx, database restarts): 5 attempts, 2 s doubling. */
const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  // Kept a week so the deterministic job id still dedupes late double presses.
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * IncidentJobs on BullMQ (https://docs.bullmq.io): job ids derived from the incident,
 * and one job scheduler per incident for status updates
 * (https://docs.bullmq.io/guide/job-schedulers).
 */
export class BullmqIncidentJobs implements IncidentJobs {
  readonly incidents: Queue<IncidentJobPayload | SnapshotJobPayload>;
  readonly rollbacks: Queue<IncidentJobPayload>;

  constructor(connection: Redis, prefix: string) {
    this.incidents = new Queue(QUEUE_NAMES.incidents, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    this.rollbacks = new Queue(QUEUE_NAMES.rollbacks, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
  }

  async prepare(incidentId: string): Promise<void> {
    await this.incidents.add(JOB.prepare, { incidentId }, { jobId: jobId.prepare(incidentId) });
  }

  async snapshot(request: OnDemandSnapshotRequest): Promise<void> {
    // Snapshots are not retried blindly by the queue: the provider's own retries are bounded.
    await this.incidents.add(JOB.snapshot, { ...request }, { jobId: jobId.snapshot(request.name), attempts: 1 });
  }

  async rollback(incidentId: string): Promise<void> {
    // A rollback is not retried blindly: the job resumes from the tracking table, but only a few times.
    await this.rollbacks.add(JOB.rollback, { incidentId }, { jobId: jobId.rollback(incidentId), attempts: 3 });
  }

  async startStatusUpdates(incidentId: string, everyMinutes: number): Promise<void> {
    await this.incidents.upsertJobScheduler(
      jobId.statusScheduler(incidentId),
      { every: Math.max(1000, Math.round(everyMinutes * 60_000)) },
      { name: JOB.statusUpdate, data: { incidentId }, opts: { attempts: 2, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } } },
    );
  }

  async stopStatusUpdates(incidentId: string): Promise<void> {
    await this.incidents.removeJobScheduler(jobId.statusScheduler(incidentId));
  }

  async describe(incidentId: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const prepare = await this.incidents.getJob(jobId.prepare(incidentId));
    if (prepare) out.prepare = await prepare.getState();
    const rollback = await this.rollbacks.getJob(jobId.rollback(incidentId));
    if (rollback) out.rollback = await rollback.getState();
    const scheduler = await this.incidents.getJobScheduler(jobId.statusScheduler(incidentId));
    if (scheduler?.every) out.statusUpdates = `every ${Math.round(Number(scheduler.every) / 60_000)} min`;
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.incidents.close(), this.rollbacks.close()]);
  }
}
