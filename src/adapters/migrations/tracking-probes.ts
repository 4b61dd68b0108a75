import type { ProbeFindings, QualifiedName, TrackingProbe } from '../../domain/rollback/migration-tool.js';
import { plural, safeCell, safeText } from '../../domain/triage/safe-value.js';

/** A tracking row in words for triage tables: `version=7 dirty=true`, at most 200 characters. */
export const describeRow = (row: Record<string, unknown>): string =>
  safeText(
    Object.entries(row)
      .map(([k, v]) => `${k}=${String(safeCell(v, 60))}`)
      .join(' '),
    200,
  );

/**
 * Dirty versions in a golang-migrate style table (a `dirty boolean` column). Source: runbook
 * 001 "Dirty Migration Recovery → Manual recovery": `SELECT version, applied_at FROM
 * schema_migrations WHERE dirty = true;` (`SELECT *` here: golang-migrate itself has only
 * `version` and `dirty`). Runs only when the table has a `dirty` column.
 */
export function dirtyVersionsProbe(table: QualifiedName): TrackingProbe {
  return {
    relation: { ...table, column: 'dirty' },
    sql: (quoted) => `SELECT * FROM ${quoted} WHERE dirty = true LIMIT 100`,
    whenAbsent: null,
    evaluate(rows, name): ProbeFindings {
      if (rows.length === 0) return { problems: [], notes: [`no dirty row in ${name}`], rows: [] };
      return {
        problems: [
          `${name} has ${plural(rows.length, 'dirty row')} (version ${rows.map((r) => String(safeCell(r.version, 40))).join(', ')})`,
        ],
        notes: [],
        rows: rows.map((r) => ({ table: name, row: describeRow(r), finding: 'dirty = true' })),
      };
    },
  };
}

/**
 * A tool's session advisory lock, held by whom (pg_locks joined to pg_stat_activity). A
 * single bigint key shows in pg_locks as classid (high 32 bits), objid (low 32 bits),
 * objsubid 1 (PostgreSQL "pg_locks"). `what` names the tool's lock in words.
 */
export function advisoryLockProbe(key: bigint, what: string): TrackingProbe {
  const high = (key >> 32n) & 0xffffffffn;
  const low = key & 0xffffffffn;
  return {
    relation: null,
    sql: () =>
      `SELECT a.pid, a.application_name, a.state, a.backend_start, left(a.query, 200) AS query
         FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
          AND l.classid::bigint = ${high} AND l.objid::bigint = ${low}
        LIMIT 100`,
    whenAbsent: null,
    evaluate(rows): ProbeFindings {
      if (rows.length === 0) return { problems: [], notes: [`${what} is free`], rows: [] };
      return {
        problems: [`${what} is held by pid ${rows.map((r) => String(r.pid)).join(', ')}: a migration may be running`],
        notes: [],
        lockHeld: true,
        rows: rows.map((r) => ({ table: 'pg_locks', row: describeRow(r), finding: `holds ${what}` })),
      };
    },
  };
}
