import type { CheckContext, CheckOutcome, TriageCheck } from '../check.js';
import { plural, safeCell, safeText, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/**
 * Which tracking-side tables exist, without touching them (to_regclass takes no
 * lock): the knex lock table `<table>_lock`, and a golang-migrate style
 * `schema_migrations` table with a `dirty` column, both in the configured schema.
 * $1, $2: quoted relation names as text (identifiers from services.yaml, quoted
 * with escapeIdentifier, passed as values).
 */
export const TRACKING_TABLES_SQL = `
SELECT to_regclass($1)::text AS lock_table,
       to_regclass($2)::text AS schema_migrations,
       EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = to_regclass($2) AND a.attname = 'dirty'
                 AND a.attnum > 0 AND NOT a.attisdropped) AS has_dirty`;

/**
 * Rows of the knex lock table. Source: runbook 004 "Troubleshooting → Migration Lock":
 * `SELECT * FROM knex_migrations_lock;` `quotedLockTable` is `schema.table` quoted with
 * escapeIdentifier (knex keeps one row; `is_locked = 1` while a
 * migrate runs, and left at 1 after a crash).
 */
export function lockRowsSql(quotedLockTable: string): string {
  return `SELECT * FROM ${quotedLockTable} LIMIT 100`;
}

/**
 * Dirty golang-migrate rows. Source: runbook 001 "Dirty Migration Recovery → Manual recovery":
 * `SELECT version, applied_at FROM schema_migrations WHERE dirty = true;`
 * (`SELECT *` here: golang-migrate itself has only `version` and `dirty`).
 */
export function dirtyRowsSql(quotedTable: string): string {
  return `SELECT * FROM ${quotedTable} WHERE dirty = true LIMIT 100`;
}

/** What the three queries found; `lockTable`/`schemaMigrations` are regclass text or null when absent. */
export interface TrackingTablesState {
  /** Name the lock table would have, for the summary when it is absent. */
  expectedLockTable: string;
  lockTable: string | null;
  lockRows: Array<Record<string, unknown>>;
  schemaMigrations: string | null;
  hasDirtyColumn: boolean;
  dirtyRows: Array<Record<string, unknown>>;
}

const describeRow = (row: Record<string, unknown>): string =>
  safeText(Object.entries(row).map(([k, v]) => `${k}=${String(safeCell(v, 60))}`).join(' '), 200);

/**
 * Verdict: attention when the knex lock table has a row at `is_locked = 1`, has
 * more than one row, or has none (knex's lock update then matches nothing and
 * it reports "already locked"), or when `schema_migrations` has `dirty = true`
 * rows; ok otherwise. Rows: one per finding or lock row (`table`, `row`, `finding`). Pure.
 */
export function evaluateTrackingTableHealth(state: TrackingTablesState): CheckOutcome {
  const rows: Array<Record<string, string>> = [];
  const problems: string[] = [];
  const notes: string[] = [];

  if (state.lockTable === null) {
    notes.push(`no lock table ${state.expectedLockTable}`);
  } else {
    const locked = state.lockRows.filter((r) => toNumber(r.is_locked) === 1);
    for (const r of state.lockRows) {
      rows.push({ table: state.lockTable, row: describeRow(r), finding: toNumber(r.is_locked) === 1 ? 'stuck at is_locked = 1' : 'free' });
    }
    if (locked.length > 0) problems.push(`${state.lockTable} is locked (is_locked = 1): knex migrate refuses to run`);
    if (state.lockRows.length > 1) problems.push(`${state.lockTable} has ${state.lockRows.length} rows (knex expects exactly one)`);
    if (state.lockRows.length === 0) {
      problems.push(`${state.lockTable} has no row: knex cannot take its lock`);
      rows.push({ table: state.lockTable, row: '(no rows)', finding: 'knex expects exactly one row' });
    }
    if (locked.length === 0 && state.lockRows.length === 1) notes.push(`lock table ${state.lockTable} is free (is_locked = 0)`);
  }

  if (state.schemaMigrations !== null && state.hasDirtyColumn) {
    for (const r of state.dirtyRows) rows.push({ table: state.schemaMigrations, row: describeRow(r), finding: 'dirty = true' });
    if (state.dirtyRows.length > 0) problems.push(`${state.schemaMigrations} has ${plural(state.dirtyRows.length, 'dirty row')} (version ${state.dirtyRows.map((r) => String(safeCell(r.version, 40))).join(', ')})`);
    else notes.push(`no dirty row in ${state.schemaMigrations}`);
  }

  const columns = ['table', 'row', 'finding'];
  if (problems.length > 0) return { verdict: 'attention', summary: `${problems.join('; ')}.`, columns, rows };
  const text = notes.join('; ') || 'nothing to check';
  return { verdict: 'ok', summary: `${text.charAt(0).toUpperCase()}${text.slice(1)}.`, columns, rows };
}

/** Check `tracking_table_health` (runbooks 004 "Migration Lock" and 001 "Dirty Migration Recovery"). */
export const trackingTableHealthCheck: TriageCheck = {
  name: 'tracking_table_health',
  title: 'Tracking-table health',
  source: '004 Troubleshooting: Migration Lock; 001 Dirty Migration Recovery',
  async run(session: TriageSession, context: CheckContext): Promise<CheckOutcome> {
    const { schema, lock_table } = context.service.migrations;
    const q = (name: string): string => `${session.escapeIdentifier(schema)}.${session.escapeIdentifier(name)}`;
    const found = await session.query<{ lock_table: string | null; schema_migrations: string | null; has_dirty: boolean }>(
      TRACKING_TABLES_SQL,
      [q(lock_table), q('schema_migrations')],
    );
    const head = found.rows[0] ?? { lock_table: null, schema_migrations: null, has_dirty: false };
    const lockRows = head.lock_table === null ? [] : (await session.query(lockRowsSql(q(lock_table)))).rows;
    const dirtyRows = head.schema_migrations !== null && head.has_dirty ? (await session.query(dirtyRowsSql(q('schema_migrations')))).rows : [];
    return evaluateTrackingTableHealth({
      expectedLockTable: `${schema}.${lock_table}`,
      lockTable: head.lock_table,
      lockRows,
      schemaMigrations: head.schema_migrations,
      hasDirtyColumn: head.has_dirty,
      dirtyRows,
    });
  },
};
