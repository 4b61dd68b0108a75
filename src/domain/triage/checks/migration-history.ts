import type { TrackingDescription } from '../../rollback/migration-tool.js';
import type { CheckContext, CheckOutcome, TriageCheck } from '../check.js';
import { plural, safeRow, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/** Rows the history shows. */
export const HISTORY_ROWS = 10;

/**
 * The newest {@link HISTORY_ROWS} rows of the service's tracking table, as its tool
 * describes them. Source: runbook 004 "Method 2: Manual SQL Rollback" → "Check migration
 * history": `SELECT * FROM knex_migrations ORDER BY id DESC LIMIT 10;`, runbook 001
 * "Useful Queries": `SELECT version, applied_at, dirty FROM schema_migrations ORDER BY version
 * DESC;` (runbook 003 "Initial triage" step 2: "Identify the offending migration"). The table
 * name comes from services.yaml and is quoted with escapeIdentifier; there are no values.
 * Takes ACCESS SHARE on the tracking table, so a session holding ACCESS EXCLUSIVE there makes
 * this check fail on `lock_timeout`.
 */
export function migrationHistorySql(
  session: Pick<TriageSession, 'escapeIdentifier'>,
  tracking: Pick<TrackingDescription, 'table' | 'historySql'>,
): string {
  const relation = `${session.escapeIdentifier(tracking.table.schema)}.${session.escapeIdentifier(tracking.table.name)}`;
  return tracking.historySql(relation, HISTORY_ROWS);
}

/** Column added to mark the offending migration's row. */
export const OFFENDING_MARK_COLUMN = 'offending';

/**
 * Verdict from the tracking table's newest rows (newest first, a `name` column):
 * - attention when the table is empty or the offending migration is not among the rows;
 * - for a tool that rolls back by group (`group`, knex's `batch`): attention when the
 *   offender is not in the latest group (`knex migrate:rollback` rolls back the latest batch
 *   first, runbook 004 Method 1), or shares its group with other migrations that a group
 *   rollback would revert too;
 * - ok otherwise. Pure.
 */
export function evaluateMigrationHistory(
  rows: Array<Record<string, unknown>>,
  columns: string[],
  offendingName?: string,
  group?: TrackingDescription['group'],
): CheckOutcome {
  const marked = rows.map((r) => ({
    ...safeRow(r),
    [OFFENDING_MARK_COLUMN]: offendingName !== undefined && r.name === offendingName ? '◀' : '',
  }));
  const outColumns = [...columns, OFFENDING_MARK_COLUMN];
  const base = { columns: outColumns, rows: marked };
  const head = rows[0];
  if (!head)
    return { ...base, verdict: 'attention', summary: 'Tracking table is empty: no migration is recorded as applied.' };

  const groupOf = (r: Record<string, unknown>): number | null => (group ? toNumber(r[group.column]) : null);
  const word = group?.word ?? '';
  const latest = groupOf(head);
  const headText = `latest: ${String(head.name)}${latest === null ? '' : ` (${word} ${latest})`}`;
  if (offendingName === undefined)
    return { ...base, verdict: 'ok', summary: `${plural(rows.length, 'row')}, ${headText}.` };

  const offending = rows.find((r) => r.name === offendingName);
  if (!offending) {
    return {
      ...base,
      verdict: 'attention',
      summary: `${offendingName} is not among the last ${plural(rows.length, 'row')} (already rolled back, or never applied?); ${headText}.`,
    };
  }
  const own = groupOf(offending);
  if (own !== null && latest !== null && own !== latest) {
    return {
      ...base,
      verdict: 'attention',
      summary: `${offendingName} is in ${word} ${own} but the latest ${word} is ${latest}: a ${word} rollback (\`${group!.command}\`) reverts ${word} ${latest} first.`,
    };
  }
  const sameGroup = own === null ? [] : rows.filter((r) => r !== offending && groupOf(r) === own);
  if (sameGroup.length > 0) {
    return {
      ...base,
      verdict: 'attention',
      summary: `${offendingName} shares ${word} ${own} with ${plural(sameGroup.length, 'other migration')} (${sameGroup.map((r) => String(r.name)).join(', ')}); a ${word} rollback reverts them too.`,
    };
  }
  if (head !== offending) {
    return {
      ...base,
      verdict: 'ok',
      summary: `${offendingName} is applied; ${headText} (a rollback reverts everything after it too).`,
    };
  }
  return {
    ...base,
    verdict: 'ok',
    summary: `${offendingName} is the latest migration${own === null ? '' : ` (${word} ${own})`}.`,
  };
}

/** Check `migration_history` (runbook 004 "Check migration history"; runbook 001 "Useful Queries"). */
export const migrationHistoryCheck: TriageCheck = {
  name: 'migration_history',
  title: 'Migration history',
  source: '004 Manual SQL Rollback: check migration history',
  async run(session: TriageSession, context: CheckContext): Promise<CheckOutcome> {
    const result = await session.query(migrationHistorySql(session, context.tracking));
    return evaluateMigrationHistory(result.rows, result.columns, context.offending?.name, context.tracking.group);
  },
};
