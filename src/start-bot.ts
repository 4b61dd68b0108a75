import { loadTemplates } from './slack/templates.js';
import { incidentSummary } from './incident/summary.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi, type App } from '@slack/bolt';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createMigrationTool } from './adapters/migrations/registry.js';
import { createRestorer, createSnapshotProvider, type SnapshotContext } from './adapters/snapshots/registry.js';
import { PostgresIncidentRepository } from './adapters/postgres/postgres-incident-repository.js';
import { OutboxNotifier } from './adapters/postgres/outbox-notifier.js';
import { PostgresOutbox } from './adapters/postgres/postgres-outbox.js';
import { migrateStateDb } from './adapters/postgres/state-schema.js';
import { measurePlanRisk, runTriage } from './adapters/postgres/triage-runner.js';
import { runVerification } from './adapters/postgres/verification-runner.js';
import { createRdsClient } from './adapters/rds/create-rds-client.js';
import type { Env } from './config/env.js';
import type { ServiceConfig, ServicesConfig } from './config/services.js';
import type { IncidentDeps } from './incident/deps.js';
import { BullmqIncidentJobs } from './jobs/bullmq-incident-jobs.js';
import { startWorkers } from './jobs/workers.js';
import { systemClock, type Clock } from './shared/clock.js';
import type { Logger } from './shared/logger.js';
import { createSlackApp, SLACK_CLIENT_OPTIONS } from './slack/app.js';
import { SlackNotifier } from './slack/slack-notifier.js';
import { SlackDirectory } from './slack/slack-directory.js';

/** Which parts run in this process: `all` (default), the Slack `app`, or the BullMQ `worker`s. */
export type Role = 'all' | 'app' | 'worker';

/** Options of {@link startBot}; times in ms / s as named. */
export interface StartBotOptions {
  env: Env;
  services: ServicesConfig;
  role: Role;
  logger: Logger;
  clock?: Clock;
  /** How often a waiting rollback re-checks the snapshot gate, ms (default 5000). */
  gatePollMs?: number;
  /** RDS waiter minimum delay, s (default 15); tests make it short. */
  snapshotPollSeconds?: number;
  /** How often the reconciler runs, ms (default 60 000); tests make it short. */
  reconcileEveryMs?: number;
  /** A notice undelivered this long is queued again by the reconciler, ms (default 30 000). */
  sweepAfterMs?: number;
}

/** A running bot. */
export interface RunningBot {
  deps: IncidentDeps;
  app: App | null;
  /** HTTP port of the receiver (role app/all without Socket Mode), else null. */
  port: number | null;
  /**
   * Stops taking requests and jobs, lets running jobs finish (a rollback stops after the
   * step in progress and hands its job back), then closes Bolt, BullMQ, Redis and pg.
   */
  close(): Promise<void>;
}

/**
 * Composes and starts migrate-bot: migrates the state database, connects Redis,
 * builds the adapters behind the ports, then starts the Slack app and/or workers.
 * @throws when the state database or Redis is unreachable (the process refuses to start)
 */
