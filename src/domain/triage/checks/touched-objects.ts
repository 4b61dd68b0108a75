import type { CheckContext, CheckOutcome, TriageCheck } from '../check.js';
import { formatBytes, formatRows, plural, safeText, toNumber } from '../safe-value.js';
import { qualifiedName, type TouchedRelation } from '../touched-relations.js';
import {
  SQLSTATE_LOCK_NOT_AVAILABLE,
  SQLSTATE_QUERY_CANCELED,
  sqlStateOf,
  type TriageSession,
} from '../triage-session.js';

/** At most this many exact `count(*)` per triage run; the rest keep their estimate. */
export const EXACT_COUNT_LIMIT = 20;
/** Minimum heap footprint of a row, bytes (23-byte tuple header rounded to 24, plus a 4-byte line pointer). */
export const MIN_ROW_BYTES = 28;

/**
 * Existence, kind and estimated rows of each relation the offending migration's
 * down SQL names, without taking any lock (to_regclass and pg_class reads do not
 * lock), plus who holds or queues for ACCESS EXCLUSIVE on it (any lock we take
 * there would wait behind them).
 *
 * Source: runbook 003 "Post-rollback verification → Sanity checks" and "Useful SQL
 * snippets": `SELECT to_regclass('public.hero_snapshots')`, quick `count(*)`;
 * runbook 003 "Initial triage" step 3 (tables and rows in scope); runbook 001
 * "Useful Queries → Find largest tables" (pg_total_relation_size).
 * $1: relation names as text, each quoted with escapeIdentifier.
 */
export const TOUCHED_OBJECTS_SQL = `
WITH exclusive AS (
  SELECT l.relation,
         string_agg(l.pid::text || CASE WHEN l.granted THEN ' holds' ELSE ' waits for' END || ' AccessExclusiveLock', ', ' ORDER BY l.pid) AS holders
  FROM pg_catalog.pg_locks l
  WHERE l.mode = 'AccessExclusiveLock'
    AND l.locktype = 'relation'
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
    AND l.pid <> pg_backend_pid()
  GROUP BY l.relation
)
SELECT t.ord::int AS ord,
       c.oid::int8 AS oid,
       n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS relkind,
       c.reltuples::float8 AS reltuples,
       x.holders AS exclusive_lock
FROM unnest($1::text[]) WITH ORDINALITY AS t(ident, ord)
LEFT JOIN pg_catalog.pg_class c ON c.oid = to_regclass(t.ident)
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN exclusive x ON x.relation = c.oid
ORDER BY t.ord`;

/**
 * Total size (table, indexes, TOAST) and heap size, bytes, of relations nobody
 * holds or queues ACCESS EXCLUSIVE on (these functions take ACCESS SHARE).
 * Source: runbook 001 "Useful Queries → Find largest tables". $1: oids.
 */
export const TOUCHED_SIZES_SQL = `
SELECT o.oid::int8 AS oid,
       pg_catalog.pg_total_relation_size(o.oid)::int8 AS total_bytes,
       pg_catalog.pg_relation_size(o.oid)::int8 AS heap_bytes
FROM unnest($1::oid[]) AS o(oid)`;

/** `SELECT count(*)` of one relation; names read from pg_class, quoted with escapeIdentifier. Runbook 003 "Quick counts". */
export function exactCountSql(session: Pick<TriageSession, 'escapeIdentifier'>, schema: string, name: string): string {
  return `SELECT count(*) AS n FROM ${session.escapeIdentifier(schema)}.${session.escapeIdentifier(name)}`;
}

/** Errors of one exact count that skip that count instead of failing the check. */
const COUNT_SKIPPED: Record<string, string> = {
  [SQLSTATE_LOCK_NOT_AVAILABLE]: 'count skipped: lock_timeout',
  [SQLSTATE_QUERY_CANCELED]: 'count skipped: statement_timeout',
  '42501': 'count skipped: the triage role has no SELECT on it',
};

const KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  i: 'index',
  I: 'partitioned index',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
  f: 'foreign table',
  t: 'TOAST table',
  c: 'composite type',
};

/** One named relation as found in the catalog (null when it does not exist). */
export interface TouchedObjectState {
  written: TouchedRelation;
  found: null | {
    oid: number;
    schema: string;
    name: string;
    relkind: string;
    /** pg_class.reltuples; -1 when never vacuumed or analyzed. */
    reltuples: number;
    /** "1234 holds AccessExclusiveLock, …" or null. */
    exclusiveLock: string | null;
    totalBytes: number | null;
    exactRows: number | null;
    /** Why there is no exact count or size: locked, over the threshold, budget used up, count failed. */
    note: string | null;
  };
}

