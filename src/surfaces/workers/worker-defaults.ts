/**
 * Settings of each BullMQ worker of the bot, in one place, named as BullMQ's own `Worker`
 * options are (docs.bullmq.io "Workers": `concurrency`, `lockDuration`, `stalledInterval`).
 * Times in ms. `startWorkers` options override the ones a deployment or a test needs to change.
 */
export const WORKER_DEFAULTS = {
  /** Prepare, status update, on-demand snapshot, discard, rehearsal and archive jobs: short and I/O-bound. */
  incidents: { concurrency: 8 },
  rollbacks: {
    /** Rollback jobs in flight per process; each holds its database's rollback lock. */
    concurrency: 4,
    /** BullMQ `lockDuration` and `stalledInterval`: how soon a dead worker's rollback is resumed elsewhere. */
    lockDurationMs: 30_000,
    /** How long a rollback waits before looking at the snapshot gate (or the database lock) again. */
    gatePollMs: 5_000,
    /** While the state database is unreachable the job waits (no attempt spent) this long at most, then fails. */
    stateOutageLimitMs: 10 * 60_000,
    /** The longest wait between looks at an unreachable state database. */
    stateOutageMaxWaitMs: 15_000,
  },
  /** Notice delivery to Slack; paced per channel and per method tier, so more at once gains nothing. */
  notices: { concurrency: 4 },
  reconciler: {
    concurrency: 1,
    /** How often the reconciler runs (a timer in each worker process). */
    everyMs: 60_000,
    /** A notice undelivered this long is queued for delivery again. */
    sweepAfterMs: 30_000,
    /** How often the reconciler drops archives past `archive.keep_days` (hourly: retention is counted in days). */
    archiveExpiryEveryMs: 3_600_000,
  },
  /** During a Redis outage, one log line per worker and error within this window. */
  errorLogWindowMs: 60_000,
} as const;
