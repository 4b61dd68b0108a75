import { code, quote, type Words, words } from '../../shared/words.js';
import { asRangeVar, isObject, strings, visit, walkStatements } from '../sql/parse-tree.js';

/**
 * The comment the bot puts before its own reads of a service database, so that pg_stat_statements
 * (which keeps a statement's text with its comments) tells them apart from the application's.
 */
export const BOT_QUERY_TAG = '/* migrate-bot */';

/** A table or column the plan's downs drop, as the usage check looks for it. */
export interface UsageTarget {
  kind: 'table' | 'column';
  table: { schema: string | null; name: string };
  column?: string;
}

/**
 * The tables and columns the downs rename (`ALTER TABLE … RENAME TO`, `RENAME COLUMN`), by their
 * old names: a statement that still uses one breaks once the down runs, as for a drop. One target
 * per object; SQL the parser cannot read is skipped (the risk check already says so).
 */
export async function renameTargets(plan: ReadonlyArray<{ sql: string[] }>): Promise<UsageTarget[]> {
  const out = new Map<string, UsageTarget>();
  for (const step of plan)
    await walkStatements(step.sql, (s) => {
      if (s.type !== 'RenameStmt') return;
      const rv = asRangeVar(s.body.relation);
      if (!rv) return;
      const table = { schema: rv.schemaname ?? null, name: rv.relname };
      if (s.body.renameType === 'OBJECT_TABLE') out.set(`${table.schema}.${table.name}`, { kind: 'table', table });
      else if (s.body.renameType === 'OBJECT_COLUMN' && typeof s.body.subname === 'string')
        out.set(`${table.schema}.${table.name}.${s.body.subname}`, { kind: 'column', table, column: s.body.subname });
    });
  return [...out.values()];
}

/** Who still uses one object the downs drop, from pg_stat_statements and pg_stat_activity. */
export interface ObjectUsage {
  /** `table public.ticket_scans`, `column public.events.search_vector`. */
  object: string;
  /** Distinct normalised statements (pg_stat_statements) that read or write it. */
  statements: number;
  /** Their calls since the statistics were reset. */
  calls: number;
  /** Up to two of those statements, cut to 160 characters. */
  samples: string[];
  /** The most recent session whose current or last query uses it: its application, state and how long ago, s. */
  lastSeen: { application: string; state: string; secondsAgo: number } | null;
}

/** What depends on a dropped object and goes with it or breaks (pg_depend). */
export interface Dependent {
  object: string;
  /** `view public.active_events`, `materialized view …`. */
  dependent: string;
}

/** The usage check of a plan: per object, its dependents, and what could not be looked at. */
export interface PlanUsage {
  objects: ObjectUsage[];
  dependents: Dependent[];
  /** ISO-8601 UTC of pg_stat_statements' last reset, when known. */
  statsSince: string | null;
  /** Why statements could not be looked at (pg_stat_statements missing), with how to enable it; null when they were. */
  statementsUnavailable: string | null;
}

const DML = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/**
 * Which of `targets` one SQL text uses, by PostgreSQL's parser (libpg-query), not by text search:
 * a SELECT, INSERT, UPDATE, DELETE or MERGE that names the table (schema as written, or none), and
 * for a column also names the column or selects `*`. DDL, text that does not parse, and the bot's
 * own tagged reads use nothing.
 * @returns indexes into `targets`
 */
export async function targetsUsedBy(sql: string, targets: readonly UsageTarget[]): Promise<number[]> {
  if (sql.trimStart().startsWith(BOT_QUERY_TAG)) return [];
  const relations: Array<{ schema: string | null; name: string }> = [];
  const columns = new Set<string>();
  let star = false;
  let dml = false;
  await walkStatements([sql], (st) => {
    if (!DML.has(st.type)) return;
    dml = true;
    visit(st.node, (node) => {
      const rv = asRangeVar(node.RangeVar ? { RangeVar: node.RangeVar } : undefined);
      if (rv) relations.push({ schema: rv.schemaname ?? null, name: rv.relname });
      if (isObject(node.ColumnRef)) {
        const fields = Array.isArray(node.ColumnRef.fields) ? node.ColumnRef.fields : [];
        if (fields.some((f) => isObject(f) && 'A_Star' in f)) star = true;
        const names = strings(fields);
        if (names.length) columns.add(names[names.length - 1]!);
      }
    });
  });
  if (!dml) return [];
  return targets.flatMap((t, i) => {
    const named = relations.some(
      (r) => r.name === t.table.name && (r.schema === null || t.table.schema === null || r.schema === t.table.schema),
    );
    if (!named) return [];
    return t.kind === 'table' || star || columns.has(t.column!) ? [i] : [];
  });
}

/** True when anything still uses what the downs drop, or something depends on it. */
export function usageMatters(u: PlanUsage | undefined): boolean {
  return Boolean(u && (u.objects.some((o) => o.statements > 0 || o.lastSeen) || u.dependents.length));
}

/** One line of the usage check for people: what it is about and its words. */
export interface UsageLine {
  kind: 'uses' | 'depends' | 'unavailable';
  words: Words;
}

const ago = (s: number) => (s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);

/**
 * The usage check in lines: "12 statements still use `column public.events.search_vector`
 * (48,211 calls since 2026-12-01), last seen 14 s ago in an active query from app `events-api`:
 * deploy the application version that no longer uses it first (runbook 003)"; each dependent view;
 * and why statements could not be looked at. Pure.
 */
export function usageLines(u: PlanUsage): UsageLine[] {
  const lines: UsageLine[] = [];
  for (const o of u.objects) {
    if (!o.statements && !o.lastSeen) continue;
    const stmts = o.statements
      ? words`${String(o.statements)} statement${o.statements === 1 ? '' : 's'} still use ${code(o.object)} (${o.calls.toLocaleString('en-US')} calls${u.statsSince ? ` since ${u.statsSince.slice(0, 10)}` : ' since the statistics were reset'})`
      : words`a session still uses ${code(o.object)}`;
    const seen = o.lastSeen
      ? words`, last seen ${ago(o.lastSeen.secondsAgo)} ago in ${o.lastSeen.state === 'active' ? 'a running' : `an ${o.lastSeen.state || 'idle'} session's last`} query from app ${code(o.lastSeen.application)}`
      : words``;
    const sample = o.samples[0] ? words` — e.g. ${quote(o.samples[0])}` : words``;
    lines.push({
      kind: 'uses',
      words: words`${stmts}${seen}${sample}: deploy the application version that no longer uses it first (runbook 003).`,
    });
  }
  for (const d of u.dependents)
    lines.push({ kind: 'depends', words: words`${code(d.dependent)} depends on ${code(d.object)}.` });
  if (u.statementsUnavailable && u.objects.length)
    lines.push({ kind: 'unavailable', words: words`Statements not checked: ${u.statementsUnavailable}.` });
  return lines;
}
