import type { TriageSession } from '../triage/triage-session.js';
import type { ConstraintSpec, PlanRisk, RiskFigure, RiskFinding, RiskTarget } from './risk.js';

/** Opens a read-only, time-bounded transaction on the service database (triage's limits); `close()` ends it. */
export type BeginReadOnly = () => Promise<TriageSession & { close(): Promise<void> }>;

/** What to count exactly and what to estimate. */
export interface FigureOptions {
  /** `triage.exact_count_max_rows`: above it, rows come from `reltuples`, values from `pg_stats`, violations from a TABLESAMPLE. */
  exactCountMaxRows: number;
  /** Turns a database error into a plain, secret-free sentence. */
  describeError(err: unknown): string;
}

interface Relation {
  quoted: string;
  /** `reltuples`; -1 when never analysed. */
  estimate: number;
  display: string;
}

async function relation(s: TriageSession, t: RiskTarget): Promise<Relation | null> {
  const name = t.schema ? `${s.escapeIdentifier(t.schema)}.${s.escapeIdentifier(t.name)}` : s.escapeIdentifier(t.name);
  const { rows } = await s.query<{ nspname: string; relname: string; reltuples: number }>(
    `SELECT n.nspname, c.relname, c.reltuples::float8 AS reltuples
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [name],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    quoted: `${s.escapeIdentifier(r.nspname)}.${s.escapeIdentifier(r.relname)}`,
    estimate: Number(r.reltuples),
    display: `${r.nspname}.${r.relname}`,
  };
}

const count = async (s: TriageSession, sql: string, params: unknown[] = []): Promise<number> =>
  Number((await s.query<{ n: string | number }>(sql, params)).rows[0]?.n ?? 0);

/**
 * `FROM <table>` for a count: the whole table up to the exact-count limit, else a
 * `TABLESAMPLE SYSTEM` of about that many rows, with the factor that scales the count back up.
 */
function sampled(rel: Relation, max: number, alias = 't'): { from: string; scale: number; estimated: boolean } {
  if (rel.estimate <= max) return { from: `${rel.quoted} ${alias}`, scale: 1, estimated: false };
  const percent = Math.max(0.01, Math.min(100, (max / rel.estimate) * 100));
  return {
    from: `${rel.quoted} ${alias} TABLESAMPLE SYSTEM (${percent.toFixed(4)})`,
    scale: 100 / percent,
    estimated: true,
  };
}

async function rows(s: TriageSession, rel: Relation, max: number): Promise<RiskFigure> {
  if (rel.estimate > max) return { count: Math.round(rel.estimate), estimated: true };
  return { count: await count(s, `SELECT count(*) AS n FROM ${rel.quoted}`), estimated: false };
}

async function values(s: TriageSession, rel: Relation, column: string, max: number): Promise<RiskFigure> {
  // A column that does not exist (a dirty up that never committed it) holds nothing to lose.
  const { rows: has } = await s.query(
    'SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped',
    [rel.quoted, column],
  );
  if (!has.length) return { count: 0, estimated: false, absent: true };
  if (rel.estimate > max) {
    const { rows: stats } = await s.query<{ null_frac: number }>(
      "SELECT null_frac FROM pg_stats WHERE schemaname || '.' || tablename = $1 AND attname = $2",
      [rel.display, column],
    );
    const nullFrac = stats[0] ? Number(stats[0].null_frac) : 0;
    return { count: Math.round(rel.estimate * (1 - nullFrac)), estimated: true };
  }
  return {
    count: await count(s, `SELECT count(${s.escapeIdentifier(column)}) AS n FROM ${rel.quoted}`),
    estimated: false,
  };
}

async function primaryKeyColumns(s: TriageSession, rel: Relation): Promise<string[]> {
  const { rows: cols } = await s.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = to_regclass($1) AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
    [rel.quoted],
  );
  return cols.map((c) => c.attname);
}

/**
 * Rows that violate a constraint the down adds (runbook 000 "Constraint violation on ADD
 * CONSTRAINT"): the step would fail on them. The CHECK expression is the migration's own
 * text, evaluated in the read-only transaction, as the down itself would.
 */
async function violations(
  s: TriageSession,
  rel: Relation,
  c: ConstraintSpec,
  max: number,
): Promise<RiskFigure & { hint?: string }> {
  const q = (col: string): string => `t.${s.escapeIdentifier(col)}`;
  const from = sampled(rel, max);
  const scaled = (n: number): RiskFigure => ({ count: Math.round(n * from.scale), estimated: from.estimated });
  switch (c.type) {
    case 'check': {
      if (!c.expression) return { count: null, estimated: false, error: 'the CHECK expression could not be read' };
      const where = `NOT (${c.expression})`;
      return {
        ...scaled(await count(s, `SELECT count(*) AS n FROM ${from.from} WHERE ${where}`)),
        hint: `SELECT * FROM ${rel.display} WHERE ${where} LIMIT 100`,
      };
    }
    case 'not_null': {
      const col = c.columns[0]!;
      return {
        ...scaled(await count(s, `SELECT count(*) AS n FROM ${from.from} WHERE ${q(col)} IS NULL`)),
        hint: `SELECT * FROM ${rel.display} WHERE ${s.escapeIdentifier(col)} IS NULL LIMIT 100`,
      };
    }
    case 'new_not_null_column':
      return rows(s, rel, max);
    case 'unique':
    case 'primary_key': {
      const cols = c.columns.map(q).join(', ');
      const n = await count(
        s,
        `SELECT count(*) AS n FROM (SELECT 1 FROM ${from.from} GROUP BY ${cols} HAVING count(*) > 1) d`,
      );
      return {
        ...scaled(n),
        hint: `SELECT ${c.columns.map((x) => s.escapeIdentifier(x)).join(', ')}, count(*) FROM ${rel.display} GROUP BY 1${c.columns
          .slice(1)
          .map((_, i) => `, ${i + 2}`)
          .join('')} HAVING count(*) > 1`,
      };
    }
    case 'foreign_key': {
      const ref = c.references!;
      const parent = await relation(s, { schema: ref.schema, name: ref.table });
      if (!parent)
        return {
          count: null,
          estimated: false,
          error: `the referenced table ${ref.schema ? `${ref.schema}.` : ''}${ref.table} does not exist`,
        };
      const refCols = ref.columns.length ? ref.columns : await primaryKeyColumns(s, parent);
      const notNull = c.columns.map((col) => `${q(col)} IS NOT NULL`).join(' AND ');
      const match = c.columns.map((col, i) => `p.${s.escapeIdentifier(refCols[i] ?? col)} = ${q(col)}`).join(' AND ');
      const where = `${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent.quoted} p WHERE ${match})`;
      return {
        ...scaled(await count(s, `SELECT count(*) AS n FROM ${from.from} WHERE ${where}`)),
        hint: `SELECT t.* FROM ${rel.display} t WHERE ${where} LIMIT 100`,
      };
    }
  }
}

async function policies(s: TriageSession, rel: Relation): Promise<RiskFigure> {
  const { rows: pols } = await s.query<{ polname: string; cmd: string }>(
    `SELECT polname, CASE polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS cmd
       FROM pg_policy WHERE polrelid = to_regclass($1) ORDER BY polname`,
    [rel.quoted],
  );
  return { count: pols.length, estimated: false, names: pols.map((p) => `${p.polname} (${p.cmd})`) };
}

async function figureOf(s: TriageSession, f: RiskFinding, max: number): Promise<RiskFigure> {
  const t = f.target!;
  const rel = await relation(s, t);
  if (!rel) return { count: 0, estimated: false, absent: true };
  switch (t.measure) {
    case 'rows':
      return rows(s, rel, max);
    case 'values':
      return values(s, rel, t.column!, max);
    case 'violations':
      return violations(s, rel, t.constraint!, max);
    case 'longer_values': {
      const from = sampled(rel, max);
      const n = await count(
        s,
        `SELECT count(*) AS n FROM ${from.from} WHERE length(t.${s.escapeIdentifier(t.column!)}::text) > $1`,
        [t.maxLength],
      );
      return { count: Math.round(n * from.scale), estimated: from.estimated };
    }
    case 'policies':
      return policies(s, rel);
  }
}

/**
 * Measures every finding that names something countable, read-only, one transaction per
 * figure (so one that times out or fails leaves the others): rows in each dropped or
 * truncated table, non-null values in each dropped column, rows violating each re-added
 * constraint (with the query that finds them), the policies on each table whose row-level
 * security is removed. Counts are exact up to `exactCountMaxRows` and estimated above it.
 * A finding whose figure could not be taken says why in `figure.error`.
 * @returns a copy of `risk` with `figure` filled in; never throws for database trouble
 */
export async function measureRisk(risk: PlanRisk, begin: BeginReadOnly, options: FigureOptions): Promise<PlanRisk> {
  const steps = [];
  for (const step of risk.steps) {
    const findings: RiskFinding[] = [];
    for (const f of step.findings) {
      if (!f.target || f.source === 'up') {
        findings.push(f);
        continue;
      }
      if (f.earlier && (f.target.measure === 'rows' || f.target.measure === 'values')) {
        // What this step will meet once the earlier steps ran, not what the database holds now.
        findings.push({
          ...f,
          figure:
            f.earlier.change === 'dropped'
              ? { count: 0, estimated: false, absent: true }
              : { count: 0, estimated: false, recreated: true },
        });
        continue;
      }
      let figure: RiskFigure & { hint?: string };
      try {
        const session = await begin();
        try {
          figure = await figureOf(session, f, options.exactCountMaxRows);
        } finally {
          await session.close();
        }
      } catch (err) {
        figure = { count: null, estimated: false, error: options.describeError(err) };
      }
      const { hint, ...rest } = figure;
      findings.push({ ...f, figure: rest, ...(hint ? { hint } : {}) });
    }
    steps.push({ ...step, findings });
  }
  return { steps };
}
