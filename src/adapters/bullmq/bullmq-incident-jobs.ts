import { Queue, type JobsOptions } from 'bullmq';
import type { RedisConnection } from '../redis/redis-connection.js';
import type {
  IncidentJobs,
  IncidentRef,
  JobState,
  OnDemandSnapshotRequest,
} from '../../domain/incident/ports/job-queue.js';
import { queueUnreachable, withDeadline } from '../../shared/deadline.js';
import {
  JOB,
  QUEUE_NAMES,
  jobId,
  type DeliverJobPayload,
  type IncidentJobPayload,
  type SnapshotJobPayload,
} from './queues.js';

/** Retries for transient failures (database restarts, snapshot waits): 5 attempts, 2 s doubling. */
const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  // Kept a week so the deterministic job id still dedupes late double presses.
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/**
 * Notice delivery: many quick attempts with the `slack` backoff of `workers.ts` (1 s
 * doubling to 30 s, or Slack's `Retry-After`); once spent, the reconciler sweeps again.
 */
const DELIVERY_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'slack' },
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** How long a queue call may take while a person waits for the answer, ms. */
export const DEFAULT_QUEUE_DEADLINE_MS = 3000;

/**
 * IncidentJobs on BullMQ (https://docs.bullmq.io): job ids derived from the incident and
 * its retry round, one job scheduler per incident for status updates
 * (https://docs.bullmq.io/guide/job-schedulers), and a deadline on every call.
 * `connection` should fail fast when Redis is down (`maxRetriesPerRequest: 1`); workers
 * keep their own blocking connection.
 */
export class BullmqIncidentJobs implements IncidentJobs {
  readonly incidents: Queue<IncidentJobPayload | SnapshotJobPayload>;
  readonly rollbacks: Queue<IncidentJobPayload>;
  readonly notices: Queue<DeliverJobPayload>;
  readonly reconciler: Queue<Record<string, never>>;
  readonly integrationCalls: Queue<DeliverJobPayload>;

  constructor(
    connection: RedisConnection,
    prefix: string,
    private readonly deadlineMs = DEFAULT_QUEUE_DEADLINE_MS,
  ) {
    this.incidents = new Queue(QUEUE_NAMES.incidents, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    this.rollbacks = new Queue(QUEUE_NAMES.rollbacks, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS });
    this.notices = new Queue(QUEUE_NAMES.notices, { connection, prefix, defaultJobOptions: DELIVERY_JOB_OPTIONS });
    this.reconciler = new Queue(QUEUE_NAMES.reconciler, { connection, prefix });
    this.integrationCalls = new Queue(QUEUE_NAMES.integrations, {
      connection,
      prefix,
      defaultJobOptions: DELIVERY_JOB_OPTIONS,
    });
    for (const q of [this.incidents, this.rollbacks, this.notices, this.reconciler, this.integrationCalls])
      q.on('error', () => undefined); // surfaced through the deadline
  }

