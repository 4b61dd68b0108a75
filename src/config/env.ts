import { z } from 'zod';
import { AppError } from '../shared/errors.js';

/**
 * Process environment, validated once at start-up (DESIGN.md "Conventions": zod at start-up).
 * Only `config/` reads `process.env`; everything else receives these typed values.
 */
/** `host:port,host:port`: Redis Sentinel or Cluster addresses. */
const HostPortList = z
  .string()
  .regex(
    /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/,
    'must be host:port pairs separated by commas, like 10.0.0.1:26379,10.0.0.2:26379',
  )
  .transform((v) =>
    v.split(',').map((pair) => {
      const [host, port] = pair.split(':');
      return { host: host!, port: Number(port) };
    }),
  );

export const EnvSchema = z.object({
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, 'must be a bot token starting with xoxb-')
    .refine((v) => !PLACEHOLDERS.has(v), PLACEHOLDER_MESSAGE('OAuth & Permissions → Bot User OAuth Token')),
  SLACK_SIGNING_SECRET: z
    .string()
    .min(8, 'must be the app signing secret (Basic Information page)')
    .refine((v) => !PLACEHOLDERS.has(v), PLACEHOLDER_MESSAGE('Basic Information → App Credentials → Signing Secret')),
  /** When set, the app connects with Socket Mode instead of the HTTP receiver. */
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token starting with xapp-')
    .optional(),
  /** Base URL of the Slack Web API (Bolt `clientOptions.slackApiUrl`); default Slack's own. */
  SLACK_API_URL: z.url().optional(),
  /** HTTP receiver port; requests arrive at POST /slack/events. In a drill, the console's port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Port of `/healthz`, `/readyz` and `/metrics`, served by every role (Socket Mode and workers included). */
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
  /**
   * Interface the ops port binds: 127.0.0.1 by default (`npm start` on a laptop); the image sets
   * 0.0.0.0 so the kubelet's probes and Prometheus reach it.
   */
  HTTP_BIND: z
    .union([z.ipv4(), z.ipv6()], { error: 'must be an IP address such as 127.0.0.1 or 0.0.0.0' })
    .default('127.0.0.1'),
  /**
   * When set, `/metrics` answers only requests with `Authorization: Bearer <METRICS_TOKEN>`
   * (Prometheus `authorization: { credentials_file: … }`); `/healthz` and `/readyz` stay open for probes.
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The bot's own state database (incidents, approvals, event log). */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string'),
  /** One Redis server; or give REDIS_SENTINELS + REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES, instead. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** Redis Sentinel addresses, `host:port,host:port,…`; the bot follows the primary of REDIS_SENTINEL_NAME through failovers. */
  REDIS_SENTINELS: HostPortList.optional(),
  /** The Sentinel master name (`sentinel monitor <name> …`). */
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'must be the master name from sentinel.conf, like mymaster')
    .optional(),
  /** Redis Cluster seed nodes, `host:port,host:port,…`; queue keys get a hash tag. */
  REDIS_CLUSTER_NODES: HostPortList.optional(),
  /** Password of the Redis data nodes with REDIS_SENTINELS or REDIS_CLUSTER_NODES (a REDIS_URL carries its own). */
  REDIS_PASSWORD: z.string().min(1).optional(),
  SERVICES_FILE: z.string().min(1).default('./services.yaml'),
  /** Directory for pg_dump snapshots. */
  SNAPSHOT_DIR: z.string().min(1).default('./backups'),
  /** Directory of editable message templates (`initial-notice.md`, `status-update.md`, `resolution.md`); each file present replaces the shipped default. */
  TEMPLATES_DIR: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** BullMQ key prefix; lets tests (and staging next to production) share one Redis. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/)
    .default('migrate-bot'),
  /**
   * Seconds SIGTERM waits for running work (a rollback finishes the step in progress) before
   * the process exits anyway; keep it below the orchestrator's kill timeout (Kubernetes
   * terminationGracePeriodSeconds, default 30; docker stop -t, default 10).
   */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(25),
  /**
   * Seconds a worker's hold on a running job lasts without renewal (BullMQ `lockDuration`,
   * renewed every half of it; "Stalled jobs"). A worker killed mid-rollback loses the job
   * after this long and another worker resumes it after the committed steps.
   */
  JOB_LOCK_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  /**
   * Connections the state database pool may open (node-postgres `Pool` `max`). No code path
   * holds one while waiting for another, so a small pool slows a burst down and never deadlocks.
   */
  STATE_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * New messages a second per channel (chat.postMessage, thread replies included). Slack allows
   * about one ("Rate limits": chat.postMessage), with short bursts; raise it only for a stand-in.
   */
  SLACK_CHANNEL_MESSAGES_PER_SECOND: z.coerce.number().min(0.1).max(100).default(1),
  /** Multiplies Slack's per-minute tiers (Tier 2: 20, Tier 3: 50, Tier 4: 100) the bot paces itself to; 1 unless Slack raised your app's limits. */
  SLACK_TIER_SCALE: z.coerce.number().min(0.01).max(100).default(1),
  /**
   * Length of one tier window, s: Slack counts per minute (60). Shorter only for a stand-in, so a
   * test sees a Tier 2 window pass in seconds; the tier's calls per window stay as scaled above.
   */
  SLACK_TIER_WINDOW_SECONDS: z.coerce.number().int().min(1).max(60).default(60),
  /**
   * Slash commands whose work (after the ack) runs at once in this process; the rest wait their
   * turn. The work is I/O-bound and held while acks are still due (`slack/acks-first.ts`), so more
   * at once only crowds the state and service databases (100 concurrent `/migrate rollback` before
   * acks came first: ack p99 1,296 ms at 16, 557 ms at 4).
   */
  POST_ACK_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(4),
  /**
   * CLI only: the Slack user ID of the person at the terminal, set by the operator's environment
   * (not typed per command). The CLI acts as this user: a requester for rollback and snapshot,
   * a reader for the rest (services.yaml `access:`), and the operator named on recorded approvals.
   */
  MIGRATE_BOT_CLI_USER: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,}$/, 'must be your Slack user ID, like U0SRE001 (Slack: profile → ⋮ → Copy member ID)')
    .optional(),
  /** Connections that only hold notice-delivery advisory locks (one per incident being delivered at once). */
  STATE_DB_LOCK_POOL_MAX: z.coerce.number().int().min(1).max(100).default(4),
});

