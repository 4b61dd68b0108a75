import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadEnv } from '../config/env.js';
import { loadServices } from '../config/services.js';
import { createMigrationTool } from '../adapters/migrations/migration-tool-registry.js';
import { describePgUrl, recreateDrillDatabase } from '../adapters/postgres/ensure-database.js';
import { redisUnreachable } from '../adapters/bullmq/redis-errors.js';
import type { Logger } from '../shared/logger.js';
import { startBot, type RunningBot } from './start-bot.js';
import { startDrillConsole, type DrillConsole } from '../surfaces/drill/console-server.js';

/** The drill's files in the repository: services.yaml and the demo service's knex migrations. */
export const DRILL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drill');
const SERVICE = 'drill-tickets';

/** Where a drill runs; every field has a local default (see {@link drillOptionsFrom}). */
export interface DrillOptions {
  /** Console port (default 3000, `PORT`). */
  port: number;
  /** Interface the console binds (default 127.0.0.1; `DRILL_BIND=0.0.0.0` in a container). */
  host?: string;
  /** Allow drill databases on a server other than this machine (`--drill-host-ok`). */
  allowRemoteHost?: boolean;
  /** `/healthz`, `/readyz`, `/metrics` port (default 9090, `HTTP_PORT`). */
  httpPort: number;
  /** The drill's own state database: dropped and created afresh at every start. */
  stateDatabaseUrl: string;
  /** The demo service's database: dropped, created and migrated up at every start. */
  serviceDatabaseUrl: string;
  redisUrl: string;
  /** BullMQ key prefix; its keys are removed at start. */
  queuePrefix: string;
  snapshotDir: string;
  logLevel: string;
}

/**
 * Drill settings from the environment, never from the production variables: `DRILL_STATE_DATABASE_URL`
 * (default `postgres://postgres@127.0.0.1:5432/migrate_bot_drill`), `DRILL_DATABASE_URL`
 * (default `…/migrate_bot_drill_tickets`), `REDIS_URL`, `PORT`, `HTTP_PORT`, `DRILL_BIND`. Both databases
 * are the drill's own: created with a marker, and never dropped without it.
 */
export function drillOptionsFrom(env: Record<string, string | undefined>): DrillOptions {
  const server = 'postgres://postgres@127.0.0.1:5432';
  return {
    port: Number(env.PORT ?? 3000),
    host: env.DRILL_BIND ?? '127.0.0.1',
    httpPort: Number(env.HTTP_PORT ?? 9090),
    stateDatabaseUrl: env.DRILL_STATE_DATABASE_URL ?? `${server}/migrate_bot_drill`,
    serviceDatabaseUrl: env.DRILL_DATABASE_URL ?? `${server}/migrate_bot_drill_tickets`,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    queuePrefix: env.DRILL_QUEUE_PREFIX ?? 'migrate-bot-drill',
    snapshotDir: env.DRILL_SNAPSHOT_DIR ?? path.resolve('backups', 'drill'),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}

/** A running drill: the console people open and the real bot behind it. */
export interface RunningDrill {
  console: DrillConsole;
  bot: RunningBot;
  close(): Promise<void>;
}

/** Removes the drill's BullMQ keys so a new drill starts with empty queues. */
async function clearQueues(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } catch (err) {
    throw redisUnreachable(redisUrl, err);
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts a drill: a fresh demo service database (the knex service in `drill/migrations`,
 * migrated up with the bot's own knex adapter: tickets and scans with rows, an index, a check
 * constraint), a fresh state database, empty queues, the console at `http://localhost:<port>/`
 * playing Slack, and the real bot (app and workers) talking to it over HTTP. Type
 * `/migrate rollback 003` in the console and act as each approver.
 * @throws AppError `drill_database_not_ours` / `drill_host_refused` (nothing dropped), `postgres_unreachable` /
 *   `redis_unreachable` naming the server and the command that starts it
 */
export async function startDrill(options: DrillOptions, logger: Logger): Promise<RunningDrill> {
  const hostOk = { allowRemoteHost: options.allowRemoteHost === true };
  await recreateDrillDatabase(
    options.stateDatabaseUrl,
    "the drill's state database (DRILL_STATE_DATABASE_URL)",
    hostOk,
  );
  await clearQueues(options.redisUrl, options.queuePrefix);
  await recreateDrillDatabase(options.serviceDatabaseUrl, "the drill's demo database (DRILL_DATABASE_URL)", hostOk);
  const raw: Record<string, string> = {
    DRILL_DATABASE_URL: options.serviceDatabaseUrl,
    DATABASE_URL: options.stateDatabaseUrl,
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.queuePrefix,
    SERVICES_FILE: path.join(DRILL_DIR, 'services.yaml'),
    SNAPSHOT_DIR: options.snapshotDir,
    LOG_LEVEL: options.logLevel,
    PORT: '0', // Bolt's receiver on a loopback port of its own; the console sends it Slack's requests
    HTTP_PORT: String(options.httpPort),
  };
  const services = await loadServices(raw.SERVICES_FILE!, raw);
  const demo = services.services.get(SERVICE)!;
  const tool = createMigrationTool(demo, logger.child({ drill: true }));
  try {
    // One deploy per migration, so each is its own knex batch as in a service's history.
    const files = (await tool.listFiles()).map((name, i) => ({ name, order: i + 1, appliedAt: null }));
    for (let i = 1; i <= files.length; i++) await tool.migrateUp!(files.slice(0, i));
  } finally {
    await tool.close();
  }

  const drillConsole = await startDrillConsole({
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    info: { service: SERVICE, database: describePgUrl(options.serviceDatabaseUrl), migration: '003' },
  });
  try {
    const env = loadEnv({
      ...raw,
      SLACK_BOT_TOKEN: drillConsole.workspace.botToken,
      SLACK_SIGNING_SECRET: drillConsole.signingSecret,
      SLACK_API_URL: drillConsole.slackApiUrl,
    });
    const bot = await startBot({ env, services, role: 'all', logger });
    drillConsole.connect(`http://127.0.0.1:${bot.port}/slack/events`);
    logger.info(
      { console: drillConsole.url, database: describePgUrl(options.serviceDatabaseUrl) },
      `DRILL: open ${drillConsole.url} and type /migrate rollback 003 (Slack is simulated; the database is a local demo)`,
    );
    return {
      console: drillConsole,
      bot,
      async close() {
        await bot.close();
        await drillConsole.close();
      },
    };
  } catch (err) {
    await drillConsole.close();
    throw err;
  }
}
