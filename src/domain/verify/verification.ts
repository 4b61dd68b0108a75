import type { PlanStep } from '../rollback/plan.js';
import { extractTouchedRelations, qualifiedName } from '../triage/touched-relations.js';
import {
  INVALID_INDEXES_SQL,
  UNVALIDATED_CONSTRAINTS_SQL,
} from '../triage/checks/unvalidated-constraints-and-invalid-indexes.js';
import type { TriageSession } from '../triage/triage-session.js';
import { expectedObjects, type ExpectedObject } from './expected-objects.js';

/** One named verification check, as the resolution lists it. */
export interface VerificationCheck {
  /** snake_case, e.g. `objects`, `tracking_table`, `smoke_queries`. */
  name: string;
  /** For people, e.g. "Objects the rollback removes and restores". */
  title: string;
  /** `skipped` says why in `detail` (nothing to check, not configured, not supported). */
  status: 'passed' | 'failed' | 'skipped';
  /** One line: what was checked and what was found. */
  detail: string;
  /** What failed, one line each (at most 20 shown). */
  problems: string[];
  durationMs: number;
}

/** Each check's name and title: one place, for the checks and for a runner reporting one that could not run. */
export const CHECKS = {
  objects: { name: 'objects', title: 'Objects the rollback removes and restores' },
  integrity: {
    name: 'integrity',
    title: 'Invalid indexes, NOT VALID constraints, orphaned rows (runbook 001 postflight)',
  },
  smoke_queries: { name: 'smoke_queries', title: 'Smoke queries (services.yaml verify.smoke_queries)' },
  health_urls: { name: 'health_urls', title: 'Health endpoints (services.yaml verify.health_urls)' },
} as const;

/** Opens a read-only, time-bounded transaction on the service database; `close()` ends it. */
export type BeginReadOnly = () => Promise<TriageSession & { close(): Promise<void> }>;

/** A read-only query from services.yaml `verify.smoke_queries`, with what it must return. */
export interface SmokeQuery {
  name: string;
  sql: string;
  /** Exact number of rows it must return. */
  expect_rows?: number;
  /** The first column of the first row must be this boolean. */
  expect?: boolean;
}

const elapsed = (t0: number): number => Math.round(performance.now() - t0);