/**
 * The Redis variables checked together: exactly one way to reach Redis (run by {@link loadEnv}
 * even when other variables are wrong, so every problem is named at once).
 */
function redisIssues(env: Record<string, unknown>): Array<{ path: string; message: string }> {
  const modes = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].filter((n) => env[n] !== undefined);
  const issues: Array<{ path: string; message: string }> = [];
  if (modes.length === 0)
    issues.push({
      path: 'REDIS_URL',
      message: 'is required (or REDIS_SENTINELS with REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES)',
    });
  if (modes.length > 1)
    issues.push({ path: modes[1]!, message: `cannot be set together with ${modes[0]}: choose one` });
  if (env.REDIS_SENTINELS !== undefined && env.REDIS_SENTINEL_NAME === undefined)
    issues.push({
      path: 'REDIS_SENTINEL_NAME',
      message: 'is required with REDIS_SENTINELS (the master name of sentinel.conf)',
    });
  return issues;
}

export type Env = z.infer<typeof EnvSchema>;

/** The values `.env.example` ships with: copied but not filled in, they would only fail later against Slack. */
const PLACEHOLDERS = new Set(['xoxb-your-bot-token', 'your-signing-secret']);

function PLACEHOLDER_MESSAGE(where: string): string {
  return `is still the placeholder from .env.example: paste the value from your Slack app (${where}), or leave SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET empty to start a drill without Slack`;
}

/** Options of {@link loadEnv}. */
export interface LoadEnvOptions {
  /**
   * `optional`: the CLI, which works without Slack ("for when Slack is down"): with neither
   * `SLACK_BOT_TOKEN` nor `SLACK_SIGNING_SECRET` set, both are `''` (see {@link slackConfigured})
   * and notices wait in the outbox for a bot that has them. Set, they are checked as usual.
   */
  slack?: 'required' | 'optional';
}

/** Whether the environment has Slack credentials (the CLI may run without). */
export const slackConfigured = (env: Pick<Env, 'SLACK_BOT_TOKEN'>): boolean => env.SLACK_BOT_TOKEN !== '';

/**
 * Parses `source` (default `process.env`) into {@link Env}.
 * @throws AppError `config_env_invalid` naming every missing or malformed variable,
 *   with values never echoed (they may be secrets).
 */
export function loadEnv(source: Record<string, string | undefined> = process.env, options: LoadEnvOptions = {}): Env {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const withoutSlack = options.slack === 'optional' && !cleaned.SLACK_BOT_TOKEN && !cleaned.SLACK_SIGNING_SECRET;
  const parsed = (
    withoutSlack ? EnvSchema.omit({ SLACK_BOT_TOKEN: true, SLACK_SIGNING_SECRET: true }) : EnvSchema
  ).safeParse(cleaned);
  const issues = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(env)', message: i.message }))),
    ...redisIssues(cleaned),
  ];
  if (!parsed.success || issues.length) {
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}`);
    throw new AppError({
      code: 'config_env_invalid',
      message: `Environment is not valid:\n${lines.join('\n')}\nSee .env.example for every variable.`,
    });
  }
  return withoutSlack
    ? {
        ...(parsed.data as Omit<Env, 'SLACK_BOT_TOKEN' | 'SLACK_SIGNING_SECRET'>),
        SLACK_BOT_TOKEN: '',
        SLACK_SIGNING_SECRET: '',
      }
    : (parsed.data as Env);
}