  private bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    return withDeadline(
      work().catch((err: unknown) => {
        throw queueUnreachable(what, this.deadlineMs, err);
      }),
      this.deadlineMs,
      () => queueUnreachable(what, this.deadlineMs),
    );
  }

  async prepare(incident: IncidentRef): Promise<void> {
    await this.bounded('queue prepare', () =>
      this.incidents.add(
        JOB.prepare,
        { incidentId: incident.id },
        { jobId: jobId.prepare(incident.id, incident.attempt) },
      ),
    );
  }

  async snapshot(request: OnDemandSnapshotRequest): Promise<void> {
    // Snapshots are not retried blindly by the queue: the provider's own retries are bounded.
    await this.bounded('queue snapshot', () =>
      this.incidents.add(JOB.snapshot, { ...request }, { jobId: jobId.snapshot(request.name), attempts: 1 }),
    );
  }

  async discard(incident: IncidentRef): Promise<void> {
    await this.bounded('queue discard', () =>
      this.incidents.add(
        JOB.discard,
        { incidentId: incident.id },
        { jobId: jobId.discard(incident.id, incident.attempt), attempts: 2 },
      ),
    );
  }

  async archive(incident: IncidentRef, delayMs: number): Promise<void> {
    await this.bounded('queue archive', () =>
      this.incidents.add(
        JOB.archive,
        { incidentId: incident.id },
        { jobId: jobId.archive(incident.id), delay: delayMs, attempts: 3 },
      ),
    );
  }

  async rehearse(incident: IncidentRef): Promise<void> {
    await this.bounded('queue rehearsal', () =>
      this.incidents.add(
        JOB.rehearse,
        { incidentId: incident.id },
        { jobId: jobId.rehearse(incident.id, Date.now()), attempts: 1 },
      ),
    );
  }

  async rollback(incident: IncidentRef): Promise<void> {
    // A rollback is not retried blindly: the job resumes from the tracking table, but only a few times.
    await this.bounded('queue rollback', () =>
      this.rollbacks.add(
        JOB.rollback,
        { incidentId: incident.id },
        { jobId: jobId.rollback(incident.id, incident.attempt, incident.basis?.digest), attempts: 3 },
      ),
    );
  }

  async resumeRollback(incident: IncidentRef): Promise<void> {
    const id = jobId.rollback(incident.id, incident.attempt, incident.basis?.digest);
    await this.bounded('resume rollback', async () => {
      const ended = await this.rollbacks.getJob(id);
      const state = ended ? await ended.getState() : 'unknown';
      if (ended && (state === 'failed' || state === 'completed')) await ended.remove();
      await this.rollbacks.add(JOB.rollback, { incidentId: incident.id }, { jobId: id, attempts: 3 });
    });
  }

  async deliver(incidentId: string, noticeId: number, sweep?: number): Promise<void> {
    await this.bounded('queue notice delivery', () =>
      this.notices.add(JOB.deliver, { incidentId }, { jobId: jobId.deliver(incidentId, noticeId, sweep) }),
    );
  }

  async integrations(incidentId: string, callId: number, sweep?: number): Promise<void> {
    await this.bounded('queue integration delivery', () =>
      this.integrationCalls.add(
        JOB.integrations,
        { incidentId },
        { jobId: jobId.integrations(incidentId, callId, sweep) },
      ),
    );
  }

  async approvalsPage(incident: IncidentRef, delayMs: number): Promise<void> {
    await this.bounded('schedule the approvals page', () =>
      this.incidents.add(
        JOB.approvalsPage,
        { incidentId: incident.id },
        {
          jobId: jobId.approvalsPage(incident.id, incident.attempt, incident.basis?.digest),
          delay: Math.max(0, Math.round(delayMs)),
          attempts: 3,
        },
      ),
    );
  }

  async commsReminder(incident: IncidentRef, delayMs: number): Promise<void> {
    await this.bounded('schedule the comms reminder', () =>
      this.incidents.add(
        JOB.commsReminder,
        { incidentId: incident.id },
        { jobId: jobId.commsReminder(incident.id), delay: Math.max(0, Math.round(delayMs)), attempts: 3 },
      ),
    );
  }

  async startStatusUpdates(incidentId: string, everyMinutes: number): Promise<void> {
    await this.bounded('schedule status updates', () =>
      this.incidents.upsertJobScheduler(
        jobId.statusScheduler(incidentId),
        { every: Math.max(1000, Math.round(everyMinutes * 60_000)) },
        {
          name: JOB.statusUpdate,
          data: { incidentId },
          opts: { attempts: 2, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
        },
      ),
    );
  }

  async stopStatusUpdates(incidentId: string): Promise<void> {
    await this.bounded('stop status updates', () =>
      this.incidents.removeJobScheduler(jobId.statusScheduler(incidentId)),
    );
  }

  /**
   * Queues one reconciler pass for time slot `slot` (e.g. the minute number, or a named
   * moment such as Redis coming back): replicas asking for the same slot queue one job, so one
   * reconciler acts per slot however many workers run. Kept an hour so the id keeps deduping.
   */
  async reconcile(slot: number | string): Promise<void> {
    await this.bounded('queue the reconciler', () =>
      this.reconciler.add(
        JOB.reconcile,
        {},
        {
          jobId: `${jobId.reconciler}-${slot}`,
          attempts: 1,
          removeOnComplete: { age: 3600 },
          removeOnFail: { age: 3600 },
        },
      ),
    );
  }

  async states(incident: IncidentRef): Promise<{ prepare: JobState; rollback: JobState; statusUpdates: boolean }> {
    return this.bounded('read job states', async () => {
      const [prepare, rollback, scheduler] = await Promise.all([
        this.incidents.getJobState(jobId.prepare(incident.id, incident.attempt)),
        this.rollbacks.getJobState(jobId.rollback(incident.id, incident.attempt, incident.basis?.digest)),
        this.incidents.getJobScheduler(jobId.statusScheduler(incident.id)),
      ]);
      const norm = (s: string): JobState =>
        s === 'unknown' ? 'missing' : s === 'waiting-children' || s === 'prioritized' ? 'waiting' : (s as JobState);
      return { prepare: norm(prepare), rollback: norm(rollback), statusUpdates: Boolean(scheduler) };
    });
  }

  async describe(incident: IncidentRef): Promise<Record<string, string>> {
    return this.bounded('describe jobs', async () => {
      const out: Record<string, string> = {};
      const [{ prepare, rollback }, scheduler] = await Promise.all([
        this.states(incident),
        this.incidents.getJobScheduler(jobId.statusScheduler(incident.id)),
      ]);
      if (prepare !== 'missing') out.prepare = prepare;
      if (rollback !== 'missing') out.rollback = rollback;
      if (scheduler?.every) out.statusUpdates = `every ${Math.round(Number(scheduler.every) / 60_000)} min`;
      return out;
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.incidents, this.rollbacks, this.notices, this.reconciler, this.integrationCalls].map((q) => q.close()),
    );
  }
}
