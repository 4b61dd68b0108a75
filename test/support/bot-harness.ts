import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { loadEnv } from '../../src/config/env.js';
import { loadServices } from '../../src/config/services.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { startBot, type RunningBot } from '../../src/main/start-bot.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { Cluster } from 'ioredis';
import { withDeadline } from '../../src/shared/deadline.js';
import { connectRedis, redisTargetOf } from '../../src/adapters/redis/redis-connection.js';
import { startSlackApiServer, type OpenedView, type SlackApiServer } from './slack-api-server.js';
import { query } from './bot-waits.js';
import { STATE_TEMPLATE } from './state-db.js';
import { postBlockActions, postSlashCommand, postViewSubmission, type SendOptions } from './slack-request.js';
import { TOOL_FIXTURES, type ToolFixture } from './tool-fixtures.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
export const REQUESTER = 'U0REQ001';
export const APPROVERS = ['U0SRE001', 'U0OWN001'] as const;
export const OUTSIDER = 'U0RAND01';

/** Per-test overrides of the ticket-service entry in services.yaml. */
export type ServiceOverrides = Record<string, unknown>;

/** Buttons the bot posts. */
export type PressAction =
  | 'incident_approve'
  | 'incident_reject'
  | 'restore_discard'
  | 'incident_restore_instead'
  | 'incident_rehearse'
  | 'incident_stop_now'
  | 'incident_take_command'
  | 'followup_create'
  | 'incident_use_computed';

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
  /**
   * Presses a button of the incident as `user`, with the value on the newest message carrying it
   * (the plan card's value holds the plan digest). An Approve that opens the destructive-plan
   * modal is confirmed by typing `confirm` (default: the service name the modal asks for);
   * `confirm: false` leaves the modal open (see `slack.views`).
   */
  press(
    action: PressAction,
    incidentId: string,
    user: string,
    options?: { confirm?: string | false; value?: string },
  ): Promise<{ status: number; key: string; view?: OpenedView }>;
  /** Submits an opened modal as `user` with `typed` in its input; returns the HTTP answer (a `response_action` when refused). */
  submitView(view: OpenedView, user: string, typed: string): Promise<{ status: number; body: string }>;
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
  /** Instead of REDIS_URL: e.g. `REDIS_SENTINELS` and `REDIS_SENTINEL_NAME`, or `REDIS_CLUSTER_NODES`. */
  redisEnv?: Record<string, string>;
  /** Reconciler period, ms (default 60 000 as in production). */
  reconcileEveryMs?: number;
  /** Undelivered-notice sweep age, ms (default 30 000). */
  sweepAfterMs?: number;
  /** How often archives past keep_days are dropped, ms (default hourly). */
  archiveExpiryEveryMs?: number;
  /** Which parts run in the test process (default `all`). */
  role?: 'all' | 'app' | 'worker' | 'cli';
  /** More environment for the bot (e.g. JOB_LOCK_SECONDS). */
  env?: Record<string, string>;
  /** The service's migration tool and fixture database (default knex's ticket-service). */
  fixture?: ToolFixture;
  /**
   * More services with the ticket-service's settings (bursts of incidents need one service each):
   * a name shares the ticket-service database; `{ name, databaseUrl }` has its own.
   */
  extraServices?: Array<string | { name: string; databaseUrl: string }>;
  /** The bot's state database (default a fresh one on the machine's PostgreSQL); the bot creates and migrates it. */
  stateDb?: TestDatabase;
}

