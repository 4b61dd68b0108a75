import pg from 'pg';
import type { Duration } from '../../config/duration.js';
import type { ServiceConfig } from '../../config/services.js';
import { parseArchiveComment } from '../../domain/rollback/archive.js';
import type { PlanStep } from '../../domain/rollback/plan.js';
import type {
  ArchiveSource,
  UnarchiveComparison,
  UnarchiveStep,
  UnarchiveTarget,
} from '../../domain/rollback/unarchive.js';
import { AppError } from '../../shared/errors.js';
import { code, quote, words } from '../../shared/words.js';
import { onService, primaryKeyOf, qualified, readOnly } from './service-session.js';

const ident = pg.escapeIdentifier;
const on = (key: readonly string[]) => key.map((k) => `t.${ident(k)} = a.${ident(k)}`).join(' AND ');
/** Each column as text in a row, so types without an equality operator (json) still compare. */
const asText = (alias: string, cols: readonly string[]) =>
  `ROW(${cols.map((c) => `${alias}.${ident(c)}::text`).join(', ')})`;

async function columnsOf(c: pg.Client, relation: string): Promise<string[]> {
  const { rows } = await c.query<{ attname: string }>(
    'SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
    [relation],
  );
  return rows.map((r) => r.attname);
}

async function count(c: pg.Client, sql: string): Promise<number> {
  return Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
}

/**
 * An archive table described from its comment and columns: for a column archive the column is
 * its last column and the others are the key (see `archive.ts` copySql).
 * @throws AppError `unarchive_refused` when it is not an archive table the bot made
 */
async function describeSource(c: pg.Client, schema: string, table: string): Promise<ArchiveSource> {
  const name = qualified(schema, table);
  const { rows } = await c.query<{ comment: string | null }>(
    "SELECT obj_description(to_regclass($1), 'pg_class') AS comment",
    [name],
  );
  const about = parseArchiveComment(rows[0]?.comment ?? null);
  const columns = await columnsOf(c, name);
  const m = about ? /^(table|column) ([^.]+)\.(.+)$/.exec(about.object) : null;
  if (!about || !m || !columns.length)
    throw new AppError({
      code: 'unarchive_refused',
      message: `${schema}.${table} is not a migrate-bot archive table`,
      userMessage: `${schema}.${table} was not made by migrate-bot (no archive comment on it), so the bot cannot tell where it goes back.`,
    });
  const kind = m[1] as 'table' | 'column';
  const column = kind === 'column' ? columns[columns.length - 1]! : undefined;
  const targetTable = column ? m[3]!.slice(0, -(column.length + 1)) : m[3]!;
  return {
    archive: { schema, table },
    kind,
    target: { schema: m[2]!, table: targetTable, ...(column ? { column } : {}) },
    columns,
    rows: await count(c, `SELECT count(*) AS n FROM ${name}`),
    incidentId: about.incidentId,
    migration: about.migration,
  };
}

/** The table an archive goes back to, as it is now: columns, key, rows, and how many archived rows conflict. */
async function describeTarget(c: pg.Client, source: ArchiveSource): Promise<UnarchiveTarget> {
  const t = qualified(source.target.schema, source.target.table);
  const a = qualified(source.archive.schema, source.archive.table);
  const { rows: found } = await c.query<{ oid: number | null }>('SELECT to_regclass($1)::oid::int AS oid', [t]);
  const oid = found[0]?.oid;
  if (!oid) return { exists: false, missingColumns: [], key: [], conflicts: 0, unmatched: 0, rows: 0, serialKey: null };
  const have = new Set(await columnsOf(c, t));
  const missingColumns = source.columns.filter((col) => !have.has(col));
  let key: string[];
  if (source.kind === 'column') key = source.columns.slice(0, -1);
  else {
    key = await primaryKeyOf(c, oid);
    if (!key.every((k) => source.columns.includes(k))) key = [];
  }
  const rows = await count(c, `SELECT count(*) AS n FROM ${t}`);
  const serial =
    key.length === 1
      ? (await c.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [t, key[0]])).rows[0]
          ?.seq
      : null;
  const serialKey = serial ? key[0]! : null;
  if (missingColumns.length || !key.length)
    return { exists: true, missingColumns, key, conflicts: 0, unmatched: 0, rows, serialKey };
  const differs =
    source.kind === 'column'
      ? `t.${ident(source.target.column!)} IS NOT NULL AND t.${ident(source.target.column!)}::text IS DISTINCT FROM a.${ident(source.target.column!)}::text`
      : `${asText('t', source.columns)} IS DISTINCT FROM ${asText('a', source.columns)}`;
  const { rows: counted } = await c.query<{ conflicts: string; unmatched: string }>(
    `SELECT count(*) FILTER (WHERE t.ctid IS NOT NULL AND ${differs}) AS conflicts,
            count(*) FILTER (WHERE t.ctid IS NULL) AS unmatched
       FROM ${a} AS a LEFT JOIN ${t} AS t ON ${on(key)}`,
  );
  return {
    exists: true,
    missingColumns,
    key,
    conflicts: Number(counted[0]!.conflicts),
    unmatched: source.kind === 'column' ? Number(counted[0]!.unmatched) : 0,
    rows,
    serialKey,
  };
}

