import { quoteIdent } from '../sql/quote-ident.js';
import { formatBytes } from '../triage/safe-value.js';
import type { ArchiveCopy, PlanStep } from './plan.js';
import type { PlanRisk, RiskFinding } from './risk-model.js';

/**
 * Archive before destroy: before a down destroys data, the rollback copies what would be lost
 * into the service database's archive schema, in the down's own transaction when it has one.
 * What a data-loss finding of the risk classifier would lose, and where in the plan.
 */
export interface ArchiveTarget {
  /** 1-based position of the step in the plan, as the card numbers it. */
  step: number;
  migration: string;
  /** Index into the step's down SQL. */
  statement: number;
  /** `table`: every row (DROP TABLE, TRUNCATE, DELETE or UPDATE without WHERE); `column`: the key and the column's non-null values. */
  kind: 'table' | 'column';
  table: { schema: string | null; name: string };
  column?: string;
}

/** What the service database's catalogs say of a target (read-only, before approval). */
export interface ResolvedTarget {
  /** False when the relation (or column) does not exist: nothing to lose, nothing archived. */
  exists: boolean;
  /** The schema the name resolves to (search_path applied). */
  schema: string;
  /** Primary key columns, in key order; empty when the table has none. */
  primaryKey: string[];
  /** Estimated size of the copy, bytes (pg_table_size for a table; pg_stats widths × rows for a column). */
  estimatedBytes: number;
  /** Estimated rows of the copy (reltuples; rows with a non-null value for a column). */
  estimatedRows: number;
}

/** A target the plan cannot archive, and why (too large, no primary key, no CREATE privilege). */
export interface ArchiveRefusal {
  object: string;
  why: string;
}

/** The archive of a plan: copies by step, what cannot be archived, the estimated total. */
export interface ArchivePlan {
  copies: Array<ArchiveCopy & { step: number; migration: string }>;
  refused: ArchiveRefusal[];
  /** Sum of the copies' estimates, bytes. */
  totalBytes: number;
}

/** Settings of {@link archivePlan}: `archive:` of services.yaml. */
export interface ArchiveSettings {
  schema: string;
  max_bytes: number;
}

/**
 * An archived object in words, as the archive comment, the card and the logs name it:
 * `column public.events.search_vector` or `table public.ticket_scans` (parsed back by {@link parseArchiveComment}).
 */
export function objectWords(o: { schema: string; table: string; column?: string }): string {
  return o.column ? `column ${o.schema}.${o.table}.${o.column}` : `table ${o.schema}.${o.table}`;
}

const objectOf = (t: ArchiveTarget, schema: string) =>
  objectWords({ schema, table: t.table.name, ...(t.kind === 'column' ? { column: t.column } : {}) });

/**
 * The targets of a plan's data-loss findings on its downs: a dropped, emptied or fully rewritten
 * table (every row), a dropped or narrowed column (the key and its values). Findings an earlier
 * step makes moot (it dropped or recreated the table), objects that do not exist and objects
 * counted empty are left out. One target per object and step. Pure.
 */