/** The best row figure we have: the exact count, else the estimate (null when unknown). */
export function bestRows(o: NonNullable<TouchedObjectState['found']>): number | null {
  if (o.exactRows !== null) return o.exactRows;
  return o.reltuples >= 0 ? o.reltuples : null;
}

/**
 * Verdict: attention when the down SQL could not be fully analysed, when a named
 * relation does not exist (unless the SQL creates it), when someone holds or
 * queues for ACCESS EXCLUSIVE on one, or when the down drops or truncates
 * relations that hold rows (data the down destroys, runbook 003 "Common
 * scenarios → Destructive migration"); ok otherwise. Pure.
 */
export function evaluateTouchedObjects(
  objects: TouchedObjectState[],
  problems: string[],
  offendingName?: string,
): CheckOutcome {
  const columns = ['relation', 'kind', 'actions', 'exists', 'est_rows', 'exact_rows', 'total_size', 'note'];
  const rows = objects.map(({ written, found }) => ({
    relation: safeText(found ? `${found.schema}.${found.name}` : qualifiedName(written), 160),
    kind: found ? (KINDS[found.relkind] ?? found.relkind) : written.kind.replace('_', ' '),
    actions: written.actions.join(', '),
    exists: found !== null,
    est_rows: found && found.reltuples >= 0 ? Math.round(found.reltuples) : null,
    exact_rows: found?.exactRows ?? null,
    total_size: found?.totalBytes == null ? null : formatBytes(found.totalBytes),
    note: found?.note ? safeText(found.note, 160) : null,
  }));
  if (offendingName === undefined)
    return { verdict: 'ok', summary: 'No offending migration given; nothing to look up.', columns, rows };

  const issues: string[] = [];
  if (problems.length > 0) issues.push(`down SQL not fully analysed: ${safeText(problems.join('; '), 300)}`);
  const missing = objects.filter((o) => o.found === null && !o.written.actions.includes('create'));
  if (missing.length > 0)
    issues.push(
      `${plural(missing.length, 'relation')} not found (${missing
        .slice(0, 5)
        .map((o) => qualifiedName(o.written))
        .join(', ')}${missing.length > 5 ? ', …' : ''})`,
    );
  const locked = objects.filter((o) => o.found?.exclusiveLock);
  if (locked.length > 0)
    issues.push(
      `${plural(locked.length, 'relation')} under ACCESS EXCLUSIVE (${locked
        .slice(0, 3)
        .map((o) => `${o.found!.name}: ${o.found!.exclusiveLock}`)
        .join('; ')})`,
    );
  const destroyed = objects.filter(
    (o) =>
      o.found &&
      (o.written.actions.includes('drop') || o.written.actions.includes('truncate')) &&
      (bestRows(o.found) ?? 0) > 0,
  );
  if (destroyed.length > 0) {
    const rowsLost = destroyed.reduce((n, o) => n + (bestRows(o.found!) ?? 0), 0);
    issues.push(
      `the down drops or truncates ${plural(destroyed.length, 'relation')} holding ~${formatRows(rowsLost)} rows`,
    );
  }

  const existing = objects.flatMap((o) => (o.found ? [o.found] : []));
  const sized = existing.filter((o) => o.totalBytes !== null);
  const totalBytes = sized.reduce((n, o) => n + (o.totalBytes ?? 0), 0);
  const largest = [...sized].sort((a, b) => (b.totalBytes ?? 0) - (a.totalBytes ?? 0))[0];
  const sizeText =
    sized.length === 0
      ? ''
      : `, ${formatBytes(totalBytes)} in total${sized.length < existing.length ? ` (${existing.length - sized.length} not sized)` : ''}`;
  const largestText = largest?.totalBytes
    ? `; largest ${largest.schema}.${largest.name} (${formatBytes(largest.totalBytes)}${bestRows(largest) === null ? '' : `, ~${formatRows(bestRows(largest)!)} rows`})`
    : '';
  const overview =
    objects.length === 0
      ? `down SQL of ${offendingName} names no relations`
      : `${plural(objects.length, 'relation')} named, ${existing.length} exist${sizeText}${largestText}`;
  if (issues.length > 0) return { verdict: 'attention', summary: `${issues.join('; ')}. ${overview}.`, columns, rows };
  return { verdict: 'ok', summary: `${overview}.`, columns, rows };
}

