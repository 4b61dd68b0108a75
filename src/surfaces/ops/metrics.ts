import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Buckets for work measured in seconds, from a 10 ms Slack call to a 1-hour RDS snapshot. */
const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Buckets for incident phases, s: 30 s to 4 h (time to approve, time to recover). */
const INCIDENT_PHASE_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400];

/** Where a command came from. */
export type CommandSurface = 'slack' | 'cli';

/**
 * The process's Prometheus metrics (prom-client; names follow Prometheus' "Metric and label
 * naming": `migrate_bot_` prefix, base units — seconds — and `_total` on counters). One
 * registry per process, scraped at `GET /metrics`. Labels are low-cardinality by design:
 * command names, outcomes, queue names, Slack methods and error codes, snapshot providers,
 * migration tools — never incident ids or user ids.
 */
export interface Metrics {
  registry: Registry;
  /** `/migrate` and CLI commands, by `command` (rollback, status, …), `outcome` (ok, refused, error) and `surface`. */
  commands: Counter<'command' | 'outcome' | 'surface'>;
  /** Commands refused by services.yaml's `access:` rules, by `command` and `surface`. */
  accessRefusals: Counter<'command' | 'surface'>;
  /** Commands refused by a per-user rate limit, by `command` and `limit` (commands_per_minute, incidents_per_hour). */
  rateLimited: Counter<'command' | 'limit'>;
  /** BullMQ job run time, s, by `queue`, `job` name and `outcome` (completed, failed, delayed). */
  jobSeconds: Histogram<'queue' | 'job' | 'outcome'>;
  /** Jobs that failed, by `queue` and `job`; counted on every failed attempt. */
  jobFailures: Counter<'queue' | 'job'>;
  /** Slack Web API calls, by `method` and `error` (`ok`, Slack's error string, `ratelimited` for HTTP 429, `network`). */
  slackCalls: Counter<'method' | 'error'>;
  /** Snapshot creation time, s (until the snapshot is usable), by `provider` and `outcome`. */
  snapshotSeconds: Histogram<'provider' | 'outcome'>;
  /** One down migration's run time, s, by migration `tool` and `outcome` (done, failed). */
  downStepSeconds: Histogram<'tool' | 'outcome'>;
  /** Incidents by `state`, read from the state database at scrape time. */
  incidents: Gauge<'state'>;
  /** Incident opened → approvals complete, s, by `service` and `severity`; observed once per incident, by the process that recorded it. */
  timeToApprove: Histogram<'service' | 'severity'>;
  /** Incident opened → last down migration committed (or the restore done), s, by `service` and `severity`. */
  timeToRecover: Histogram<'service' | 'severity'>;
  /** Open incidents by `severity`, read from the state database at scrape time. */
  openBySeverity: Gauge<'severity'>;
  /** Work after slash-command acks in this process, by `state`: `waiting` (held for acks, or for a free slot) and `running`. */
  postAckWork: Gauge<'state'>;
}

/**
 * Builds the registry with Node's default process metrics (`collectDefaultMetrics`: RSS, heap,
 * event-loop lag, GC, open handles) and the bot's own.
 * @param countByState reads incidents by state when `/metrics` is scraped; a failure leaves the gauge empty
 *   for that scrape (the scrape itself still answers)
 */
