import type { CheckOutcome, TriageCheck } from '../check.js';
import { plural, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/** Share of usable connection slots in use from which the check asks for attention. */
export const CONNECTION_PRESSURE_THRESHOLD = 0.8;

/**
 * Client connections by state, in this database and server-wide, with the
 * server's `max_connections` and `superuser_reserved_connections`. Our own triage
 * sessions are counted on their own line (they use slots, but their state says
 * nothing about the service).
 *
 * Source: runbook 002 "Step 3 → Monitor execution" (`SELECT * FROM pg_stat_activity
 * WHERE state = 'active'`) and "Step 6: Monitor → database connection pool";
 * runbook 003 "Post-rollback verification → DB connections"; runbook 004
 * "Monitor Metrics → Database connection pool".
 */
export const CONNECTION_PRESSURE_SQL = `
SELECT CASE WHEN a.application_name = 'migrate-bot-triage' THEN 'migrate-bot triage (this run)'
            ELSE coalesce(a.state, 'unknown') END AS state,
       count(*) FILTER (WHERE a.datname = current_database())::int AS this_database,
       count(*)::int AS all_databases,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved
FROM pg_catalog.pg_stat_activity a
WHERE a.backend_type = 'client backend'
GROUP BY 1
ORDER BY all_databases DESC, state`;

/** A row of {@link CONNECTION_PRESSURE_SQL}. */
export interface ConnectionStateRow {
  state: string;
  this_database: number;
  all_databases: number;
  max_connections: number;
  reserved: number;
}

/**
 * Verdict: attention when client connections use at least
 * {@link CONNECTION_PRESSURE_THRESHOLD} of the usable slots
 * (`max_connections - superuser_reserved_connections`); ok otherwise. The summary
 * names the `idle in transaction` count (sessions that hold locks doing nothing). Pure.
 */
export function evaluateConnectionPressure(rows: ConnectionStateRow[]): CheckOutcome {
  const columns = ['state', 'this_database', 'all_databases'];
  const out = rows.map((r) => ({ state: r.state, this_database: r.this_database, all_databases: r.all_databases }));
  const head = rows[0];
  if (!head) return { verdict: 'ok', summary: 'No client connection visible.', columns, rows: out };
  const used = rows.reduce((n, r) => n + (toNumber(r.all_databases) ?? 0), 0);
  const usable = Math.max(1, head.max_connections - head.reserved);
  const share = used / usable;
  const idleInTx = rows
    .filter((r) => r.state.startsWith('idle in transaction'))
    .reduce((n, r) => n + r.all_databases, 0);
  const here = rows.reduce((n, r) => n + r.this_database, 0);
  const summary = `${used} / ${usable} usable connections (${Math.round(share * 100)}%; max_connections ${head.max_connections}), ${here} on this database${idleInTx > 0 ? `; ${plural(idleInTx, 'session')} idle in transaction` : ''}.`;
  return { verdict: share >= CONNECTION_PRESSURE_THRESHOLD ? 'attention' : 'ok', summary, columns, rows: out };
}

/** Check `connection_pressure` (runbooks 002, 003, 004: database connection pool). */
export const connectionPressureCheck: TriageCheck = {
  name: 'connection_pressure',
  title: 'Connection pressure',
  source: '002 Monitor execution / connection pool; 003 Post-rollback verification',
  async run(session: TriageSession): Promise<CheckOutcome> {
    const result = await session.query<ConnectionStateRow>(CONNECTION_PRESSURE_SQL);
    return evaluateConnectionPressure(result.rows);
  },
};