export function archiveTargets(plan: readonly PlanStep[], risk: PlanRisk): ArchiveTarget[] {
  const targets: ArchiveTarget[] = [];
  plan.forEach((step, i) => {
    const findings = risk.steps.find((s) => s.migration === step.migration)?.findings ?? [];
    const seen = new Set<string>();
    for (const f of findings) {
      if (f.class !== 'data_loss' || f.source !== 'down' || !f.target || f.earlier || f.figure?.absent) continue;
      // Counted empty: nothing to keep (an estimate of 0 may be stale, so it is archived anyway).
      if (f.figure?.count === 0 && !f.figure.estimated) continue;
      const kind = f.target.measure === 'rows' ? 'table' : f.target.column ? 'column' : null;
      if (!kind) continue;
      const key = `${f.target.schema}.${f.target.name}.${kind === 'column' ? f.target.column : ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      targets.push({
        step: i + 1,
        migration: step.migration,
        statement: f.statement,
        kind,
        table: { schema: f.target.schema, name: f.target.name },
        ...(kind === 'column' ? { column: f.target.column } : {}),
      });
    }
  });
  return targets;
}

const ident = quoteIdent;

/** The archive table's name: `<short id>_<step>_<table>[_<column>]`, lowercase letters, digits and `_`, cut to 63 bytes. */
export function archiveTableName(incidentShortId: string, t: ArchiveTarget): string {
  const object = [t.table.name, t.column]
    .filter(Boolean)
    .join('_')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_');
  return [incidentShortId, String(t.step), object].join('_').slice(0, 63);
}

/**
 * The statements of one copy: the archive schema if missing, the table replaced (a step that
 * failed and runs again copies again: its data is still there), `CREATE TABLE … AS SELECT` of
 * the table or of its key and the column's non-null values (same names and types), and a comment
 * naming the incident, the migration, the statement and the time it ran (the text travels in
 * base64 so no quoting or placeholder syntax can meet it).
 */
function copySql(
  settings: ArchiveSettings,
  table: string,
  t: ArchiveTarget,
  r: ResolvedTarget,
  about: { incidentId: string; statement: string },
): string[] {
  const archive = `${ident(settings.schema)}.${ident(table)}`;
  const source = `${ident(r.schema)}.${ident(t.table.name)}`;
  const select =
    t.kind === 'table'
      ? `SELECT * FROM ${source}`
      : `SELECT ${[...r.primaryKey, t.column!].map(ident).join(', ')} FROM ${source} WHERE ${ident(t.column!)} IS NOT NULL`;
  const comment = Buffer.from(
    `migrate-bot archive of ${objectOf(t, r.schema)}: incident ${about.incidentId}, migration ${t.migration}, before: ${about.statement.replace(/\s+/g, ' ').slice(0, 500)}; copied at`,
    'utf8',
  ).toString('base64');
  return [
    `CREATE SCHEMA IF NOT EXISTS ${ident(settings.schema)}`,
    `DROP TABLE IF EXISTS ${archive}`,
    `CREATE TABLE ${archive} AS ${select}`,
    `DO $archive$ BEGIN EXECUTE format('COMMENT ON TABLE %I.%I IS %L', '${settings.schema}', '${table}', convert_from(decode('${comment}', 'base64'), 'UTF8') || ' ' || now()::text); END $archive$`,
  ];
}

/** What the bot's comment on an archive table says (see {@link copySql}). */
export interface ArchiveComment {
  /** `column public.events.search_vector` or `table public.ticket_scans`. */
  object: string;
  incidentId: string;
  migration: string;
  /** When the copy was made, ISO-8601; null when the time in the comment does not parse. */
  copiedAt: string | null;
}

const COMMENT =
  /^migrate-bot archive of (.+?): incident ([0-9a-f-]{36}), migration (\S+), before: .*; copied at (.+)$/s;

/** Parses the bot's comment on an archive table; null for a comment that is not the bot's (or none). */
export function parseArchiveComment(text: string | null): ArchiveComment | null {
  const m = COMMENT.exec(text ?? '');
  if (!m) return null;
  const copied = new Date(m[4]!.trim());
  return {
    object: m[1]!,
    incidentId: m[2]!,
    migration: m[3]!,
    copiedAt: Number.isNaN(copied.getTime()) ? null : copied.toISOString(),
  };
}

/**
 * The archive of a plan from its targets and what the catalogs said of them: a copy per target
 * that exists, unless it cannot be archived — a column of a table without a primary key (its
 * values could not be matched to rows again), no CREATE privilege for the archive schema
 * (`privilegeProblem`, naming the GRANT), or a total estimate above `max_bytes` (then nothing is
 * archived and every target says why). Pure.
 */
export function archivePlan(
  incidentId: string,
  incidentShortId: string,
  plan: readonly PlanStep[],
  targets: readonly ArchiveTarget[],
  resolved: readonly ResolvedTarget[],
  settings: ArchiveSettings,
  privilegeProblem: string | null,
): ArchivePlan {
  const copies: ArchivePlan['copies'] = [];
  const refused: ArchiveRefusal[] = [];
  for (const [i, t] of targets.entries()) {
    const r = resolved[i]!;
    if (!r.exists) continue;
    const object = objectOf(t, r.schema);
    if (privilegeProblem) {
      refused.push({ object, why: privilegeProblem });
      continue;
    }
    if (t.kind === 'column' && !r.primaryKey.length) {
      refused.push({
        object,
        why: `${r.schema}.${t.table.name} has no primary key, so its values could not be matched to rows again`,
      });
      continue;
    }
    const table = archiveTableName(incidentShortId, t);
    const statement = plan[t.step - 1]?.sql[t.statement] ?? '';
    copies.push({
      step: t.step,
      migration: t.migration,
      schema: settings.schema,
      table,
      object,
      statement: t.statement,
      sql: copySql(settings, table, t, r, { incidentId, statement }),
      estimatedBytes: r.estimatedBytes,
      estimatedRows: r.estimatedRows,
    });
  }
  const totalBytes = copies.reduce((sum, c) => sum + c.estimatedBytes, 0);
  if (totalBytes > settings.max_bytes) {
    const why = `the archive would take ~${formatBytes(totalBytes)}, above archive.max_bytes (${formatBytes(settings.max_bytes)})`;
    return { copies: [], refused: [...copies.map((c) => ({ object: c.object, why })), ...refused], totalBytes };
  }
  return { copies, refused, totalBytes };
}

/**
 * How fast `CREATE TABLE … AS SELECT` copies, bytes per second, for the card's time estimate: a
 * rounded-down figure of `npm run bench:archive` on a 2-core machine (docs/benchmarks.md).
 */
export const ARCHIVE_COPY_BYTES_PER_SECOND = 50 * 1024 * 1024;

/** The plan with each step's copies attached (`PlanStep.archive`), so the digest, the card, the rehearsal and the run all see them. */
export function withArchive(plan: readonly PlanStep[], archive: ArchivePlan): PlanStep[] {
  return plan.map((s, i) => {
    const copies = archive.copies.filter((c) => c.step === i + 1).map(({ step: _s, migration: _m, ...c }) => c);
    const { archive: _old, ...rest } = s;
    return copies.length ? { ...rest, archive: copies } : rest;
  });
}

/**
 * The steps of `now` given the archive of the same steps in `before` (the plan that was approved):
 * a step whose migration and down SQL are unchanged keeps its copies, since they are derived from
 * that SQL. Used when the plan is read again before it runs.
 */
export function carryArchive(now: readonly PlanStep[], before: readonly PlanStep[]): PlanStep[] {
  return now.map((s) => {
    const old = before.find((b) => b.migration === s.migration && JSON.stringify(b.sql) === JSON.stringify(s.sql));
    return old?.archive ? { ...s, archive: old.archive } : s;
  });
}

/** The finding annotated with what happens to its data: archived to a table (estimated size), or not, and why. */
export function annotateFindings(risk: PlanRisk, plan: readonly PlanStep[], archive: ArchivePlan): PlanRisk {
  return {
    steps: risk.steps.map((s) => {
      const i = plan.findIndex((p) => p.migration === s.migration);
      return {
        ...s,
        findings: s.findings.map((f): RiskFinding => {
          if (f.class !== 'data_loss' || f.source !== 'down' || !f.target) return f;
          const copy = archive.copies.find(
            (c) => c.step === i + 1 && c.statement === f.statement && sameObject(c.object, f),
          );
          if (copy)
            return { ...f, archived: { table: `${copy.schema}.${copy.table}`, estimatedBytes: copy.estimatedBytes } };
          const refusal = archive.refused.find((r) => sameObject(r.object, f));
          return refusal ? { ...f, archived: { refused: refusal.why } } : f;
        }),
      };
    }),
  };
}

/** True when an archive object (`table s.t`, `column s.t.c`) is what the finding destroys. */
const sameObject = (object: string, f: RiskFinding): boolean =>
  f.target!.measure === 'rows'
    ? object.startsWith('table ') && object.endsWith(`.${f.target!.name}`)
    : object.startsWith('column ') && object.endsWith(`.${f.target!.name}.${f.target!.column}`);

/** The plan without its archive copies: what the steps themselves do (the CLI's dry run shows the plan before they are planned). */
export function withoutArchive(plan: readonly PlanStep[]): PlanStep[] {
  return plan.map(({ archive: _archive, ...step }) => step);
}
