import { formatDuration } from '../../../shared/clock.js';
import type { CheckOutcome, TriageCheck } from '../check.js';
import { plural, safeCell, safeText, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/** At most this many (target, mode) groups are fetched. */
export const LOCKS_NOT_GRANTED_LIMIT = 500;

/**
 * Lock requests not granted in this database, grouped by target (relation, or the
 * lock type when there is no relation: transactionid, advisory, …) and mode.
 *
 * Source: runbook 001 "Post-Deployment Monitoring → Check lock contention" and
 * "Troubleshooting → Migration Timeout": `SELECT * FROM pg_locks WHERE NOT granted;`
 * Our own triage sessions (application_name `migrate-bot-triage`) are left out.
 * `longest_seconds` is how long the longest waiting statement has run
 * (pg_locks.waitstart exists only from PostgreSQL 14). $1 row limit.
 */
export const LOCKS_NOT_GRANTED_SQL = `
SELECT coalesce(CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END, l.locktype) AS target,
       l.locktype,
       l.mode,
       count(*)::int AS waiting,
       string_agg(l.pid::text, ', ' ORDER BY l.pid) AS pids,
       max(extract(epoch FROM now() - a.query_start))::float8 AS longest_seconds
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted
  AND a.datname = current_database()
  AND l.pid <> pg_backend_pid()
  AND a.application_name IS DISTINCT FROM 'migrate-bot-triage'
GROUP BY 1, 2, 3
ORDER BY waiting DESC, target
LIMIT $1`;

/** A row of {@link LOCKS_NOT_GRANTED_SQL} as the driver returns it. */
export interface LockWaitGroupRow {
  target: string;
  locktype: string;
  mode: string;
  waiting: number;
  pids: string;
  longest_seconds: number | null;
}

/** Verdict: attention when any lock request waits (naming the busiest target); ok otherwise. Pure. */
export function evaluateLocksNotGranted(rows: LockWaitGroupRow[]): CheckOutcome {
  const columns = ['target', 'mode', 'waiting', 'longest_wait', 'pids'];
  const out = rows.map((r) => ({
    target: safeCell(r.target, 120),
    mode: r.mode,
    waiting: r.waiting,
    longest_wait: r.longest_seconds === null ? null : formatDuration(r.longest_seconds * 1000),
    pids: safeText(r.pids, 200),
  }));
  const total = rows.reduce((n, r) => n + (toNumber(r.waiting) ?? 0), 0);
  const top = rows[0];
  if (!top) return { verdict: 'ok', summary: 'Every lock request is granted.', columns, rows: out };
  const targets = new Set(rows.map((r) => r.target)).size;
  return {
    verdict: 'attention',
    summary: `${plural(total, 'lock request')} waiting on ${plural(targets, 'target')}; most on ${safeText(top.target, 80)} (${top.waiting} × ${top.mode}).`,
    columns,
    rows: out,
  };
}

/** Check `locks_not_granted` (runbook 001 "Check lock contention"). */
export const locksNotGrantedCheck: TriageCheck = {
  name: 'locks_not_granted',
  title: 'Locks not granted',
  source: '001 Post-Deployment Monitoring: check lock contention',
  async run(session: TriageSession): Promise<CheckOutcome> {
    const result = await session.query<LockWaitGroupRow>(LOCKS_NOT_GRANTED_SQL, [LOCKS_NOT_GRANTED_LIMIT]);
    return evaluateLocksNotGranted(result.rows);
  },
};
