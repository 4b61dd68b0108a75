import { archiveChannel } from '../../domain/incident/use-cases/archive-channel.js';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { SurfaceDeps } from '../surface-deps.js';
import { failIncident, failureFrom } from '../../domain/incident/use-cases/fail-incident.js';
import { takeOnDemandSnapshot } from '../../domain/incident/use-cases/on-demand-snapshot.js';
import { prepareIncident } from '../../domain/incident/use-cases/prepare-incident.js';
import { reconcileIncidents } from '../../domain/incident/use-cases/reconcile.js';
import { runRollback } from '../../domain/incident/use-cases/run-rollback.js';
import { runDiscard } from '../../domain/incident/use-cases/discard-leftover.js';
import { runRehearsal } from '../../domain/incident/use-cases/rehearse.js';
import { postStatusUpdate } from '../../domain/incident/use-cases/status-update.js';
import { isAppError } from '../../shared/errors.js';
import type { BullmqIncidentJobs } from '../../adapters/bullmq/bullmq-incident-jobs.js';
import { deliverNotices, deliveryBackoffMs, type NoticeDelivery } from './deliver-notices.js';
import {
  DeliverJobPayload,
  IncidentJobPayload,
  JOB,
  QUEUE_NAMES,
  SnapshotJobPayload,
} from '../../adapters/bullmq/queues.js';

/** Worker settings; times in ms. */
export interface WorkerOptions {
  /**
   * Redis URL. Each worker gets a connection of its own (`maxRetriesPerRequest: null`,
   * BullMQ "Connections"): workers sharing one connection stopped fetching jobs for good
   * after Redis restarted empty, while each with its own resumes.
   */
  redisUrl: string;
  prefix: string;
  /** Notice delivery (outbox → Slack). */
  delivery: NoticeDelivery;
  /** The producer side, for the reconciler's notice sweep. */
  jobs: BullmqIncidentJobs;
  /** How long a rollback waits before looking at the snapshot gate (or the database lock) again. Default 5000. */
  gatePollMs?: number;
  /** Rollback jobs in flight per process (each holds its database's lock). Default 4. */
  rollbackConcurrency?: number;
  /** How often the reconciler runs, ms. Default 60 000. */
  reconcileEveryMs?: number;
  /** A notice undelivered this long (ms) is queued again by the reconciler. Default 30 000. */
  sweepAfterMs?: number;
  /** BullMQ `lockDuration` and `stalledInterval`, ms: how soon a dead worker's job is resumed elsewhere. Default 30 000. */
  jobLockMs?: number;
}