export async function startBot(options: StartBotOptions): Promise<RunningBot> {
  const { env, services, role, logger } = options;
  const clock = options.clock ?? systemClock;

  await migrateStateDb(env.DATABASE_URL, logger);
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: env.STATE_DB_POOL_MAX, application_name: 'migrate-bot-state' });
  // Connections that only hold notice-delivery locks, apart from the pool their holders query through.
  const lockPool = new pg.Pool({ connectionString: env.DATABASE_URL, max: env.STATE_DB_LOCK_POOL_MAX, application_name: 'migrate-bot-outbox' });
  for (const p of [pool, lockPool]) p.on('error', (err) => logger.error({ err }, 'state database pool error'));
  // Producers must fail fast when Redis is down, so a person waiting on a command gets an
  // answer (BullMQ "Connections"); workers open their own blocking connections.
  const producerRedis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  producerRedis.on('error', (err) => logger.debug({ error: err.message }, 'redis connection error'));
  producerRedis.on('ready', () => logger.debug('redis connection ready'));
  await producerRedis.connect();
  const jobs = new BullmqIncidentJobs(producerRedis, env.QUEUE_PREFIX);

  const clientOptions = { ...SLACK_CLIENT_OPTIONS, ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) };
  const client = new webApi.WebClient(env.SLACK_BOT_TOKEN, clientOptions);
  const rds = lazy(() => createRdsClient());

  const repo = new PostgresIncidentRepository(pool, clock);
  const outbox = new PostgresOutbox(pool, lockPool);
  const slack = new SlackNotifier(client, services, clock, logger, await loadTemplates(env.TEMPLATES_DIR));
  const shutdown = new AbortController();
  // RDS waiter backoff: the provider's defaults (15–60 s) unless a shorter poll was asked for.
  const pollCeiling = options.snapshotPollSeconds !== undefined ? Math.max(options.snapshotPollSeconds * 2, 2) : undefined;
  const snapshots: SnapshotContext = {
    directory: env.SNAPSHOT_DIR,
    rds,
    protectedIds: async () => new Set((await repo.listOpen()).flatMap((i) => (i.snapshot ? [i.snapshot.id] : []))),
    pollSeconds: options.snapshotPollSeconds,
    pollCeilingSeconds: pollCeiling,
    clock,
    logger,
  };
  const snapshotProvider = (service: ServiceConfig) => createSnapshotProvider(service, snapshots);
  const restorer = (service: ServiceConfig) => createRestorer(service, snapshots);

  const deps: IncidentDeps = {
    services,
    repo,
    notifier: new OutboxNotifier(outbox, (id, noticeId) => jobs.deliver(id, noticeId), (url, text) => slack.reply(url, text), logger),
    jobs,
    migrationTool: (service) => createMigrationTool(service, logger.child({ service: service.name })),
    snapshotProvider,
    restorer,
    triage: (service, opts) => runTriage(service, { ...opts, logger, clock }),
    measureRisk: (service, risk) => measurePlanRisk(service, risk),
    verify: async (service, plan) => {
      const tool = createMigrationTool(service, logger.child({ service: service.name }));
      const toolFor = (svc: ServiceConfig, url: string) => createMigrationTool({ ...svc, database_url: url }, logger.child({ service: svc.name, scratch: true }));
      try {
        return await runVerification(service, plan, { tool, deps: { toolFor, now: () => clock.now() } });
      } finally {
        await tool.close().catch(() => undefined);
      }
    },
    directory: new SlackDirectory(client),
    clock,
    logger,
    shutdown: shutdown.signal,
  };

  const closers: Array<() => Promise<void>> = [];
  let app: App | null = null;
  let port: number | null = null;
  if (role === 'all' || role === 'worker') {
    const workers = await startWorkers(deps, {
      redisUrl: env.REDIS_URL,
      prefix: env.QUEUE_PREFIX,
      delivery: { outbox, slack, repo, logger, summary: (id) => incidentSummary(deps, id) },
      jobs,
      gatePollMs: options.gatePollMs,
      reconcileEveryMs: options.reconcileEveryMs,
      sweepAfterMs: options.sweepAfterMs,
      jobLockMs: env.JOB_LOCK_SECONDS * 1000,
    });
    closers.push(() => workers.close());
  }
  if (role === 'all' || role === 'app') {
    app = createSlackApp(env, deps, logger);
    const started = (await app.start(env.PORT)) as Server | undefined;
    const address = started?.address?.() as AddressInfo | null | undefined;
    port = address ? address.port : env.SLACK_APP_TOKEN ? null : env.PORT;
    const running = app;
    closers.push(() => running.stop().then(() => undefined));
    logger.info({ port, socketMode: Boolean(env.SLACK_APP_TOKEN) }, 'Slack app listening');
  }

  return {
    deps,
    app,
    port,
    async close() {
      shutdown.abort();
      for (const c of closers.reverse()) await c().catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
      await jobs.close().catch(() => undefined);
      await producerRedis.quit().catch(() => undefined);
      await Promise.all([pool.end(), lockPool.end()]);
    },
  };
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
