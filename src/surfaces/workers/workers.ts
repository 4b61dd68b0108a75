import type { WordsLike } from '../../shared/words.js';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { connectRedis, type RedisConnection, type RedisTarget } from '../../adapters/redis/redis-connection.js';
import type { SurfaceDeps } from '../surface-deps.js';
import { failIncident, failureFrom } from '../../domain/incident/use-cases/fail-incident.js';
import { reconcileIncidents } from '../../domain/incident/use-cases/reconcile.js';
import { expireArchives } from '../../domain/incident/use-cases/archive-retention.js';
import { runRollback } from '../../domain/incident/use-cases/run-rollback.js';
import { isAppError } from '../../shared/errors.js';
import type { BullmqIncidentJobs } from '../../adapters/bullmq/bullmq-incident-jobs.js';
import { deliverNotices, deliveryBackoffMs, type NoticeDelivery } from './deliver-notices.js';
import { deliverIntegrations, type IntegrationDelivery } from './deliver-integrations.js';
import { DeliverJobPayload, IncidentJobPayload, QUEUE_NAMES } from '../../adapters/bullmq/queues.js';
import { INCIDENT_JOB_KINDS, jobKind } from './job-kinds.js';
import { WORKER_DEFAULTS } from './worker-defaults.js';

/** Worker settings; times in ms. */
export interface WorkerOptions {
  /**
   * Redis URL. Each worker gets a connection of its own (`maxRetriesPerRequest: null`,
   * BullMQ "Connections"): workers sharing one connection stopped fetching jobs for good
   * after Redis restarted empty, while each with its own resumes.
   */
  redis: RedisTarget;
  prefix: string;
  /** Notice delivery (outbox → Slack). */
  delivery: NoticeDelivery;
  /** Paging and ticket calls (integration outbox → providers); they run with or without Slack. */
  integrations: IntegrationDelivery;
  /** Run the notice-delivery worker (default true); false where there are no Slack credentials (the CLI). */
  deliverNotices?: boolean;
  /** The producer side, for the reconciler's notice sweep. */
  jobs: BullmqIncidentJobs;
  /** How long a rollback waits before looking at the snapshot gate (or the database lock) again. Default in {@link WORKER_DEFAULTS}. */
  gatePollMs?: number;
  /** Rollback jobs in flight per process (each holds its database's lock). Default in {@link WORKER_DEFAULTS}. */
  rollbackConcurrency?: number;
  /** How often the reconciler runs, ms. Default in {@link WORKER_DEFAULTS}. */
  reconcileEveryMs?: number;
  /** A notice undelivered this long (ms) is queued again by the reconciler. Default in {@link WORKER_DEFAULTS}. */
  sweepAfterMs?: number;
  /** How often the reconciler also drops archives past `archive.keep_days`, ms. Default in {@link WORKER_DEFAULTS}. */
  archiveExpiryEveryMs?: number;
  /** BullMQ `lockDuration` and `stalledInterval`, ms: how soon a dead worker's job is resumed elsewhere. Default in {@link WORKER_DEFAULTS}. */
  jobLockMs?: number;
  /** How long a rollback waits out an unreachable state database before failing, ms. Default in {@link WORKER_DEFAULTS}. */
  stateOutageLimitMs?: number;
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

/** What the worker builders share: the ports, the options, and a fresh Redis connection per worker. */
interface WorkerContext {
  deps: SurfaceDeps;
  options: WorkerOptions;
  connection(): RedisConnection;
  /** Work started beside a job (archive retention), awaited when the workers close. */
  background: Set<Promise<unknown>>;
}

/** The incidents queue: each job kind's handler from the table in job-kinds.ts. */
function startIncidentWorker({ deps, options, connection }: WorkerContext): Worker {
  const handlers = new Map(INCIDENT_JOB_KINDS.map((k) => [k.name, k.handler]));
  return new Worker(
    QUEUE_NAMES.incidents,
    async (job) => {
      const handler = handlers.get(job.name);
      if (!handler) throw new UnrecoverableError(`unknown job ${job.name}`);
      try {
        await handler(deps, job.data);
      } catch (err) {
        deps.logger.child({ jobId: job.id, job: job.name }).error({ err }, 'incident job failed');
        throw forBullmq(err);
      }
    },
    { connection: connection(), prefix: options.prefix, concurrency: WORKER_DEFAULTS.incidents.concurrency },
  );
}

/**
 * The rollback queue: runs the rollback, puts the job off (not a failed attempt) while the
 * snapshot gate or another rollback holds it, saying why once, and hands it back on shutdown.
 */
function startRollbackWorker({ deps, options, connection }: WorkerContext): Worker {
  const gatePollMs = options.gatePollMs ?? WORKER_DEFAULTS.rollbacks.gatePollMs;
  const lockMs = options.jobLockMs ?? WORKER_DEFAULTS.rollbacks.lockDurationMs;
  return new Worker<IncidentJobPayload>(
    QUEUE_NAMES.rollbacks,
    async (job: Job<IncidentJobPayload>, token?: string) => {
      const data = IncidentJobPayload.parse(job.data);
      const log = deps.logger.child({ incidentId: data.incidentId, jobId: job.id });
      const later = async (delayMs = gatePollMs): Promise<never> => {
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      };
      /** Tells the channel why the rollback waits, once per job, then looks again later. */
      const waitSaying = async (reason: WordsLike): Promise<never> => {
        if (!data.waitingNoticePosted) {
          const incident = await deps.repo.get(data.incidentId);
          if (incident) await deps.notifier.progress(incident, { kind: 'rollback_waiting', reason });
          await job.updateData({ ...data, waitingNoticePosted: true });
        }
        return later();
      };
      /**
       * The state database does not answer: wait (no attempt spent) with growing pauses, at most
       * `stateOutageLimitMs` from the first miss; past it the error is final and the reconciler
       * takes over once the database is back.
       */
      const waitOutStateOutage = async (err: unknown): Promise<never> => {
        const since = data.stateOutageSince ?? Date.now();
        const down = Date.now() - since;
        if (down > (options.stateOutageLimitMs ?? WORKER_DEFAULTS.rollbacks.stateOutageLimitMs)) throw err;
        log.warn({ downMs: down }, 'state database unreachable; the rollback waits');
        await job.updateData({ ...data, stateOutageSince: since });
        return later(Math.min(WORKER_DEFAULTS.rollbacks.stateOutageMaxWaitMs, Math.max(500, down / 2)));
      };
      try {
        if (data.stateOutageSince) {
          // Back from a state-database outage: say so once, then go on where the tracking table shows.
          const incident = await deps.repo.get(data.incidentId);
          if (incident)
            await deps.notifier.progress(incident, {
              kind: 'state_db_back',
              downForMs: Date.now() - data.stateOutageSince,
            });
          delete data.stateOutageSince;
          await job.updateData(data);
        }
        const result = await runRollback(deps, data.incidentId);
        log.info({ result }, 'rollback job finished');
        if (result.kind === 'wait_for_snapshot')
          await waitSaying(
            'Approvals are in; the rollback waits for the snapshot to be available before touching the database.',
          );
      } catch (err) {
        if (isAppError(err, 'state_db_unreachable')) await waitOutStateOutage(err);
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
      concurrency: options.rollbackConcurrency ?? WORKER_DEFAULTS.rollbacks.concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
    },
  );
}

/**
 * A delivery queue (Slack notices, or paging and ticket calls): delivers an incident's stored
 * calls; waiting for a pace or a backoff (`slack_paced`, `slack_backoff`, `integration_backoff`)
 * is not a failed attempt.
 */
function startDeliveryWorker(
  { options, connection }: WorkerContext,
  queue: string,
  deliver: (incidentId: string) => Promise<number>,
): Worker {
  return new Worker<DeliverJobPayload>(
    queue,
    async (job: Job<DeliverJobPayload>, token?: string) => {
      try {
        await deliver(DeliverJobPayload.parse(job.data).incidentId);
      } catch (err) {
        if (
          isAppError(err, 'slack_paced') ||
          isAppError(err, 'slack_backoff') ||
          isAppError(err, 'integration_backoff')
        ) {
          await job.moveToDelayed(Date.now() + deliveryBackoffMs(job.attemptsMade, err), token);
          throw new DelayedError();
        }
        throw err;
      }
    },
    {
      connection: connection(),
      prefix: options.prefix,
      concurrency: WORKER_DEFAULTS.notices.concurrency,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => deliveryBackoffMs(attemptsMade, err),
      },
    },
  );
}

/**
 * The reconciler queue: the reconciler's pass, archive retention (at most once per
 * `archiveExpiryEveryMs` in this process; each drop is idempotent across replicas), then notices
 * undelivered too long are queued again.
 */
function startReconcilerWorker({ deps, options, connection, background }: WorkerContext): Worker {
  const sweepAfterMs = options.sweepAfterMs ?? WORKER_DEFAULTS.reconciler.sweepAfterMs;
  const expiryEveryMs = options.archiveExpiryEveryMs ?? WORKER_DEFAULTS.reconciler.archiveExpiryEveryMs;
  let expiredAt = Number.NEGATIVE_INFINITY;
  let expiring: Promise<void> | null = null;
  return new Worker(
    QUEUE_NAMES.reconciler,
    async () => {
      await reconcileIncidents(deps);
      // Retention runs beside the reconciler, never in its way: a service database that does not
      // answer must not hold up the incidents' own reconciliation.
      if (!expiring && Date.now() - expiredAt >= expiryEveryMs) {
        expiredAt = Date.now();
        expiring = expireArchives(deps)
          .catch((err: unknown) => deps.logger.warn({ err }, 'archive retention failed'))
          .then(() => undefined)
          .finally(() => {
            if (expiring) background.delete(expiring);
            expiring = null;
          });
        background.add(expiring);
      }
      const minute = Math.floor(Date.now() / 60_000);
      for (const s of await options.delivery.outbox.stalled(sweepAfterMs))
        await options.jobs.deliver(s.incidentId, s.noticeId, minute);
      for (const s of await options.integrations.outbox.stalled(sweepAfterMs))
        await options.jobs.integrations(s.incidentId, s.noticeId, minute);
    },
    { connection: connection(), prefix: options.prefix, concurrency: WORKER_DEFAULTS.reconciler.concurrency },
  );
}

/** A job whose kind fails its incident and that will not run again fails the incident (one failure path). */
function failIncidentOnFinalFailure(deps: SurfaceDeps, workers: Worker[]): void {
  for (const w of workers) {
    w.on('failed', (job, err) => {
      const fails = job ? jobKind(job.name)?.failsIncident : false;
      if (!job || !fails || !finalFailure(job, err)) return;
      const parsed = IncidentJobPayload.safeParse(job.data);
      if (!parsed.success) return;
      const failure = failureFrom(err, {
        code: fails.code,
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
}

/** Job run time and failures by queue (migrate_bot_job_duration_seconds, migrate_bot_job_failures_total). */
function recordJobMetrics(deps: SurfaceDeps, workers: Worker[]): void {
  const seconds = (job: Job): number =>
    Math.max(0, ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000);
  for (const w of workers) {
    w.on('completed', (job) =>
      deps.metrics.jobSeconds.observe({ queue: w.name, job: job.name, outcome: 'completed' }, seconds(job)),
    );
    w.on('failed', (job) => {
      if (!job) return;
      deps.metrics.jobSeconds.observe({ queue: w.name, job: job.name, outcome: 'failed' }, seconds(job));
      deps.metrics.jobFailures.inc({ queue: w.name, job: job.name });
    });
  }
}

/** During a Redis outage every worker errors on each reconnect attempt: one line per worker and error a window. */
function logWorkerErrorsOnce(deps: SurfaceDeps, workers: Worker[]): void {
  const lastLogged = new Map<string, number>();
  for (const w of workers) {
    w.on('error', (err) => {
      const key = `${w.name}:${String(err)}`;
      if (Date.now() - (lastLogged.get(key) ?? 0) < WORKER_DEFAULTS.errorLogWindowMs) return;
      lastLogged.set(key, Date.now());
      deps.logger.warn({ error: String(err), queue: w.name }, 'worker error (repeats within a minute are not logged)');
    });
  }
}

/**
 * Starts the incident, rollback and notice workers and the reconciler (a timer in each worker
 * process rather than a job scheduler stored in Redis, so it comes back by itself after Redis
 * lost its data), and one reconciler pass at start-up. A prepare or rollback job that fails for
 * good fails its incident through the one failure path, so no job failure is only logged.
 * @returns the workers, to close on shutdown (running jobs finish first)
 */
export async function startWorkers(
  deps: SurfaceDeps,
  options: WorkerOptions,
): Promise<{ workers: Worker[]; connected(): void; close(): Promise<void> }> {
  const connections: RedisConnection[] = [];
  const connection = (): RedisConnection => {
    const c = connectRedis(options.redis, { maxRetriesPerRequest: null });
    c.on('error', (err) => deps.logger.debug({ error: err.message }, 'worker redis connection error'));
    connections.push(c);
    return c;
  };
  const background = new Set<Promise<unknown>>();
  const ctx: WorkerContext = { deps, options, connection, background };
  const incidents = startIncidentWorker(ctx);
  const rollbacks = startRollbackWorker(ctx);
  const workers = [
    incidents,
    rollbacks,
    ...(options.deliverNotices === false
      ? []
      : [startDeliveryWorker(ctx, QUEUE_NAMES.notices, (id) => deliverNotices(options.delivery, id))]),
    startDeliveryWorker(ctx, QUEUE_NAMES.integrations, (id) => deliverIntegrations(options.integrations, id)),
    startReconcilerWorker(ctx),
  ];
  failIncidentOnFinalFailure(deps, [incidents, rollbacks]);
  recordJobMetrics(deps, workers);
  logWorkerErrorsOnce(deps, workers);

  const reconcileEveryMs = options.reconcileEveryMs ?? WORKER_DEFAULTS.reconciler.everyMs;
  const reconcile = (slot: string | number = Math.floor(Date.now() / reconcileEveryMs)): void => {
    void options.jobs
      .reconcile(slot)
      .catch((err: unknown) => deps.logger.warn({ err }, 'reconciler not queued; next tick tries again'));
  };
  // Warm before anyone is told this process is ready: every worker connection answers.
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  reconcile();
  // Redis back after an outage: approvals saved meanwhile get their rollback now, not at the next tick
  // (one pass per 5 s window however many replicas see the reconnect).
  connections[0]?.on('ready', () => reconcile(`redis-back-${Math.floor(Date.now() / 5000)}`));
  const timer = setInterval(reconcile, reconcileEveryMs);
  timer.unref();

  return {
    workers,
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
      await Promise.all(workers.map((w) => w.close()));
      await Promise.allSettled([...background]);
      await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    },
  };
}
