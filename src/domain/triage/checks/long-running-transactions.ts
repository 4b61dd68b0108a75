import { formatDuration } from '../../../shared/clock.js';
import type { CheckContext, CheckOutcome, TriageCheck } from '../check.js';
import { MAX_QUERY_CHARS, plural, safeCell, safeText, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/** At most this many transactions are fetched (the total is still counted). */
export const LONG_TRANSACTIONS_LIMIT = 1000;

/**
 * Sessions of this database whose transaction started more than $1 seconds ago,
 * oldest first, our own backend excluded.
 *
 * Source: runbook 001 "Long-Running Transaction Detection" (transactions older
 * than 30 s: `SELECT pid, now() - xact_start AS duration, state, query FROM
 * pg_stat_activity WHERE state != 'idle' AND xact_start IS NOT NULL`) and runbook
 * 003 "Useful SQL snippets → Long running transactions (diagnostic)".
 * Unlike 001 this keeps `idle in transaction` sessions: they hold locks too.
 * $1 threshold (s), $2 query length cut (characters), $3 row limit.
 */
export const LONG_RUNNING_TRANSACTIONS_SQL = `
SELECT a.pid,
       a.usename AS "user",
       a.application_name,
       a.state,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_seconds,
       a.wait_event_type,
       a.wait_event,
       left(a.query, $2) AS query,
       length(a.query) > $2 AS query_cut,
       count(*) OVER () AS total
FROM pg_catalog.pg_stat_activity a
WHERE a.xact_start IS NOT NULL
  AND a.xact_start < now() - make_interval(secs => $1)
  AND a.pid <> pg_backend_pid()
  AND a.datname = current_database()
ORDER BY a.xact_start
LIMIT $3`;

/** A row of {@link LONG_RUNNING_TRANSACTIONS_SQL} as the driver returns it. */
export interface LongTransactionRow {
  pid: number;
  user: string | null;
  application_name: string | null;
  state: string | null;
  xact_seconds: number;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string | null;
  query_cut: boolean | null;
  total: string | number;
}

/**
 * Verdict: attention when any transaction is older than the threshold (seconds),
 * naming the oldest; ok otherwise. Rows: pid, user, state, duration, wait, query
 * (cut to {@link MAX_QUERY_CHARS}). Pure.
 */
export function evaluateLongRunningTransactions(rows: LongTransactionRow[], thresholdSeconds: number): CheckOutcome {
  const columns = ['pid', 'user', 'application', 'state', 'duration', 'waiting_on', 'query'];
  const out = rows.map((r) => ({
    pid: r.pid,
    user: safeCell(r.user),
    application: safeCell(r.application_name, 60),
    state: safeCell(r.state),
    duration: formatDuration(r.xact_seconds * 1000),
    waiting_on: r.wait_event_type ? safeText(`${r.wait_event_type}:${r.wait_event ?? ''}`, 60) : null,
    query: r.query === null ? null : safeText(r.query + (r.query_cut ? '…' : ''), MAX_QUERY_CHARS),
  }));
  const oldest = rows[0];
  if (!oldest)
    return { verdict: 'ok', summary: `No transaction open longer than ${thresholdSeconds}s.`, columns, rows: out };
  const total = toNumber(oldest.total) ?? rows.length;
  const who = [oldest.user, oldest.state].filter(Boolean).join(', ');
  return {
    verdict: 'attention',
    summary: `${plural(total, 'transaction')} open longer than ${thresholdSeconds}s; oldest pid ${oldest.pid}${who ? ` (${safeText(who, 80)})` : ''} for ${formatDuration(oldest.xact_seconds * 1000)}.`,
    columns,
    rows: out,
  };
}

/** Check `long_running_transactions` (runbooks 001 and 003). */
export const longRunningTransactionsCheck: TriageCheck = {
  name: 'long_running_transactions',
  title: 'Long-running transactions',
  source: '001 Long-Running Transaction Detection; 003 Useful SQL snippets',
  async run(session: TriageSession, context: CheckContext): Promise<CheckOutcome> {
    const threshold = context.service.triage.long_transaction_seconds;
    const result = await session.query<LongTransactionRow>(LONG_RUNNING_TRANSACTIONS_SQL, [
      threshold,
      MAX_QUERY_CHARS,
      LONG_TRANSACTIONS_LIMIT,
    ]);
    return evaluateLongRunningTransactions(result.rows, threshold);
  },
};
