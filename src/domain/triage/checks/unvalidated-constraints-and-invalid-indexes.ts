import type { CheckOutcome, TriageCheck } from '../check.js';
import { plural, safeCell, safeText, toNumber } from '../safe-value.js';
import type { TriageSession } from '../triage-session.js';

/** At most this many rows per kind. */
export const INTEGRITY_ROWS_LIMIT = 500;

/**
 * Constraints added `NOT VALID` and never validated, outside the system schemas.
 * Source: runbook 001 "Postflight Validation → Foreign Key Validation" and
 * "Useful Queries → Check constraint status": `SELECT conname, contype, convalidated FROM pg_constraint …`.
 * $1 row limit.
 */
export const UNVALIDATED_CONSTRAINTS_SQL = `
SELECT c.conrelid::regclass::text AS relation, c.conname AS name, c.contype::text AS contype
FROM pg_catalog.pg_constraint c
JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace
WHERE NOT c.convalidated
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2
LIMIT $1`;

/**
 * Indexes marked invalid: a failed or running `CREATE INDEX CONCURRENTLY`.
 * Source: runbook 000 "Index Creation with CONCURRENTLY" and runbook 003 "Common
 * scenarios → CREATE INDEX CONCURRENTLY or other non-transactional DDL". $1 row limit.
 */
export const INVALID_INDEXES_SQL = `
SELECT i.indrelid::regclass::text AS relation, i.indexrelid::regclass::text AS name
FROM pg_catalog.pg_index i
WHERE NOT i.indisvalid
ORDER BY 1, 2
LIMIT $1`;

/**
 * Index builds in progress in this database.
 * Source: runbook 002 "Pattern 2: Adding an Index → Monitor index creation progress":
 * `SELECT * FROM pg_stat_progress_create_index;` $1 row limit.
 */
export const INDEX_BUILDS_SQL = `
SELECT p.pid,
       p.relid::regclass::text AS relation,
       CASE WHEN p.index_relid <> 0 THEN p.index_relid::regclass::text END AS name,
       p.command,
       p.phase,
       p.blocks_done::int8 AS blocks_done,
       p.blocks_total::int8 AS blocks_total,
       p.tuples_done::int8 AS tuples_done,
       p.tuples_total::int8 AS tuples_total
FROM pg_catalog.pg_stat_progress_create_index p
WHERE p.datname = current_database()
ORDER BY p.pid
LIMIT $1`;

const CONTYPES: Record<string, string> = {
  c: 'CHECK',
  f: 'FOREIGN KEY',
  n: 'NOT NULL',
  p: 'PRIMARY KEY',
  u: 'UNIQUE',
  t: 'TRIGGER',
  x: 'EXCLUSION',
};

/** Rows of the three queries as the driver returns them. */
export interface IntegrityRows {
  constraints: Array<{ relation: string; name: string; contype: string }>;
  indexes: Array<{ relation: string; name: string }>;
  builds: Array<{
    pid: number;
    relation: string | null;
    name: string | null;
    command: string;
    phase: string;
    blocks_done: string | null;
    blocks_total: string | null;
    tuples_done: string | null;
    tuples_total: string | null;
  }>;
}

const progress = (done: string | null, total: string | null, unit: string): string | null => {
  const d = toNumber(done);
  const t = toNumber(total);
  return t ? `${Math.floor(((d ?? 0) / t) * 100)}% of ${t} ${unit}` : null;
};

/**
 * Verdict: attention when any constraint is unvalidated, any index invalid or any
 * index build running (an invalid index with a build running is reported as
 * "being built"); ok otherwise. Rows: kind, relation, object, detail. Pure.
 */
export function evaluateIntegrity(r: IntegrityRows): CheckOutcome {
  const columns = ['kind', 'relation', 'object', 'detail'];
  const buildByIndex = new Map(r.builds.filter((b) => b.name).map((b) => [b.name!, b]));
  const rows = [
    ...r.constraints.map((c) => ({
      kind: 'unvalidated constraint',
      relation: safeCell(c.relation, 120),
      object: safeCell(c.name, 120),
      detail: CONTYPES[c.contype] ?? c.contype,
    })),
    ...r.indexes.map((i) => {
      const build = buildByIndex.get(i.name);
      return {
        kind: 'invalid index',
        relation: safeCell(i.relation, 120),
        object: safeCell(i.name, 120),
        detail: build ? `being built by pid ${build.pid}` : 'indisvalid = false (failed CONCURRENTLY build?)',
      };
    }),
    ...r.builds.map((b) => ({
      kind: 'index build',
      relation: safeCell(b.relation, 120),
      object: safeCell(b.name, 120),
      detail: safeText(
        [
          `pid ${b.pid}`,
          b.command,
          b.phase,
          progress(b.blocks_done, b.blocks_total, 'blocks'),
          progress(b.tuples_done, b.tuples_total, 'tuples'),
        ]
          .filter(Boolean)
          .join(', '),
        200,
      ),
    })),
  ];
  const building = r.indexes.filter((i) => buildByIndex.has(i.name)).length;
  const parts = [
    r.constraints.length > 0 ? plural(r.constraints.length, 'unvalidated constraint') : '',
    r.indexes.length > 0
      ? `${plural(r.indexes.length, 'invalid index', 'invalid indexes')}${building > 0 ? ` (${building} being built)` : ''}`
      : '',
    r.builds.length > 0 ? `${plural(r.builds.length, 'index build')} running` : '',
  ].filter(Boolean);
  if (parts.length === 0)
    return {
      verdict: 'ok',
      summary: 'Every constraint is validated and every index valid; no index build running.',
      columns,
      rows,
    };
  return { verdict: 'attention', summary: `${parts.join(', ')}.`, columns, rows };
}

/** Check `unvalidated_constraints_and_invalid_indexes` (runbooks 001, 000, 002). */
export const unvalidatedConstraintsAndInvalidIndexesCheck: TriageCheck = {
  name: 'unvalidated_constraints_and_invalid_indexes',
  title: 'Unvalidated constraints and invalid indexes',
  source: '001 Foreign Key Validation / Check constraint status; 002 Pattern 2 (pg_stat_progress_create_index)',
  async run(session: TriageSession): Promise<CheckOutcome> {
    const constraints = await session.query<IntegrityRows['constraints'][number]>(UNVALIDATED_CONSTRAINTS_SQL, [
      INTEGRITY_ROWS_LIMIT,
    ]);
    const indexes = await session.query<IntegrityRows['indexes'][number]>(INVALID_INDEXES_SQL, [INTEGRITY_ROWS_LIMIT]);
    const builds = await session.query<IntegrityRows['builds'][number]>(INDEX_BUILDS_SQL, [INTEGRITY_ROWS_LIMIT]);
    return evaluateIntegrity({ constraints: constraints.rows, indexes: indexes.rows, builds: builds.rows });
  },
};