/** Compares one archive with its table after the write (see {@link UnarchiveComparison}). */
async function compare(c: pg.Client, step: UnarchiveStep): Promise<UnarchiveComparison> {
  const t = qualified(step.target.schema, step.target.table);
  const a = qualified(step.archive.schema, step.archive.table);
  const cols = step.columns;
  const checksum = (from: string) =>
    `SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) AS sum FROM (${from}) s`;
  const sum = async (from: string) => (await c.query<{ sum: string }>(checksum(from))).rows[0]!.sum;
  const archiveSum = await sum(`SELECT ${asText('a', cols)}::text AS x FROM ${a} AS a`);
  if (!step.key.length) {
    const { rows } = await c.query<{ rows: string; equal: string }>(
      `SELECT count(*) AS rows, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ${t} AS t WHERE ${asText('t', cols)} IS NOT DISTINCT FROM ${asText('a', cols)})) AS equal FROM ${a} AS a`,
    );
    const total = Number(rows[0]!.rows);
    const equal = Number(rows[0]!.equal);
    return {
      archive: `${step.archive.schema}.${step.archive.table}`,
      rows: total,
      equal,
      differing: 0,
      missing: total - equal,
      checksums: { archive: archiveSum, table: await sum(`SELECT ${asText('t', cols)}::text AS x FROM ${t} AS t`) },
    };
  }
  const { rows } = await c.query<{ rows: string; equal: string; differing: string; missing: string }>(
    `SELECT count(*) AS rows,
            count(*) FILTER (WHERE t.ctid IS NOT NULL AND ${asText('t', cols)} IS NOT DISTINCT FROM ${asText('a', cols)}) AS equal,
            count(*) FILTER (WHERE t.ctid IS NOT NULL AND ${asText('t', cols)} IS DISTINCT FROM ${asText('a', cols)}) AS differing,
            count(*) FILTER (WHERE t.ctid IS NULL) AS missing
       FROM ${a} AS a LEFT JOIN ${t} AS t ON ${on(step.key)}`,
  );
  const r = rows[0]!;
  return {
    archive: `${step.archive.schema}.${step.archive.table}`,
    rows: Number(r.rows),
    equal: Number(r.equal),
    differing: Number(r.differing),
    missing: Number(r.missing),
    checksums: {
      archive: archiveSum,
      table: await sum(`SELECT ${asText('t', cols)}::text AS x FROM ${t} AS t JOIN ${a} AS a ON ${on(step.key)}`),
    },
  };
}

/**
 * `inspectUnarchive` of the archive catalog: each archive table (in `schema`) with the table it goes
 * back to as it is now. Read-only, 5 s statement_timeout.
 * @throws AppError `unarchive_refused` (not the bot's archive table), `service_db_unreachable`
 */
export function inspectUnarchive(
  service: ServiceConfig,
  schema: string,
  tables: readonly string[],
): Promise<Array<{ source: ArchiveSource; target: UnarchiveTarget }>> {
  return readOnly(service, 'read the archive tables to write back', async (c) => {
    const out: Array<{ source: ArchiveSource; target: UnarchiveTarget }> = [];
    for (const table of tables) {
      const source = await describeSource(c, schema, table);
      out.push({ source, target: await describeTarget(c, source) });
    }
    return out;
  });
}

/**
 * `writeBack` of the archive catalog: every step's statements in ONE transaction, with
 * `lock_timeout` and `statement_timeout` = `step_timeout` (runbook 000 "Always Use lock_timeout"):
 * all archives go back or none does.
 * @returns rows written (inserted or updated) per step
 * @throws AppError mapped by the service-db rules (`rollback_lock_timeout`, `service_db_unreachable`, …); nothing written
 */
export async function writeBack(
  service: ServiceConfig,
  steps: readonly PlanStep[],
  limits: { lockTimeout: Duration; stepTimeout: Duration },
): Promise<number[]> {
  try {
    return await write(service, steps, limits);
  } catch (err) {
    const cause = (err as AppError).cause as { code?: string; message?: string } | undefined;
    if (!(err instanceof AppError) || err.code !== 'service_db_error') throw err;
    const why =
      cause?.code === '55P03'
        ? words`${code(`lock_timeout ${limits.lockTimeout.text}`)} ran out waiting for a lock (another session holds one on the tables); ${code('/migrate triage')} shows who.`
        : cause?.code === '57014'
          ? words`it ran past ${code(`step_timeout ${limits.stepTimeout.text}`)}.`
          : words`PostgreSQL refused it: ${quote(cause?.message ?? err.message)}.`;
    throw new AppError({
      code: cause?.code === '55P03' ? 'rollback_lock_timeout' : 'unarchive_failed',
      message: err.message,
      cause: err,
      userMessage: words`The archived data was not written back: ${why} The transaction was rolled back, so nothing changed.`,
    });
  }
}

function write(
  service: ServiceConfig,
  steps: readonly PlanStep[],
  limits: { lockTimeout: Duration; stepTimeout: Duration },
): Promise<number[]> {
  return onService(service, 'write the archived data back', { setup: 'BEGIN', teardown: 'COMMIT' }, async (c) => {
    await c.query("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)", [
      limits.lockTimeout.text,
      limits.stepTimeout.text,
    ]);
    const written: number[] = [];
    for (const step of steps) {
      let n = 0;
      for (const sql of step.sql) {
        const r = await c.query(sql);
        if (r.command === 'INSERT' || r.command === 'UPDATE') n += r.rowCount ?? 0;
      }
      written.push(n);
    }
    return written;
  });
}

/**
 * `compareWriteBack` of the archive catalog: each archive against its table, row by row and by checksum. Read-only.
 * @throws AppError `service_db_unreachable`
 */
export function compareWriteBack(
  service: ServiceConfig,
  steps: readonly UnarchiveStep[],
): Promise<UnarchiveComparison[]> {
  return onService(
    service,
    'compare the archive with the table',
    { setup: "BEGIN READ ONLY; SET LOCAL statement_timeout = '60s'", teardown: 'COMMIT' },
    async (c) => {
      const out: UnarchiveComparison[] = [];
      for (const step of steps) out.push(await compare(c, step));
      return out;
    },
  );
}
