import { quoteIdent } from '../sql/quote-ident.js';
import { objectWords } from './archive.js';
import type { OnConflict, PlanStep, UnarchiveStep } from './plan.js';

export type { OnConflict, UnarchiveStep } from './plan.js';

/**
 * Writing archived data back (`/migrate unarchive`): once the schema again has the column or
 * table a down dropped (a fix-forward, or the up migration applied again), the rows the bot
 * archived before the down are written back in one transaction, after a snapshot and approvals,
 * and compared with the archive afterwards.
 */

/** An archive table the bot made, as the catalogs and its comment describe it. */
export interface ArchiveSource {
  /** The archive table (`archive.schema` and its name). */
  archive: { schema: string; table: string };
  /** `column`: the key columns and the column; `table`: every column of the table. */
  kind: 'table' | 'column';
  /** Where the data came from, and goes back to. */
  target: { schema: string; table: string; column?: string };
  /** The archive table's columns, in order. */
  columns: string[];
  /** Rows in the archive table, counted. */
  rows: number;
  /** The incident whose down archived it, and the migration. */
  incidentId: string;
  migration: string;
}

/** The live schema where an archive goes back, read before the plan is made (and again before it runs). */
export interface UnarchiveTarget {
  /** The table exists. */
  exists: boolean;
  /** Archive columns the table does not have now (nothing can be written until they are back). */
  missingColumns: string[];
  /** Columns rows are matched on: the archived key for a column, the table's primary key for a table; empty when it has none. */
  key: string[];
  /** Archived rows whose key exists now with other values (a column: a value is set and differs). */
  conflicts: number;
  /** A column's archived keys that have no row now: those values cannot go back. */
  unmatched: number;
  /** Rows in the table now, counted. */
  rows: number;
  /** The key column that owns a sequence (`serial`, `bigIncrements`, identity), moved past the largest key after the write; else null. */
  serialKey: string | null;
}

/** What the archive and the table hold after the write, compared row by row (each value as text). */
export interface UnarchiveComparison {
  /** `schema.table` of the archive. */
  archive: string;
  /** Rows in the archive. */
  rows: number;
  /** Archived rows found in the table with every value equal. */
  equal: number;
  /** Archived rows whose key is in the table with other values (kept there under `skip`). */
  differing: number;
  /** Archived rows whose key is not in the table. */
  missing: number;
  /** md5 of the archived rows and of the same rows read from the table (each ordered, as text); equal when every row went back. */
  checksums: { archive: string; table: string };
}

const ident = quoteIdent;
const rel = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/**
 * Why an archive cannot go back as asked, in words for people (nothing is recorded), or null.
 * The table must exist with every archived column; a table archive needs a key to match rows
 * unless the table is empty; conflicts need `--on-conflict skip|overwrite`.
 */
export function unarchiveRefusal(
  source: ArchiveSource,
  target: UnarchiveTarget,
  onConflict: OnConflict,
): string | null {
  const where = `${source.target.schema}.${source.target.table}`;
  const from = `${source.archive.schema}.${source.archive.table}`;
  if (!target.exists)
    return `table ${where} does not exist: re-create it (a fix-forward, or the up migration again) before unarchiving ${from}`;
  if (target.missingColumns.length)
    return `${where} has no column ${target.missingColumns.join(', ')}: add it back (a fix-forward, or the up migration again) before unarchiving ${from}`;
  if (source.kind === 'table' && !target.key.length && target.rows > 0)
    return `${where} has no primary key and already holds ${target.rows} rows, so the archived rows could not be matched to them`;
  if (target.conflicts > 0 && onConflict === 'refuse')
    return `${target.conflicts} archived ${source.kind === 'column' ? 'values' : 'rows'} of ${objectWords(source.target)} already exist with other values: add --on-conflict skip to keep them, or --on-conflict overwrite to replace them`;
  return null;
}

const matchOn = (key: readonly string[], left: string, right: string) =>
  key.map((k) => `${left}.${ident(k)} = ${right}.${ident(k)}`).join(' AND ');