/** Maps a thrown error to BullMQ's retry signal: retryable AppErrors retry, everything else is final. */
function forBullmq(err: unknown): unknown {
  if (isAppError(err) && err.retryable) return err;
  if (err instanceof DelayedError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return new UnrecoverableError(e.message);
}

/** True when BullMQ will not try the job again (attempts spent, or an UnrecoverableError). */
function finalFailure(job: Job, err: Error): boolean {
  return (
    err instanceof UnrecoverableError ||
    err.name === 'UnrecoverableError' ||
    job.attemptsMade >= (job.opts.attempts ?? 1)
  );
}

/**
 * Starts the incident, rollback and notice workers (DESIGN.md "jobs/"), the reconciler's
 * job scheduler, and one reconciler pass at start-up. A prepare or rollback job that fails
 * for good fails its incident through the one failure path, so no job failure is only logged.
 * @returns the workers, to close on shutdown (running jobs finish first)
 */
export async function startWorkers(
  deps: SurfaceDeps,
  options: WorkerOptions,
): Promise<{ workers: Worker[]; connected(): void; close(): Promise<void> }> {
  const gatePollMs = options.gatePollMs ?? 5000;
  const connections: Redis[] = [];
  const connection = (): Redis => {
    const c = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    c.on('error', (err) => deps.logger.debug({ error: err.message }, 'worker redis connection error'));
    connections.push(c);
    return c;
  };
  const reconcileEveryMs = options.reconcileEveryMs ?? 60_000;

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
        else if (job.name === JOB.discard) await runDiscard(deps, incidentId);
        else if (job.name === JOB.rehearse) await runRehearsal(deps, incidentId);
        else if (job.name === JOB.archive) await archiveChannel(deps, incidentId);
        else throw new UnrecoverableError(`unknown job ${job.name}`);
      } catch (err) {
        log.error({ err }, 'incident job failed');
        throw forBullmq(err);
      }
    },
    { connection: connection(), prefix: options.prefix, concurrency: 8 },
  );

  const rollbacks = new Worker<IncidentJobPayload>(
    QUEUE_NAMES.rollbacks,
    async (job: Job<IncidentJobPayload>, token?: string) => {
      const data = IncidentJobPayload.parse(job.data);
      const log = deps.logger.child({ incidentId: data.incidentId, jobId: job.id });
      const later = async (delayMs = gatePollMs): Promise<never> => {
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      };
      /** Tells the channel why the rollback waits, once per job, then looks again later. */
      const waitSaying = async (text: string): Promise<never> => {
        if (!data.waitingNoticePosted) {
          const incident = await deps.repo.get(data.incidentId);
          if (incident) await deps.notifier.progress(incident, { kind: 'rollback_waiting', reason: text });
          await job.updateData({ ...data, waitingNoticePosted: true });
        }
        return later();
      };
      try {
        const result = await runRollback(deps, data.incidentId);
        log.info({ result }, 'rollback job finished');
        if (result.kind === 'wait_for_snapshot')
          await waitSaying(
            'Approvals are in; the rollback waits for the snapshot to be available before touching the database.',
          );
      } catch (err) {
        if (isAppError(err, 'worker_shutting_down')) await later(100); // handed back: the next worker resumes after the committed steps
        if (isAppError(err, 'rollback_already_running'))
          await waitSaying(err.userMessage ?? 'Another rollback is running on this database.');
        if (!(err instanceof DelayedError)) log.error({ err }, 'rollback job failed');
        throw forBullmq(err);
      }
    },
    {
      connection: connection(),
      prefix: options.prefix,
      concurrency: options.rollbackConcurrency ?? 4,
      lockDuration: options.jobLockMs ?? 30_000,
      stalledInterval: options.jobLockMs ?? 30_000,
    },
  );

  const notices = new Worker<DeliverJobPayload>(
    QUEUE_NAMES.notices,
    async (job: Job<DeliverJobPayload>, token?: string) => {
      try {
        await deliverNotices(options.delivery, DeliverJobPayload.parse(job.data).incidentId);
      } catch (err) {
        // Waiting for Slack's pace, or for a notice's backoff, is not a failed attempt: the job is put off.
        if (isAppError(err, 'slack_paced') || isAppError(err, 'slack_backoff')) {
          await job.moveToDelayed(Date.now() + deliveryBackoffMs(job.attemptsMade, err), token);
          throw new DelayedError();
        }
        throw err;
      }
    },
    {
      connection: connection(),
      prefix: options.prefix,
      concurrency: 4,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => deliveryBackoffMs(attemptsMade, err),
      },
    },
  );

  const reconciler = new Worker(
    QUEUE_NAMES.reconciler,
    async () => {
      await reconcileIncidents(deps);
      const minute = Math.floor(Date.now() / 60_000);
      for (const s of await options.delivery.outbox.stalled(options.sweepAfterMs ?? 30_000))
        await options.jobs.deliver(s.incidentId, s.noticeId, minute);
    },
    { connection: connection(), prefix: options.prefix, concurrency: 1 },
  );

  // A prepare or rollback job that will not run again fails its incident (one failure path).
  for (const w of [incidents, rollbacks] as Worker[]) {
    w.on('failed', (job, err) => {
      // A discard belongs to an incident that already failed: runDiscard reports its own failure.
      if (
        !job ||
        !finalFailure(job, err) ||
        job.name === JOB.statusUpdate ||
        job.name === JOB.snapshot ||
        job.name === JOB.discard ||
        job.name === JOB.rehearse ||
        job.name === JOB.archive
      )
        return;
      const parsed = IncidentJobPayload.safeParse(job.data);
      if (!parsed.success) return;
      const failure = failureFrom(err, {
        code: job.name === JOB.prepare ? 'prepare_failed' : 'rollback_failed',
        message: `The ${job.name} job failed after ${job.attemptsMade} attempt(s): ${err.message}`,
      });
      void failIncident(deps, parsed.data.incidentId, failure, { actor: `job:${job.name}`, cause: err }).catch(
        (e: unknown) =>
          deps.logger.error(
            { err: e, jobId: job.id },
            'could not fail the incident of a failed job; the reconciler will',
          ),
      );
    });
  }
  // Job run time and failures by queue (migrate_bot_job_duration_seconds, migrate_bot_job_failures_total).
  for (const w of [incidents, rollbacks, notices, reconciler] as Worker[]) {
    const seconds = (job: Job): number =>
      Math.max(0, ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000);
    w.on('completed', (job) =>
      deps.metrics.jobSeconds.observe({ queue: w.name, job: job.name, outcome: 'completed' }, seconds(job)),
    );
    w.on('failed', (job) => {
      if (!job) return;
      deps.metrics.jobSeconds.observe({ queue: w.name, job: job.name, outcome: 'failed' }, seconds(job));
      deps.metrics.jobFailures.inc({ queue: w.name, job: job.name });
    });
  }
  // During a Redis outage every worker errors on each reconnect attempt: one line per worker and error a minute.
  const lastLogged = new Map<string, number>();
  for (const w of [incidents, rollbacks, notices, reconciler] as Worker[]) {
    w.on('error', (err) => {
      const key = `${w.name}:${String(err)}`;
      if (Date.now() - (lastLogged.get(key) ?? 0) < 60_000) return;
      lastLogged.set(key, Date.now());
      deps.logger.warn({ error: String(err), queue: w.name }, 'worker error (repeats within a minute are not logged)');
    });
  }

  // The reconciler: at start-up and every interval. A timer in each worker process rather than
  // a job scheduler stored in Redis, so it comes back by itself after Redis lost its data.
  const reconcile = (): void => {
    void options.jobs
      .reconcile(Math.floor(Date.now() / reconcileEveryMs))
      .catch((err: unknown) => deps.logger.warn({ err }, 'reconciler not queued; next tick tries again'));
  };
  // Warm before anyone is told this process is ready: every worker connection answers.
  await Promise.all([incidents, rollbacks, notices, reconciler].map((w) => w.waitUntilReady()));
  reconcile();
  const timer = setInterval(reconcile, reconcileEveryMs);
  timer.unref();

  return {
    workers: [incidents, rollbacks, notices, reconciler],
    /** Readiness: throws naming the connections that are not `ready` (reconnecting after a Redis outage). */
    connected() {
      const down = connections.filter((c) => c.status !== 'ready').map((c) => c.status);
      if (down.length)
        throw new Error(
          `${down.length} of ${connections.length} worker connections are not ready (${[...new Set(down)].join(', ')})`,
        );
    },
    async close() {
      clearInterval(timer);
      await Promise.all([incidents.close(), rollbacks.close(), notices.close(), reconciler.close()]);
      await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    },
  };
}
