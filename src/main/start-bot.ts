import { loadTemplates } from '../adapters/slack/templates.js';
import { incidentSummary } from '../domain/incident/use-cases/summary.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { webApi, App } from '@slack/bolt';
import { createMigrationTool } from '../adapters/migrations/migration-tool-registry.js';
import {
  createRestorer,
  createSnapshotProvider,
  type SnapshotContext,
} from '../adapters/snapshots/snapshot-provider-registry.js';
import { noticeText } from '../adapters/slack/render/notice-text.js';
import { PostgresSlackIncidentStore } from '../adapters/postgres/postgres-slack-incident-store.js';
import { PostgresIncidentRepository } from '../adapters/postgres/postgres-incident-repository.js';
import { OutboxNotifier } from '../adapters/postgres/outbox-notifier.js';
import { integrationDelivery, processAdapters } from './process-wiring.js';
import { PostgresOutbox } from '../adapters/postgres/postgres-outbox.js';
import { createStatePool } from '../adapters/postgres/state-pool.js';
import {
  connectRedis,
  queuePrefixFor,
  redisTargetOf,
  warnUnlessNoeviction,
} from '../adapters/redis/redis-connection.js';
import { migrateStateDb } from '../adapters/postgres/state-schema.js';
import { warnOnWritableTriageRoles } from '../adapters/postgres/triage-role-check.js';
import { measurePlanRisk, runTriage } from '../adapters/postgres/triage-runner.js';
import { schemaParts } from './schema-wiring.js';
import { postgresArchiveCatalog } from '../adapters/postgres/archive-catalog.js';
import { PostgresWriteSamples } from '../adapters/postgres/write-samples.js';
import { createRdsClient } from '../adapters/rds/create-rds-client.js';
import { createS3Client } from '../adapters/s3/create-s3-client.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Env, slackConfigured } from '../config/env.js';
import type { ServiceConfig, ServicesConfig } from '../config/services.js';
import type { SurfaceDeps } from '../surfaces/surface-deps.js';
import { BullmqIncidentJobs } from '../adapters/bullmq/bullmq-incident-jobs.js';
import { startWorkers } from '../surfaces/workers/workers.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { createSlackApp, SLACK_CLIENT_OPTIONS } from '../surfaces/slack/bolt-app.js';
import { SeenSlackRequests } from '../adapters/slack/seen-requests.js';
import { CommandRateLimiter } from '../adapters/redis/command-rate-limiter.js';
import { SlackNotifier } from '../adapters/slack/slack-notifier.js';
import { SlackDirectory } from '../adapters/slack/slack-directory.js';
import { InstrumentedWebClient } from '../adapters/slack/instrumented-client.js';
import { SlackPacer, TIER_PER_MINUTE } from '../adapters/slack/slack-pacing.js';
import { ensureDatabase } from '../adapters/postgres/ensure-database.js';
import { redisUnreachable } from '../adapters/bullmq/redis-errors.js';
import { createMetrics, timed, type Metrics } from '../surfaces/ops/metrics.js';
import { startOpsServer, type ReadinessCheck } from '../surfaces/ops/ops-server.js';
import { slackReachable } from '../adapters/slack/slack-reachable.js';
import type { MigrationTool } from '../domain/rollback/migration-tool.js';
import type { SnapshotProvider } from '../domain/snapshots/snapshot-provider.js';
import type http from 'node:http';

/**
 * Which parts run in this process: `all` (default), the Slack `app`, the BullMQ `worker`s, or
 * `cli` — neither: the CLI's commands call the use cases and enqueue jobs, nothing more.
 */
export type Role = 'all' | 'app' | 'worker' | 'cli';

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
  /** How often archives past `archive.keep_days` are dropped, ms (default hourly); tests make it short. */
  archiveExpiryEveryMs?: number;
  /** More routes on the ops server (the drill console); see {@link startOpsServer}. */
  extraRoutes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
  /** Skip the ops server (the CLI, which answers in a terminal and exits). */
  noOpsServer?: boolean;
}

/** A running bot. */
export interface RunningBot {
  deps: SurfaceDeps;
  app: App | null;
  /** HTTP port of the receiver (role app/all without Socket Mode), else null. */
  port: number | null;
  /** Port of `/healthz`, `/readyz`, `/metrics` (`HTTP_PORT`), null when not served. */
  opsPort: number | null;
  metrics: Metrics;
  /**
   * Stops taking requests and jobs, lets running jobs finish (a rollback stops after the
   * step in progress and hands its job back), then closes Bolt, BullMQ, Redis and pg.
   */
  close(): Promise<void>;
}

/**
 * Composes and starts migrate-bot: creates the state database if it is missing and migrates
 * it, connects Redis, checks the bot token with `auth.test` (role app/all), builds the
 * adapters behind the ports, starts the workers and/or the Slack app, and opens the ops port
 * (`/healthz`, `/readyz`, `/metrics`) last, when every connection is warm.
 * @throws AppError `postgres_unreachable`, `redis_unreachable`, `slack_unreachable` or
 *   `slack_auth_failed`, each naming the dependency and what to do (the process refuses to start)
 */