/** Looks up, sizes and (when small enough) counts each named relation; see {@link TOUCHED_OBJECTS_SQL}. */
async function inspect(
  session: TriageSession,
  relations: TouchedRelation[],
  context: CheckContext,
): Promise<TouchedObjectState[]> {
  const idents = relations.map(
    (r) => (r.schema ? `${session.escapeIdentifier(r.schema)}.` : '') + session.escapeIdentifier(r.name),
  );
  const { rows } = await session.query<{
    ord: number;
    oid: string | null;
    schema: string | null;
    name: string | null;
    relkind: string | null;
    reltuples: number | null;
    exclusive_lock: string | null;
  }>(TOUCHED_OBJECTS_SQL, [idents]);

  const byOid = new Map<number, TouchedObjectState>();
  const states: TouchedObjectState[] = [];
  for (const r of rows) {
    const written = relations[r.ord - 1]!;
    const oid = toNumber(r.oid);
    if (oid === null) {
      states.push({ written, found: null });
      continue;
    }
    const same = byOid.get(oid);
    if (same) {
      for (const a of written.actions) if (!same.written.actions.includes(a)) same.written.actions.push(a);
      continue;
    }
    const state: TouchedObjectState = {
      written: { ...written, actions: [...written.actions] },
      found: {
        oid,
        schema: r.schema ?? '',
        name: r.name ?? '',
        relkind: r.relkind ?? '',
        reltuples: r.reltuples ?? -1,
        exclusiveLock: r.exclusive_lock,
        totalBytes: null,
        exactRows: null,
        note: r.exclusive_lock ? 'size and count skipped: would wait for the lock' : null,
      },
    };
    byOid.set(oid, state);
    states.push(state);
  }

  const free = states.flatMap((s) => (s.found && !s.found.exclusiveLock ? [s.found] : []));
  const heapBytes = new Map<number, number>();
  if (free.length > 0) {
    await session.query('SAVEPOINT touched_sizes');
    try {
      const sizes = await session.query<{ oid: string; total_bytes: string | null; heap_bytes: string | null }>(
        TOUCHED_SIZES_SQL,
        [free.map((f) => f.oid)],
      );
      for (const s of sizes.rows) {
        const f = byOid.get(Number(s.oid))?.found;
        if (f) f.totalBytes = toNumber(s.total_bytes);
        if (s.heap_bytes !== null) heapBytes.set(Number(s.oid), Number(s.heap_bytes));
      }
      await session.query('RELEASE SAVEPOINT touched_sizes');
    } catch (err) {
      if (sqlStateOf(err) !== SQLSTATE_LOCK_NOT_AVAILABLE) throw err;
      await session.query('ROLLBACK TO SAVEPOINT touched_sizes');
      for (const f of free) f.note = 'size skipped: a lock was taken meanwhile (lock_timeout)';
    }
  }

  const max = context.service.triage.exact_count_max_rows;
  const budgetMs = context.service.triage.statement_timeout.ms;
  const started = performance.now();
  let counted = 0;
  for (const f of free) {
    if (f.relkind !== 'r' && f.relkind !== 'm') continue;
    const heap = heapBytes.get(f.oid);
    const bound = f.reltuples >= 0 ? f.reltuples : heap === undefined ? null : heap / MIN_ROW_BYTES;
    if (bound === null || bound >= max) {
      f.note ??= `no exact count: ${bound === null ? 'size unknown' : `~${formatRows(bound)} rows ≥ exact_count_max_rows ${formatRows(max)}`}`;
      continue;
    }
    if (counted >= EXACT_COUNT_LIMIT || performance.now() - started > budgetMs) {
      f.note ??= `no exact count: limit of ${EXACT_COUNT_LIMIT} counts or ${budgetMs}ms reached`;
      continue;
    }
    counted += 1;
    await session.query('SAVEPOINT touched_count');
    try {
      const c = await session.query<{ n: string }>(exactCountSql(session, f.schema, f.name));
      f.exactRows = toNumber(c.rows[0]?.n);
      await session.query('RELEASE SAVEPOINT touched_count');
    } catch (err) {
      const state = sqlStateOf(err);
      const why = state ? COUNT_SKIPPED[state] : undefined;
      if (!why) throw err;
      await session.query('ROLLBACK TO SAVEPOINT touched_count');
      f.note = why;
    }
  }
  return states;
}

/** Check `touched_objects` (runbook 003 "Initial triage" and "Useful SQL snippets"). */
export const touchedObjectsCheck: TriageCheck = {
  name: 'touched_objects',
  title: 'Objects the migration touches',
  source: '003 Initial triage (scope/impact); 003 Useful SQL snippets',
  async run(session: TriageSession, context: CheckContext): Promise<CheckOutcome> {
    const offending = context.offending;
    const touched = context.touched ?? { relations: [], problems: [] };
    const states = offending && touched.relations.length > 0 ? await inspect(session, touched.relations, context) : [];
    return evaluateTouchedObjects(states, touched.problems, offending?.name);
  },
};
