import type { ProbeFindings, TrackingProbe } from '../../rollback/migration-tool.js';
import type { CheckContext, CheckOutcome, TriageCheck } from '../check.js';
import type { TriageSession } from '../triage-session.js';

/**
 * Whether a probe's relation exists and has the column it needs, without touching it
 * (to_regclass takes no lock). $1: the relation quoted with escapeIdentifier, as text; $2:
 * the column, or null.
 */
export const PROBE_RELATION_SQL = `
SELECT to_regclass($1)::text AS relation,
       $2::text IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = to_regclass($1) AND a.attname = $2::text
                 AND a.attnum > 0 AND NOT a.attisdropped) AS has_column`;

/** One probe's outcome: its findings, or the note it makes when its relation is absent. */
export type ProbeOutcome = ProbeFindings;

/**
 * Verdict over every probe of the tool (its lock, its dirty versions): attention when any
 * probe found a problem, listing them all, and `toolLockHeld` when one found the tool's lock
 * held; ok otherwise, with the probes' notes. Rows: one per finding or lock row (`table`,
 * `row`, `finding`). Pure.
 */
export function evaluateTrackingTableHealth(outcomes: ProbeOutcome[]): CheckOutcome {
  const problems = outcomes.flatMap((o) => o.problems);
  const rows = outcomes.flatMap((o) => o.rows);
  const columns = ['table', 'row', 'finding'];
  if (problems.length > 0)
    return {
      verdict: 'attention',
      summary: `${problems.join('; ')}.`,
      columns,
      rows,
      toolLockHeld: outcomes.some((o) => o.lockHeld === true),
    };
  const text = outcomes.flatMap((o) => o.notes).join('; ') || 'nothing to check';
  return { verdict: 'ok', summary: `${text.charAt(0).toUpperCase()}${text.slice(1)}.`, columns, rows };
}

async function runProbe(session: TriageSession, probe: TrackingProbe): Promise<ProbeOutcome> {
  if (!probe.relation) return probe.evaluate((await session.query(probe.sql(''))).rows, '');
  const quoted = `${session.escapeIdentifier(probe.relation.schema)}.${session.escapeIdentifier(probe.relation.name)}`;
  const found = await session.query<{ relation: string | null; has_column: boolean }>(PROBE_RELATION_SQL, [
    quoted,
    probe.relation.column ?? null,
  ]);
  const head = found.rows[0];
  if (!head?.relation || !head.has_column)
    return { problems: [], notes: probe.whenAbsent ? [probe.whenAbsent] : [], rows: [] };
  return probe.evaluate((await session.query(probe.sql(quoted))).rows, head.relation);
}

/**
 * Check `tracking_table_health` (runbooks 004 "Migration Lock" and 001 "Dirty Migration
 * Recovery"): runs the probes the service's migration tool declares, in order, in the
 * read-only triage session.
 */
export const trackingTableHealthCheck: TriageCheck = {
  name: 'tracking_table_health',
  title: 'Tracking-table health',
  source: '004 Troubleshooting: Migration Lock; 001 Dirty Migration Recovery',
  async run(session: TriageSession, context: CheckContext): Promise<CheckOutcome> {
    const outcomes: ProbeOutcome[] = [];
    for (const probe of context.tracking.probes) outcomes.push(await runProbe(session, probe));
    return evaluateTrackingTableHealth(outcomes);
  },
};