export async function startBot(options: StartBotOptions): Promise<RunningBot> {
  const { env, services, role, logger } = options;
  const clock = options.clock ?? systemClock;

  const created = await ensureDatabase(env.DATABASE_URL, "the bot's state database (DATABASE_URL)");
  if (created === 'created') logger.info('state database did not exist: created it');
  await migrateStateDb(env.DATABASE_URL, logger);
  // Once per app process, not in every worker replica; not awaited: a slow service database must
  // not hold up the start, the warning follows when it answers.
  if (role === 'all' || role === 'app') void warnOnWritableTriageRoles(services.services.values(), logger);
  const idleError = (err: Error) => logger.error({ err }, 'state database pool error');
  const pool = createStatePool(
    { connectionString: env.DATABASE_URL, max: env.STATE_DB_POOL_MAX, application_name: 'migrate-bot-state' },
    idleError,
  );
  // Connections that only hold notice-delivery locks, apart from the pool their holders query through.
  const lockPool = createStatePool(
    { connectionString: env.DATABASE_URL, max: env.STATE_DB_LOCK_POOL_MAX, application_name: 'migrate-bot-outbox' },
    idleError,
  );
  // Producers must fail fast when Redis is down, so a person waiting on a command gets an
  // answer (BullMQ "Connections"); workers open their own blocking connections.
  const redisTarget = redisTargetOf(env);
  const queuePrefix = queuePrefixFor(redisTarget, env.QUEUE_PREFIX);
  const producerRedis = connectRedis(redisTarget, { maxRetriesPerRequest: 1, lazyConnect: true });
  producerRedis.on('error', (err) => logger.debug({ error: err.message }, 'redis connection error'));
  producerRedis.on('ready', () => logger.debug('redis connection ready'));
  await producerRedis.connect().catch((err: unknown) => {
    producerRedis.disconnect();
    throw redisUnreachable(redisTarget, err);
  });
  void warnUnlessNoeviction(producerRedis, logger);
  const jobs = new BullmqIncidentJobs(producerRedis, queuePrefix);

  const clientOptions = { ...SLACK_CLIENT_OPTIONS, ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) };
  const repo = new PostgresIncidentRepository(pool, clock);
  const slackStore = new PostgresSlackIncidentStore(pool);
  let countOpenBySeverity = async (): Promise<Record<string, number>> => ({});
  const metrics = createMetrics(
    () => repo.countByState(),
    () => countOpenBySeverity(),
  );
  const scale = (n: number) => Math.max(1, Math.round(n * env.SLACK_TIER_SCALE));
  const pacer = new SlackPacer({
    redis: producerRedis,
    prefix: queuePrefix,
    perChannelPerSecond: env.SLACK_CHANNEL_MESSAGES_PER_SECOND,
    perMinute: {
      1: scale(TIER_PER_MINUTE[1]),
      2: scale(TIER_PER_MINUTE[2]),
      3: scale(TIER_PER_MINUTE[3]),
      4: scale(TIER_PER_MINUTE[4]),
    },
    tierWindowSeconds: env.SLACK_TIER_WINDOW_SECONDS,
  });
  const client: webApi.WebClient = new InstrumentedWebClient(
    env.SLACK_BOT_TOKEN,
    clientOptions,
    metrics.slackCalls,
    pacer,
  );
  if (role === 'all' || role === 'app') await slackReachable(client, env.SLACK_API_URL);
  const rds = lazy(() => createRdsClient());
  const s3Clients = new Map<boolean, S3Client>();
  const s3 = ({ forcePathStyle }: { forcePathStyle: boolean }): S3Client => {
    const known = s3Clients.get(forcePathStyle);
    if (known) return known;
    const client = createS3Client({ forcePathStyle });
    s3Clients.set(forcePathStyle, client);
    return client;
  };

  const outbox = new PostgresOutbox(pool, lockPool);
  const processParts = processAdapters(pool, lockPool, repo, jobs, metrics, logger);
  countOpenBySeverity = () => processParts.process.openBySeverity();
  const slack = new SlackNotifier(client, services, clock, logger, await loadTemplates(env.TEMPLATES_DIR));
  const shutdown = new AbortController();
  // RDS waiter backoff: the provider's defaults (15–60 s) unless a shorter poll was asked for.
  const pollCeiling =
    options.snapshotPollSeconds !== undefined ? Math.max(options.snapshotPollSeconds * 2, 2) : undefined;
  const snapshots: SnapshotContext = {
    directory: env.SNAPSHOT_DIR,
    rds,
    s3,
    protectedIds: async () => new Set((await repo.listOpen()).flatMap((i) => (i.snapshot ? [i.snapshot.id] : []))),
    pollSeconds: options.snapshotPollSeconds,
    pollCeilingSeconds: pollCeiling,
    clock,
    logger,
  };
  const snapshotProvider = (service: ServiceConfig) =>
    timedSnapshots(createSnapshotProvider(service, snapshots), service, metrics);
  const restorer = (service: ServiceConfig) => createRestorer(service, snapshots);

  const deps: SurfaceDeps = {
    services,
    repo,
    notifier: new OutboxNotifier(
      outbox,
      (id, noticeId) => jobs.deliver(id, noticeId),
      (url, message) => slack.reply(url, typeof message === 'string' ? message : noticeText(message)),
      logger,
    ),
    jobs,
    process: processParts.process,
    integrations: processParts.integrations,
    migrationTool: (service) =>
      timedDowns(createMigrationTool(service, logger.child({ service: service.name })), service, metrics),
    snapshotProvider,
    restorer,
    triage: (service, opts) => runTriage(service, { ...opts, logger, clock }),
    measureRisk: (service, risk) => measurePlanRisk(service, risk),
    ...schemaParts(pool, clock, logger),
    archive: postgresArchiveCatalog,
    samples: new PostgresWriteSamples(pool),
    directory: new SlackDirectory(client),
    clock,
    logger,
    metrics,
    rateLimiter: new CommandRateLimiter(producerRedis, queuePrefix),
    shutdown: shutdown.signal,
  };

  const closers: Array<() => Promise<void>> = [];
  let app: App | null = null;
  let port: number | null = null;
  let workersConnected: (() => void) | null = null;
  if (role === 'all' || role === 'worker') {
    const workers = await startWorkers(deps, {
      redis: redisTarget,
      prefix: queuePrefix,
      delivery: { outbox, slack, repo, slackStore, logger, pacer, summary: (id) => incidentSummary(deps, id) },
      integrations: integrationDelivery(processParts.outbox, deps),
      // Without Slack credentials (the CLI), notices stay in the outbox for the bot's own workers.
      deliverNotices: slackConfigured(env),
      jobs,
      gatePollMs: options.gatePollMs,
      reconcileEveryMs: options.reconcileEveryMs,
      sweepAfterMs: options.sweepAfterMs,
      archiveExpiryEveryMs: options.archiveExpiryEveryMs,
      jobLockMs: env.JOB_LOCK_SECONDS * 1000,
    });
    closers.push(() => workers.close());
    workersConnected = () => workers.connected();
  }
  if (role === 'all' || role === 'app') {
    // Warm before the port opens: state-database connections made now, not by the first burst's requests.
    const warm = await Promise.all(Array.from({ length: Math.min(4, env.STATE_DB_POOL_MAX) }, () => pool.connect()));
    for (const c of warm) c.release();
    app = createSlackApp(env, deps, logger, client, new SeenSlackRequests(producerRedis, queuePrefix));
    const started = (await app.start(env.PORT)) as Server | undefined;
    const address = started?.address?.() as AddressInfo | null | undefined;
    port = address ? address.port : env.SLACK_APP_TOKEN ? null : env.PORT;
    const running = app;
    closers.push(() => running.stop().then(() => undefined));
    logger.info({ port, socketMode: Boolean(env.SLACK_APP_TOKEN) }, 'Slack app listening');
  }

  let opsPort: number | null = null;
  if (!options.noOpsServer) {
    const checks: ReadinessCheck[] = [
      { name: 'state_db', check: async () => void (await pool.query('SELECT 1')) },
      { name: 'redis', check: async () => void (await producerRedis.ping()) },
      ...(workersConnected ? [{ name: 'workers', check: async () => workersConnected?.() }] : []),
      ...(role === 'worker' || role === 'cli'
        ? []
        : [{ name: 'slack', check: () => slackReachable(client, env.SLACK_API_URL) }]),
    ];
    const ops = await startOpsServer({
      port: env.HTTP_PORT,
      host: env.HTTP_BIND,
      ...(env.METRICS_TOKEN ? { metricsToken: env.METRICS_TOKEN } : {}),
      registry: metrics.registry,
      checks,
      extra: options.extraRoutes,
    });
    opsPort = ops.port;
    closers.unshift(() => ops.close());
    logger.info({ port: opsPort }, 'health, readiness and metrics listening (/healthz, /readyz, /metrics)');
  }

  return {
    deps,
    app,
    port,
    opsPort,
    metrics,
    async close() {
      shutdown.abort();
      for (const c of closers.reverse())
        await c().catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
      await jobs.close().catch(() => undefined);
      await producerRedis.quit().catch(() => undefined);
      await Promise.all([pool.end(), lockPool.end()]);
    },
  };
}

/** The provider with each snapshot's creation timed into `migrate_bot_snapshot_duration_seconds`. */
function timedSnapshots(provider: SnapshotProvider, service: ServiceConfig, metrics: Metrics): SnapshotProvider {
  const create = provider.create.bind(provider);
  provider.create = (...args) =>
    timed(metrics.snapshotSeconds, { provider: service.snapshot.provider }, 'ok', () => create(...args));
  return provider;
}

/** The tool with each down migration timed into `migrate_bot_down_step_duration_seconds`. */
function timedDowns(tool: MigrationTool, service: ServiceConfig, metrics: Metrics): MigrationTool {
  const runDown = tool.runDown.bind(tool);
  tool.runDown = (...args) =>
    timed(metrics.downStepSeconds, { tool: service.migrations.tool }, 'done', () => runDown(...args));
  return tool;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
