import type { CheckContext, CheckOutcome, TriageCheck } from '../check.js';
import { plural, safeRow, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/**
 * Last 10 rows of the service's knex tracking table, newest first.
 *
 * Source: runbook 004 "Method 2: Manual SQL Rollback" → "Check migration history":
 * `SELECT * FROM knex_migrations ORDER BY id DESC LIMIT 10;`
 * (runbook 003 "Initial triage" step 2: "Identify the offending migration").
 * The table name comes from services.yaml and is quoted with escapeIdentifier;
 * there are no values. Takes ACCESS SHARE on the tracking table, so a session
 * holding ACCESS EXCLUSIVE there makes this check fail on `lock_timeout`.
 */
export function migrationHistorySql(session: Pick<TriageSession, 'escapeIdentifier'>, schema: string, table: string): string {
  const relation = `${session.escapeIdentifier(schema)}.${session.escapeIdentifier(table)}`;
  return `SELECT * FROM ${relation} ORDER BY id DESC LIMIT 10`;
}

/** Column added to mark the offending migration's row. */
export const OFFENDING_MARK_COLUMN = 'offending';

/**
 * Verdict from the tracking table's last rows (newest first, knex columns `id`,
 * `name`, `batch`, `migration_time`):
 * - attention when the table is empty, when the offending migration is not among
 *   the rows, when it is not in the latest batch (`knex migrate:rollback` rolls
 *   back the latest batch first, runbook 004 Method 1), or when its batch holds
 *   other migrations that a batch rollback would revert too;
 * - ok otherwise. Pure.
 */
export function evaluateMigrationHistory(
  rows: Array<Record<string, unknown>>,
  columns: string[],
  offendingName?: string,
): CheckOutcome {
  const marked = rows.map((r) => ({ ...safeRow(r), [OFFENDING_MARK_COLUMN]: offendingName !== undefined && r.name === offendingName ? '◀' : '' }));
  const outColumns = [...columns, OFFENDING_MARK_COLUMN];
  const base = { columns: outColumns, rows: marked };
  const head = rows[0];
  if (!head) return { ...base, verdict: 'attention', summary: 'Tracking table is empty: no migration is recorded as applied.' };

  const latestBatch = toNumber(head.batch);
  const headText = `latest: ${String(head.name)}${latestBatch === null ? '' : ` (batch ${latestBatch})`}`;
  if (offendingName === undefined) return { ...base, verdict: 'ok', summary: `${plural(rows.length, 'row')}, ${headText}.` };

  const offending = rows.find((r) => r.name === offendingName);
  if (!offending) {
    return {
      ...base,
      verdict: 'attention',
      summary: `${offendingName} is not among the last ${plural(rows.length, 'row')} (already rolled back, or never applied?); ${headText}.`,
    };
  }
  const batch = toNumber(offending.batch);
  if (batch !== null && latestBatch !== null && batch !== latestBatch) {
    return {
      ...base,
      verdict: 'attention',
      summary: `${offendingName} is in batch ${batch} but the latest batch is ${latestBatch}: a batch rollback reverts batch ${latestBatch} first.`,
    };
  }
  const sameBatch = batch === null ? [] : rows.filter((r) => r !== offending && toNumber(r.batch) === batch);
  if (sameBatch.length > 0) {
    return {
      ...base,
      verdict: 'attention',
      summary: `${offendingName} shares batch ${batch} with ${plural(sameBatch.length, 'other migration')} (${sameBatch.map((r) => String(r.name)).join(', ')}); a batch rollback reverts them too.`,
    };
  }
  return { ...base, verdict: 'ok', summary: `${offendingName} is the latest migration${batch === null ? '' : ` (batch ${batch})`}.` };
}

/** Check `migration_history` (runbook 004 "Check migration history"). */
export const migrationHistoryCheck: TriageCheck = {
  name: 'migration_history',
  title: 'Migration history',
  source: '004 Manual SQL Rollback: check migration history',
  async run(session: TriageSession, context: CheckContext): Promise<CheckOutcome> {
    const { schema, table } = context.service.migrations;
    const result = await session.query(migrationHistorySql(session, schema, table));
    return evaluateMigrationHistory(result.rows, result.columns, context.offending?.name);
  },
};