/** Runs `fn` in its own read-only transaction, so one check that fails leaves the others. */
async function inSession<T>(begin: BeginReadOnly, fn: (s: TriageSession) => Promise<T>): Promise<T> {
  const s = await begin();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const quoteName = (s: TriageSession, schema: string | null, name: string): string =>
  schema ? `${s.escapeIdentifier(schema)}.${s.escapeIdentifier(name)}` : s.escapeIdentifier(name);

/** Is the object there now (catalog lookups; `to_regclass`/`to_regtype` take no lock)? */
async function exists(s: TriageSession, o: ExpectedObject): Promise<boolean> {
  const one = async (sql: string, params: unknown[]): Promise<boolean> =>
    Boolean((await s.query<{ ok: boolean }>(sql, params)).rows[0]?.ok);
  switch (o.kind) {
    case 'table':
    case 'view':
    case 'materialized_view':
    case 'index':
    case 'sequence':
      return one('SELECT to_regclass($1) IS NOT NULL AS ok', [quoteName(s, o.schema, o.name)]);
    case 'type':
      return one('SELECT to_regtype($1) IS NOT NULL AS ok', [quoteName(s, o.schema, o.name)]);
    case 'function':
      return one(
        `SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proname = $1 AND (n.nspname = $2 OR ($2 IS NULL AND pg_function_is_visible(p.oid)))) AS ok`,
        [o.name, o.schema],
      );
    case 'column':
      return one(
        'SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped) AS ok',
        [quoteName(s, o.schema, o.table!), o.name],
      );
    case 'constraint':
      return one(
        'SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2) AS ok',
        [quoteName(s, o.schema, o.table!), o.name],
      );
    case 'policy':
      return one('SELECT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = to_regclass($1) AND polname = $2) AS ok', [
        quoteName(s, o.schema, o.table!),
        o.name,
      ]);
  }
}

const describe = (o: ExpectedObject): string =>
  `${o.kind.replace('_', ' ')} \`${o.table ? `${o.table}.` : ''}${o.schema && !o.table ? `${o.schema}.` : ''}${o.name}\``;

/**
 * Every object the reverted ups created is gone and every object the downs recreate exists
 * (runbook 003 "Post-rollback verification: objects gone"), from the plan's parsed SQL.
 */
export async function objectsCheck(begin: BeginReadOnly, plan: readonly PlanStep[]): Promise<VerificationCheck> {
  const t0 = performance.now();
  const base = CHECKS.objects;
  const { objects, problems: unparsed } = await expectedObjects(plan);
  if (!objects.length) {
    return {
      ...base,
      status: 'skipped',
      detail: unparsed.length
        ? `nothing could be read from the SQL (${unparsed[0]})`
        : 'the SQL names no object to look up',
      problems: [],
      durationMs: elapsed(t0),
    };
  }
  const wrong = await inSession(begin, async (s) => {
    const out: string[] = [];
    for (const o of objects) {
      const there = await exists(s, o);
      if (there !== o.present) out.push(`${describe(o)} ${there ? 'still exists' : 'is missing'}: ${o.because}`);
    }
    return out;
  });
  return {
    ...base,
    status: wrong.length ? 'failed' : 'passed',
    detail: wrong.length
      ? `${wrong.length} of ${objects.length} objects are not as the rollback should leave them`
      : `${objects.length} objects as expected (${objects.filter((o) => !o.present).length} gone, ${objects.filter((o) => o.present).length} present)`,
    problems: wrong,
    durationMs: elapsed(t0),
  };
}

/** Foreign keys on the touched tables, as `ALTER TABLE … ADD FOREIGN KEY` would read them. */
const TOUCHED_FKS_SQL = `
SELECT c.conname, c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent,
       array_agg(ca.attname::text ORDER BY k.ord) AS child_cols, array_agg(pa.attname::text ORDER BY k.ord) AS parent_cols
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child_att, parent_att, ord)
JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_att
WHERE c.contype = 'f' AND (c.conrelid = ANY($1::regclass[]) OR c.confrelid = ANY($1::regclass[]))
GROUP BY c.oid, c.conname, c.conrelid, c.confrelid
LIMIT 50`;

/**
 * Runbook 001 "Postflight Validation": no invalid index and no NOT VALID constraint on the
 * tables the plan touched, and no orphaned rows for their foreign keys.
 */
export async function integrityCheck(begin: BeginReadOnly, plan: readonly PlanStep[]): Promise<VerificationCheck> {
  const t0 = performance.now();
  const base = CHECKS.integrity;
  const touched = await extractTouchedRelations(plan.flatMap((s) => s.sql));
  const names = touched.relations.map((r) => qualifiedName(r));
  const problems = await inSession(begin, async (s) => {
    const present: string[] = [];
    for (const n of names) {
      const { rows } = await s.query<{ reg: string | null }>('SELECT to_regclass($1)::text AS reg', [
        n
          .split('.')
          .map((p) => s.escapeIdentifier(p))
          .join('.'),
      ]);
      if (rows[0]?.reg) present.push(rows[0].reg);
    }
    const out: string[] = [];
    const mine = (relation: string): boolean => present.includes(relation);
    for (const r of (await s.query<{ relation: string; name: string }>(INVALID_INDEXES_SQL, [500])).rows)
      if (mine(r.relation)) out.push(`index \`${r.name}\` on \`${r.relation}\` is invalid`);
    for (const r of (await s.query<{ relation: string; name: string }>(UNVALIDATED_CONSTRAINTS_SQL, [500])).rows)
      if (mine(r.relation)) out.push(`constraint \`${r.name}\` on \`${r.relation}\` is NOT VALID`);
    if (present.length) {
      const fks = await s.query<{
        conname: string;
        child: string;
        parent: string;
        child_cols: string[];
        parent_cols: string[];
      }>(TOUCHED_FKS_SQL, [present]);
      for (const fk of fks.rows) {
        const notNull = fk.child_cols.map((c) => `c.${s.escapeIdentifier(c)} IS NOT NULL`).join(' AND ');
        const match = fk.child_cols
          .map((c, i) => `p.${s.escapeIdentifier(fk.parent_cols[i]!)} = c.${s.escapeIdentifier(c)}`)
          .join(' AND ');
        const { rows } = await s.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${match})`,
        );
        const n = Number(rows[0]?.n ?? 0);
        if (n > 0)
          out.push(`${n} row(s) of \`${fk.child}\` have no parent in \`${fk.parent}\` (foreign key \`${fk.conname}\`)`);
      }
    }
    return { out, present };
  });
  if (!problems.present.length)
    return {
      ...base,
      status: 'skipped',
      detail: 'none of the tables the plan touched exists now',
      problems: [],
      durationMs: elapsed(t0),
    };
  return {
    ...base,
    status: problems.out.length ? 'failed' : 'passed',
    detail: `${problems.present.length} touched table(s) checked`,
    problems: problems.out,
    durationMs: elapsed(t0),
  };
}

