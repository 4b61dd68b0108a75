import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { loadEnv } from '../../src/config/env.js';
import { loadServices } from '../../src/config/services.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { startBot, type RunningBot } from '../../src/start-bot.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startSlackApiServer, type SlackApiServer } from './slack-api-server.js';
import { postBlockActions, postSlashCommand, type SendOptions } from './slack-request.js';
import { TOOL_FIXTURES, type ToolFixture } from './tool-fixtures.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const REQUESTER = 'U0REQ001';
export const APPROVERS = ['U0SRE001', 'U0OWN001'] as const;
export const OUTSIDER = 'U0RAND01';

/** Per-test overrides of the ticket-service entry in services.yaml. */
export type ServiceOverrides = Record<string, unknown>;

/**
 * One real bot wired to real things: a fresh state database, a fresh knex-migrated
 * ticket-service database, real Redis under a random queue prefix, the Slack Web API
 * stand-in, and the Bolt HTTP receiver on a loopback port.
 */
export interface Harness {
  slack: SlackApiServer;
  bot: RunningBot;
  ticketDb: TestDatabase;
  stateDb: TestDatabase;
  /** The environment the bot was started with (for a second bot process on the same state). */
  rawEnv: Record<string, string>;
  eventsUrl: string;
  snapshotDir: string;
  /** Sends `/migrate <text>` as `user`; returns the HTTP status and the response_url key. */
  command(text: string, user?: string, options?: SendOptions): Promise<{ status: number; key: string }>;
  /** Presses a plan-card button as `user`. */
  press(action: 'incident_approve' | 'incident_reject' | 'restore_discard', incidentId: string, user: string): Promise<{ status: number; key: string }>;
  /** Stops the bot process parts (app, workers, connections) and starts new ones on the same databases, Redis prefix and port-0 receiver. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  ticketDatabaseUrl?: string;
  snapshotPollSeconds?: number;
  /** Default the machine's Redis; fault tests pass their own redis-server. */
  redisUrl?: string;
  /** Reconciler period, ms (default 60 000 as in production). */
  reconcileEveryMs?: number;
  /** Undelivered-notice sweep age, ms (default 30 000). */
  sweepAfterMs?: number;
  /** Which parts run in the test process (default `all`). */
  role?: 'all' | 'app' | 'worker';
  /** More environment for the bot (e.g. JOB_LOCK_SECONDS). */
  env?: Record<string, string>;
  /** The service's migration tool and fixture database (default knex's ticket-service). */
  fixture?: ToolFixture;
}

export async function startHarness(overrides: ServiceOverrides = {}, options: HarnessOptions = {}): Promise<Harness> {
  const slack = await startSlackApiServer();
  const fixture = options.fixture ?? TOOL_FIXTURES[0]!;
  const [ticketDb, stateDb] = await Promise.all([fixture.createDb(), createTestDatabase('mb_state')]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-bot-'));
  const servicesFile = path.join(dir, 'services.yaml');
  await writeFile(
    servicesFile,
    stringify({
      services: {
        'ticket-service': {
          database_url_env: 'TICKET_DATABASE_URL',
          migrations: fixture.migrations,
          snapshot: { provider: 'pg_dump' },
          approvals: { required: 2, approvers: [...APPROVERS] },
          status_update_minutes: 15,
          lock_timeout: '5s',
          ...overrides,
        },
      },
    }),
  );
  const rawEnv = {
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    DATABASE_URL: stateDb.url,
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    SERVICES_FILE: servicesFile,
    SNAPSHOT_DIR: path.join(dir, 'backups'),
    QUEUE_PREFIX: `mbtest-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'silent',
    TICKET_DATABASE_URL: options.ticketDatabaseUrl ?? ticketDb.url,
    ...options.env,
  };
  const env = loadEnv(rawEnv);
  const services = await loadServices(servicesFile, rawEnv);
  const start = () =>
    startBot({
      env,
      services,
      role: options.role ?? 'all',
      // HARNESS_LOG=debug prints the bot's log while debugging a test.
      logger: process.env.HARNESS_LOG ? createLogger(process.env.HARNESS_LOG) : silentLogger,
      gatePollMs: 300,
      snapshotPollSeconds: options.snapshotPollSeconds,
      reconcileEveryMs: options.reconcileEveryMs,
      sweepAfterMs: options.sweepAfterMs,
    });
  let n = 0;
  const harness: Harness = {
    slack,
    bot: await start(),
    ticketDb,
    stateDb,
    rawEnv,
    eventsUrl: '',
    snapshotDir: env.SNAPSHOT_DIR,
    async restart() {
      await harness.bot.close();
      harness.bot = await start();
      harness.eventsUrl = `http://127.0.0.1:${harness.bot.port}/slack/events`;
    },
    async command(text, user = REQUESTER, sendOptions) {
      const key = `cmd-${++n}`;
      const res = await postSlashCommand(harness.eventsUrl, SIGNING_SECRET, { text, user_id: user, response_url: slack.responseUrl(key) }, sendOptions);
      return { status: res.status, key };
    },
    async press(action, incidentId, user) {
      const key = `press-${++n}`;
      const res = await postBlockActions(harness.eventsUrl, SIGNING_SECRET, {
        user_id: user,
        action_id: action,
        value: incidentId,
        channel_id: 'C0000000',
        message_ts: '1.000',
        response_url: slack.responseUrl(key),
      });
      return { status: res.status, key };
    },
    async close() {
      await harness.bot.close();
      // Remove this test's BullMQ keys so parallel files and later runs start clean.
      const { Redis } = await import('ioredis');
      const r = new Redis(rawEnv.REDIS_URL);
      const keys = await r.keys(`${rawEnv.QUEUE_PREFIX}:*`);
      if (keys.length) await r.del(...keys);
      await r.quit();
      await slack.close();
      await Promise.all([ticketDb.drop(), stateDb.drop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  harness.eventsUrl = `http://127.0.0.1:${harness.bot.port}/slack/events`;
  return harness;
}