/**
 * The statements that write one archive back (pure):
 * - a column: `UPDATE … SET col = a.col FROM archive a WHERE key matches`, only where the value
 *   is NULL unless `overwrite`;
 * - a table: with `overwrite`, an UPDATE of the rows whose key exists; then an `INSERT … SELECT`
 *   of the archived rows whose key is absent (`OVERRIDING SYSTEM VALUE`, so identity columns keep
 *   their archived values), and a serial key's sequence moved past the largest key.
 */
export function unarchiveSql(step: UnarchiveStep): string[] {
  const t = rel(step.target.schema, step.target.table);
  const a = rel(step.archive.schema, step.archive.table);
  if (step.kind === 'column') {
    const col = ident(step.target.column!);
    const keep = step.onConflict === 'overwrite' ? '' : ` AND t.${col} IS NULL`;
    return [`UPDATE ${t} AS t SET ${col} = a.${col} FROM ${a} AS a WHERE ${matchOn(step.key, 't', 'a')}${keep}`];
  }
  const cols = step.columns.map(ident).join(', ');
  const sql: string[] = [];
  const values = step.columns.filter((c) => !step.key.includes(c));
  if (step.onConflict === 'overwrite' && step.key.length && values.length)
    sql.push(
      `UPDATE ${t} AS t SET (${values.map(ident).join(', ')}) = ROW(${values.map((c) => `a.${ident(c)}`).join(', ')}) FROM ${a} AS a WHERE ${matchOn(step.key, 't', 'a')}`,
    );
  const absent = step.key.length
    ? ` WHERE NOT EXISTS (SELECT 1 FROM ${t} AS t WHERE ${matchOn(step.key, 't', 'a')})`
    : '';
  sql.push(
    `INSERT INTO ${t} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${step.columns.map((c) => `a.${ident(c)}`).join(', ')} FROM ${a} AS a${absent}`,
  );
  if (step.serialKey) {
    const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
    sql.push(
      `SELECT setval(pg_get_serial_sequence(${literal(t)}, ${literal(step.serialKey)}), max(${ident(step.serialKey)})) FROM ${t} HAVING count(*) > 0`,
    );
  }
  return sql;
}

/** The plan step that writes one archive back: named after the archive table, transactional, its SQL from {@link unarchiveSql}. */
export function unarchivePlanStep(
  source: ArchiveSource,
  target: UnarchiveTarget,
  onConflict: OnConflict,
  order: number,
): PlanStep {
  const step: UnarchiveStep = {
    archive: source.archive,
    kind: source.kind,
    target: source.target,
    columns: source.columns,
    key: target.key,
    onConflict,
    rows: source.rows,
    conflicts: target.conflicts,
    serialKey: source.kind === 'table' ? target.serialKey : null,
  };
  return {
    migration: `${source.archive.schema}.${source.archive.table}`,
    order,
    transactional: true,
    sql: unarchiveSql(step),
    unarchive: step,
  };
}

/**
 * Did the archive go back? Every archived row must be in the table with equal values, except the
 * conflicts `skip` kept; archived keys with no row now are values that could not go back. Pure.
 * @returns problems, one line each (empty when it passed)
 */
export function unarchiveProblems(step: UnarchiveStep, c: UnarchiveComparison): string[] {
  const problems: string[] = [];
  const noun = step.kind === 'column' ? 'values' : 'rows';
  const kept = step.onConflict === 'skip' ? c.differing : 0;
  if (c.equal + kept < c.rows && c.differing > kept)
    problems.push(
      `${c.archive}: ${c.differing - kept} of ${c.rows} archived ${noun} differ from ${objectWords(step.target)}`,
    );
  if (c.missing > 0)
    problems.push(
      `${c.archive}: ${c.missing} of ${c.rows} archived ${noun} have no row in ${step.target.schema}.${step.target.table} now`,
    );
  return problems;
}