/** `verify.smoke_queries` from services.yaml, each read-only, with its expected row count or boolean. */
export async function smokeCheck(
  begin: BeginReadOnly,
  queries: readonly SmokeQuery[],
  describeError: (err: unknown) => string,
): Promise<VerificationCheck> {
  const t0 = performance.now();
  const base = CHECKS.smoke_queries;
  if (!queries.length)
    return { ...base, status: 'skipped', detail: 'none configured', problems: [], durationMs: elapsed(t0) };
  const problems: string[] = [];
  for (const q of queries) {
    try {
      const { rows } = await inSession(begin, (s) => s.query<Record<string, unknown>>(q.sql));
      if (q.expect_rows !== undefined && rows.length !== q.expect_rows)
        problems.push(`\`${q.name}\` returned ${rows.length} row(s), expected ${q.expect_rows}`);
      if (q.expect !== undefined) {
        const first = rows[0] ? Object.values(rows[0])[0] : undefined;
        if (first !== q.expect)
          problems.push(`\`${q.name}\` returned ${JSON.stringify(first ?? null)}, expected ${q.expect}`);
      }
    } catch (err) {
      problems.push(`\`${q.name}\` failed: ${describeError(err)}`);
    }
  }
  return {
    ...base,
    status: problems.length ? 'failed' : 'passed',
    detail: `${queries.length - problems.length} of ${queries.length} as expected`,
    problems,
    durationMs: elapsed(t0),
  };
}

/** `verify.health_urls`: each must answer HTTP 2xx within `timeoutMs` (runbook 003 "health endpoints"). */
export async function healthCheck(
  urls: readonly string[],
  timeoutMs: number,
  get: (url: string, timeoutMs: number) => Promise<number>,
): Promise<VerificationCheck> {
  const t0 = performance.now();
  const base = CHECKS.health_urls;
  if (!urls.length)
    return { ...base, status: 'skipped', detail: 'none configured', problems: [], durationMs: elapsed(t0) };
  const problems: string[] = [];
  await Promise.all(
    urls.map(async (url) => {
      const shown = url.replace(/\/\/[^@/]*@/, '//');
      try {
        const status = await get(url, timeoutMs);
        if (status < 200 || status > 299) problems.push(`${shown} answered HTTP ${status}`);
      } catch (err) {
        problems.push(
          `${shown} did not answer within ${timeoutMs} ms (${(err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message})`,
        );
      }
    }),
  );
  return {
    ...base,
    status: problems.length ? 'failed' : 'passed',
    detail: `${urls.length - problems.length} of ${urls.length} answered 2xx`,
    problems,
    durationMs: elapsed(t0),
  };
}

/** What verification found after (or long after) a rollback. */
export interface VerificationReport {
  /** True only when no check failed (skipped checks say why and do not fail it). */
  passed: boolean;
  /** Planned migrations the tracking table still lists: the rollback did not happen, whatever else passed. */
  stillApplied: string[];
  /** Newest migration left in the tracking table, or null when none. */
  head: string | null;
  checks: VerificationCheck[];
  /** Wall time of the verification, ms. */
  durationMs: number;
}
