import { formatDuration } from '../../../shared/clock.js';
import type { CheckOutcome, TriageCheck } from '../check.js';
import { MAX_QUERY_CHARS, plural, safeCell, safeText } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/** At most this many (blocked, blocking) pairs are fetched. */
export const BLOCKING_PAIRS_LIMIT = 1000;

/**
 * (blocked, blocking) session pairs in this database: who waits for a lock, who
 * holds or queues ahead for it, both queries, the mode wanted and the blocker's
 * modes on the same lock target, and the relation.
 *
 * Source: runbook 000 "Monitoring During Migrations → Check for blocking queries"
 * (and the same join in runbook 002 "Issue: Migration Hangs"). The pairs come from
 * `pg_blocking_pids()`, which applies PostgreSQL's own lock-conflict table and
 * wait-queue order (the runbook join also pairs compatible holders); the runbook's
 * full join on (locktype, database, relation, page, tuple, virtualxid,
 * transactionid, classid, objid, objsubid) names the blocker's mode on that target.
 * Our own triage sessions (application_name `migrate-bot-triage`) are left out as
 * blocked sessions: they wait at most `lock_timeout`.
 * $1 query length cut (characters), $2 row limit.
 */
export const BLOCKING_LOCKS_SQL = `
WITH waiting AS (
  SELECT l.*
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
  WHERE NOT l.granted
    AND a.datname = current_database()
    AND l.pid <> pg_backend_pid()
    AND a.application_name IS DISTINCT FROM 'migrate-bot-triage'
)
SELECT w.pid AS blocked_pid,
       blocked.usename AS blocked_user,
       extract(epoch FROM now() - blocked.query_start)::float8 AS blocked_seconds,
       left(blocked.query, $1) AS blocked_query,
       length(blocked.query) > $1 AS blocked_query_cut,
       w.mode AS wanted_mode,
       w.locktype,
       CASE WHEN w.relation IS NOT NULL THEN w.relation::regclass::text END AS relation,
       b.pid AS blocking_pid,
       blocking.usename AS blocking_user,
       blocking.state AS blocking_state,
       left(blocking.query, $1) AS blocking_query,
       length(blocking.query) > $1 AS blocking_query_cut,
       (SELECT string_agg(DISTINCT h.mode || CASE WHEN h.granted THEN '' ELSE ' (queued)' END, ', ')
          FROM pg_catalog.pg_locks h
         WHERE h.pid = b.pid
           AND h.locktype = w.locktype
           AND h.database IS NOT DISTINCT FROM w.database
           AND h.relation IS NOT DISTINCT FROM w.relation
           AND h.page IS NOT DISTINCT FROM w.page
           AND h.tuple IS NOT DISTINCT FROM w.tuple
           AND h.virtualxid IS NOT DISTINCT FROM w.virtualxid
           AND h.transactionid IS NOT DISTINCT FROM w.transactionid
           AND h.classid IS NOT DISTINCT FROM w.classid
           AND h.objid IS NOT DISTINCT FROM w.objid
           AND h.objsubid IS NOT DISTINCT FROM w.objsubid) AS blocking_mode
FROM waiting w
JOIN pg_catalog.pg_stat_activity blocked ON blocked.pid = w.pid
CROSS JOIN LATERAL unnest(pg_catalog.pg_blocking_pids(w.pid)) AS b(pid)
LEFT JOIN pg_catalog.pg_stat_activity blocking ON blocking.pid = b.pid
ORDER BY blocked_seconds DESC NULLS LAST, w.pid, b.pid
LIMIT $2`;

/** A row of {@link BLOCKING_LOCKS_SQL} as the driver returns it. */
export interface BlockingPairRow {
  blocked_pid: number;
  blocked_user: string | null;
  blocked_seconds: number | null;
  blocked_query: string | null;
  blocked_query_cut: boolean | null;
  wanted_mode: string;
  locktype: string;
  relation: string | null;
  blocking_pid: number;
  blocking_user: string | null;
  blocking_state: string | null;
  blocking_query: string | null;
  blocking_query_cut: boolean | null;
  blocking_mode: string | null;
}

const query = (text: string | null, cut: boolean | null): string | null =>
  text === null ? null : safeText(text + (cut ? '…' : ''), MAX_QUERY_CHARS);

/**
 * Verdict: attention when any session waits on another, naming the root
 * blockers (blocking sessions that are not themselves blocked) and how many
 * sessions they hold up; ok otherwise. Pure.
 */
export function evaluateBlockingLocks(rows: BlockingPairRow[]): CheckOutcome {
  const columns = [
    'blocked_pid',
    'blocked_for',
    'wanted_mode',
    'relation',
    'blocked_query',
    'blocking_pid',
    'blocking_mode',
    'blocking_state',
    'blocking_query',
  ];
  const out = rows.map((r) => ({
    blocked_pid: r.blocked_pid,
    blocked_for: r.blocked_seconds === null ? null : formatDuration(r.blocked_seconds * 1000),
    wanted_mode: r.wanted_mode,
    relation: safeCell(r.relation ?? r.locktype, 120),
    blocked_query: query(r.blocked_query, r.blocked_query_cut),
    blocking_pid: r.blocking_pid,
    blocking_mode: safeCell(r.blocking_mode, 120),
    blocking_state: safeCell(r.blocking_state),
    blocking_query: query(r.blocking_query, r.blocking_query_cut),
  }));
  if (rows.length === 0)
    return { verdict: 'ok', summary: 'No session is waiting on another session’s lock.', columns, rows: out };

  const blocked = new Set(rows.map((r) => r.blocked_pid));
  const victims = new Map<number, Set<number>>();
  const first = new Map<number, BlockingPairRow>();
  for (const r of rows) {
    if (blocked.has(r.blocking_pid)) continue;
    if (!victims.has(r.blocking_pid)) victims.set(r.blocking_pid, new Set());
    victims.get(r.blocking_pid)!.add(r.blocked_pid);
    if (!first.has(r.blocking_pid)) first.set(r.blocking_pid, r);
  }
  const roots = [...victims.entries()].sort((a, b) => b[1].size - a[1].size);
  const described = roots.slice(0, 3).map(([pid, set]) => {
    const r = first.get(pid)!;
    const on = r.relation ? ` on ${safeText(r.relation, 80)}` : '';
    const mode = r.blocking_mode ? ` (${safeText(r.blocking_mode, 60)}${on})` : on ? ` (${on.trim()})` : '';
    return `pid ${pid}${r.blocking_state ? ` [${r.blocking_state}]` : ''} blocks ${[...set].slice(0, 5).join(', ')}${set.size > 5 ? ` and ${set.size - 5} more` : ''}${mode}`;
  });
  const more = roots.length > 3 ? `; ${plural(roots.length - 3, 'more root blocker')}` : '';
  const rootText =
    described.length > 0 ? `; ${described.join('; ')}${more}` : '; every blocker is itself waiting (lock cycle?)';
  return {
    verdict: 'attention',
    summary: `${plural(blocked.size, 'blocked session')}${rootText}.`,
    columns,
    rows: out,
  };
}

/** Check `blocking_locks` (runbook 000 "Monitoring During Migrations"). */
export const blockingLocksCheck: TriageCheck = {
  name: 'blocking_locks',
  title: 'Blocking locks',
  source: '000 Monitoring During Migrations: check for blocking queries',
  async run(session: TriageSession): Promise<CheckOutcome> {
    const result = await session.query<BlockingPairRow>(BLOCKING_LOCKS_SQL, [MAX_QUERY_CHARS, BLOCKING_PAIRS_LIMIT]);
    return evaluateBlockingLocks(result.rows);
  },
};