export function createMetrics(
  countByState: () => Promise<Record<string, number>> = async () => ({}),
  countOpenBySeverity: () => Promise<Record<string, number>> = async () => ({}),
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'migrate_bot_' });
  const opts = { registers: [registry] };
  return {
    registry,
    commands: new Counter({
      name: 'migrate_bot_commands_total',
      help: 'Commands received, by command, outcome and surface (slack, cli).',
      labelNames: ['command', 'outcome', 'surface'],
      ...opts,
    }),
    accessRefusals: new Counter({
      name: 'migrate_bot_access_refusals_total',
      help: "Commands refused by services.yaml's access rules, by command and surface (slack, cli).",
      labelNames: ['command', 'surface'],
      ...opts,
    }),
    rateLimited: new Counter({
      name: 'migrate_bot_rate_limited_total',
      help: 'Commands refused by a per-user rate limit, by command and limit.',
      labelNames: ['command', 'limit'],
      ...opts,
    }),
    jobSeconds: new Histogram({
      name: 'migrate_bot_job_duration_seconds',
      help: 'BullMQ job run time in seconds, by queue, job and outcome.',
      labelNames: ['queue', 'job', 'outcome'],
      buckets: SECONDS_BUCKETS,
      ...opts,
    }),
    jobFailures: new Counter({
      name: 'migrate_bot_job_failures_total',
      help: 'Failed BullMQ job attempts, by queue and job.',
      labelNames: ['queue', 'job'],
      ...opts,
    }),
    slackCalls: new Counter({
      name: 'migrate_bot_slack_api_calls_total',
      help: 'Slack Web API calls, by method and error (ok when it succeeded; ratelimited for HTTP 429).',
      labelNames: ['method', 'error'],
      ...opts,
    }),
    snapshotSeconds: new Histogram({
      name: 'migrate_bot_snapshot_duration_seconds',
      help: 'Snapshot creation time in seconds, by provider and outcome.',
      labelNames: ['provider', 'outcome'],
      buckets: SECONDS_BUCKETS,
      ...opts,
    }),
    downStepSeconds: new Histogram({
      name: 'migrate_bot_down_step_duration_seconds',
      help: 'Down migration step time in seconds, by tool and outcome.',
      labelNames: ['tool', 'outcome'],
      buckets: SECONDS_BUCKETS,
      ...opts,
    }),
    timeToApprove: new Histogram({
      name: 'migrate_bot_incident_time_to_approve_seconds',
      help: 'Seconds from an incident opening to its approvals being complete, by service and severity.',
      labelNames: ['service', 'severity'],
      buckets: INCIDENT_PHASE_BUCKETS,
      ...opts,
    }),
    timeToRecover: new Histogram({
      name: 'migrate_bot_incident_time_to_recover_seconds',
      help: 'Seconds from an incident opening to the database recovered (last down committed, or the restore done), by service and severity.',
      labelNames: ['service', 'severity'],
      buckets: INCIDENT_PHASE_BUCKETS,
      ...opts,
    }),
    openBySeverity: new Gauge({
      name: 'migrate_bot_open_incidents',
      help: 'Open incidents in the state database, by severity.',
      labelNames: ['severity'],
      ...opts,
      async collect() {
        const counts = await countOpenBySeverity().catch(() => ({}) as Record<string, number>);
        this.reset();
        for (const [severity, n] of Object.entries(counts)) this.set({ severity }, n);
      },
    }),
    postAckWork: new Gauge({
      name: 'migrate_bot_post_ack_work',
      help: 'Work after slash-command acks in this process, by state (waiting, running).',
      labelNames: ['state'],
      ...opts,
    }),
    incidents: new Gauge({
      name: 'migrate_bot_incidents',
      help: 'Incidents in the state database, by state.',
      labelNames: ['state'],
      ...opts,
      async collect() {
        const counts = await countByState().catch(() => ({}) as Record<string, number>);
        this.reset();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    }),
  };
}

/**
 * Times `work` into `histogram` with `labels` plus `outcome` (`ok` names success, e.g. done;
 * any throw records `failed` and rethrows).
 */
export async function timed<T, L extends string>(
  histogram: Histogram<L | 'outcome'>,
  labels: Partial<Record<L, string>>,
  success: string,
  work: () => Promise<T>,
): Promise<T> {
  const end = histogram.startTimer(labels as Partial<Record<L | 'outcome', string>>);
  try {
    const value = await work();
    end({ outcome: success } as Partial<Record<L | 'outcome', string>>);
    return value;
  } catch (err) {
    end({ outcome: 'failed' } as Partial<Record<L | 'outcome', string>>);
    throw err;
  }
}