export async function startHarness(overrides: ServiceOverrides = {}, options: HarnessOptions = {}): Promise<Harness> {
  const slack = await startSlackApiServer();
  const fixture = options.fixture ?? TOOL_FIXTURES[0]!;
  const [ticketDb, stateDb] = await Promise.all([
    fixture.createDb(),
    options.stateDb ?? createTestDatabase('mb_state', STATE_TEMPLATE),
  ]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-bot-'));
  const servicesFile = path.join(dir, 'services.yaml');
  await writeFile(
    servicesFile,
    stringify(
      {
        services: {
          'ticket-service': {
            database_url_env: 'TICKET_DATABASE_URL',
            migrations: fixture.migrations,
            snapshot: { provider: 'pg_dump' },
            // Rate limits have their own test (access.test.ts); bursts elsewhere come from one test user.
            access: { requesters: 'anyone', rate_limits: { incidents_per_hour: 1000, commands_per_minute: 1000 } },
            // Two approvals for every plan, destructive ones included (each still typed-confirmed); tests of the tiers override this.
            approvals: { required: 2, destructive: 2, approvers: [...APPROVERS] },
            status_update_minutes: 15,
            lock_timeout: '5s',
            ...overrides,
          },
          ...Object.fromEntries(
            (options.extraServices ?? []).map((e, i) => [
              typeof e === 'string' ? e : e.name,
              {
                database_url_env: typeof e === 'string' ? 'TICKET_DATABASE_URL' : `EXTRA_${i}_DATABASE_URL`,
                migrations: fixture.migrations,
                snapshot: { provider: 'pg_dump' },
                access: { requesters: 'anyone', rate_limits: { incidents_per_hour: 1000, commands_per_minute: 1000 } },
                approvals: { required: 2, destructive: 2, approvers: [...APPROVERS] },
                lock_timeout: '5s',
              },
            ]),
          ),
        },
      },
      { aliasDuplicateObjects: false },
    ), // one service per entry, written out (no YAML aliases)
  );
  const rawEnv = {
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    HTTP_PORT: '0',
    // Pacing has its own tests (concurrent-incidents); elsewhere Slack's limits would only slow the tests down.
    SLACK_CHANNEL_MESSAGES_PER_SECOND: '50',
    SLACK_TIER_SCALE: '20',
    DATABASE_URL: stateDb.url,
    ...(options.redisEnv ?? { REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379' }),
    SERVICES_FILE: servicesFile,
    SNAPSHOT_DIR: path.join(dir, 'backups'),
    QUEUE_PREFIX: `mbtest-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'silent',
    TICKET_DATABASE_URL: options.ticketDatabaseUrl ?? ticketDb.url,
    ...Object.fromEntries(
      (options.extraServices ?? []).flatMap((e, i) =>
        typeof e === 'string' ? [] : [[`EXTRA_${i}_DATABASE_URL`, e.databaseUrl]],
      ),
    ),
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
      archiveExpiryEveryMs: options.archiveExpiryEveryMs,
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
      const res = await postSlashCommand(
        harness.eventsUrl,
        SIGNING_SECRET,
        { text, user_id: user, response_url: slack.responseUrl(key) },
        sendOptions,
      );
      return { status: res.status, key };
    },
    async press(action, incidentId, user, pressOptions = {}) {
      const key = `press-${++n}`;
      const trigger = `${Date.now()}.${n}.${randomBytes(8).toString('hex')}`;
      const res = await postBlockActions(harness.eventsUrl, SIGNING_SECRET, {
        user_id: user,
        action_id: action,
        value: pressOptions.value ?? buttonValue(slack, action, incidentId),
        channel_id: 'C0000000',
        message_ts: '1.000',
        response_url: slack.responseUrl(key),
        trigger_id: trigger,
      });
      if (action !== 'incident_approve' || pressOptions.confirm === false) {
        const view =
          action === 'incident_approve' ? await waitForView(harness, trigger, key, incidentId, user) : undefined;
        return { status: res.status, key, ...(view ? { view } : {}) };
      }
      const view = await waitForView(harness, trigger, key, incidentId, user);
      if (view) {
        const placeholder =
          (view.view.blocks as Array<{ type: string; element?: { placeholder?: { text?: string } } }>).find(
            (b) => b.type === 'input',
          )?.element?.placeholder?.text ?? '';
        await harness.submitView(view, user, pressOptions.confirm ?? placeholder);
      }
      return { status: res.status, key, ...(view ? { view } : {}) };
    },
    async submitView(view, user, typed) {
      const res = await postViewSubmission(harness.eventsUrl, SIGNING_SECRET, {
        user_id: user,
        view: { ...view.view, id: view.id },
        values: { confirm_service: { service_name: typed } },
      });
      return { status: res.status, body: res.body };
    },
    async close() {
      // As the process does (SHUTDOWN_GRACE_SECONDS): running work gets 30 s, then the cleanup goes on without it.
      await withDeadline(harness.bot.close(), 30_000, () => new Error('bot.close did not finish within 30 s')).catch(
        (err: Error) => console.warn(`harness: ${err.message}; cleaning up anyway`),
      );
      // Remove this test's BullMQ keys so parallel files and later runs start clean.
      // Bounded: a Redis that is gone (a test's own, stopped) must not hold up the cleanup.
      const r = connectRedis(redisTargetOf(env), { maxRetriesPerRequest: 1, connectTimeout: 3000 });
      r.on('error', () => undefined);
      try {
        const keys = (
          await Promise.all(
            (r instanceof Cluster ? r.nodes('master') : [r]).map((n) => n.keys(`*${rawEnv.QUEUE_PREFIX}*`)),
          )
        ).flat();
        // One DEL for a single server; key by key on a Cluster, whose DEL cannot span hash slots.
        if (!(r instanceof Cluster) && keys.length) await r.del(...keys);
        else for (const key of keys) await r.del(key);
      } catch {
        // Redis gone (a test stopped its own): its keys went with it.
      } finally {
        r.disconnect();
      }
      await slack.close();
      await Promise.all([ticketDb.drop(), stateDb.drop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  harness.eventsUrl = `http://127.0.0.1:${harness.bot.port}/slack/events`;
  return harness;
}

/** The value of the newest button `action` of the incident the bot posted (the plan card's carries the plan digest), else the incident id. */
function buttonValue(slack: SlackApiServer, action: string, incidentId: string): string {
  let value = incidentId;
  for (const m of slack.messages()) {
    for (const b of m.blocks as Array<{ type?: string; elements?: Array<{ action_id?: string; value?: string }> }>) {
      for (const e of b.type === 'actions' ? (b.elements ?? []) : [])
        if (e.action_id === action && e.value?.startsWith(incidentId)) value = e.value;
    }
  }
  return value;
}

/**
 * After an Approve press: the modal the bot opened for it (by trigger_id), or undefined once the
 * press was otherwise answered (an approval recorded, or a reply to the presser).
 */
async function waitForView(
  h: Harness,
  trigger: string,
  key: string,
  incidentId: string,
  user: string,
): Promise<OpenedView | undefined> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const view = h.slack.views.find((v) => v.trigger_id === trigger);
    if (view) return view;
    if (h.slack.responses.some((r) => r.key === key)) return undefined;
    const rows = await query(h.stateDb.url, 'SELECT 1 FROM approvals WHERE incident_id = $1 AND user_id = $2', [
      incidentId,
      user,
    ]).catch(() => []);
    if (rows.length) return undefined;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the Approve press by ${user} got no answer within 15 s: no modal, no approval recorded, no reply`);
}
