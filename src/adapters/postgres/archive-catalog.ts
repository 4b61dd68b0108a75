import pg from 'pg';
import type { ArchiveCatalog, ArchivedTable, ArchiveTableInfo } from '../../domain/incident/ports/archive-catalog.js';
import { type ObjectUsage, type PlanUsage, targetsUsedBy, type UsageTarget } from '../../domain/rollback/usage.js';
import {
  objectWords,
  parseArchiveComment,
  type ArchiveTarget,
  type ResolvedTarget,
} from '../../domain/rollback/archive.js';
import type { ArchiveCopy } from '../../domain/rollback/plan.js';
import { onService, primaryKeyOf, qualified, readOnly } from './service-session.js';
import { compareWriteBack, inspectUnarchive, writeBack } from './unarchive-store.js';

/** The size of a column's copy: pg_stats widths × rows with a value when the table was analysed, else counted. */
async function columnEstimate(
  c: pg.Client,
  schema: string,
  table: string,
  column: string,
  key: string[],
  reltuples: number,
): Promise<{ bytes: number; rows: number }> {
  const { rows: stats } = await c.query<{ attname: string; null_frac: number; avg_width: number }>(
    'SELECT attname, null_frac, avg_width FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = ANY($3::text[])',
    [schema, table, [column, ...key]],
  );
  const col = stats.find((s) => s.attname === column);
  if (reltuples >= 0 && col && key.every((k) => stats.some((s) => s.attname === k))) {
    const rows = Math.round(reltuples * (1 - col.null_frac));
    const width = stats.reduce((sum, s) => sum + s.avg_width, 0);
    return { rows, bytes: rows * (width + 24) };
  }
  // Never analysed: count (the statement_timeout bounds it).
  const cols = [column, ...key].map((k) => `pg_column_size(${pg.escapeIdentifier(k)})`).join(' + ');
  const { rows } = await c.query<{ n: string; b: string | null }>(
    `SELECT count(*) AS n, sum(${cols} + 24) AS b FROM ${qualified(schema, table)} WHERE ${pg.escapeIdentifier(column)} IS NOT NULL`,
  );
  return { rows: Number(rows[0]!.n), bytes: Number(rows[0]!.b ?? 0) };
}

async function resolveOne(c: pg.Client, t: ArchiveTarget): Promise<ResolvedTarget> {
  const none: ResolvedTarget = {
    exists: false,
    schema: t.table.schema ?? 'public',
    primaryKey: [],
    estimatedBytes: 0,
    estimatedRows: 0,
  };
  const { rows } = await c.query<{ oid: number; nspname: string; reltuples: number; size: string }>(
    `SELECT c.oid::int AS oid, n.nspname, c.reltuples::float8 AS reltuples, pg_table_size(c.oid)::text AS size
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [qualified(t.table.schema, t.table.name)],
  );
  const rel = rows[0];
  if (!rel) return none;
  const primaryKey = await primaryKeyOf(c, rel.oid);
  if (t.kind === 'table') {
    let count = rel.reltuples;
    if (count < 0)
      count = Number(
        (await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(rel.nspname, t.table.name)}`)).rows[0]!.n,
      );
    return {
      exists: true,
      schema: rel.nspname,
      primaryKey,
      estimatedBytes: Number(rel.size),
      estimatedRows: Math.round(count),
    };
  }
  const { rowCount } = await c.query(
    'SELECT 1 FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped',
    [rel.oid, t.column],
  );
  if (!rowCount) return { ...none, schema: rel.nspname };
  if (!primaryKey.length) return { exists: true, schema: rel.nspname, primaryKey, estimatedBytes: 0, estimatedRows: 0 };
  const est = await columnEstimate(c, rel.nspname, t.table.name, t.column!, primaryKey, rel.reltuples);
  return { exists: true, schema: rel.nspname, primaryKey, estimatedBytes: est.bytes, estimatedRows: est.rows };
}

/**
 * Whether the role may make the archive: CREATE on the schema when it exists, else CREATE on the
 * database (PostgreSQL docs, "Privileges": CREATE on a database allows new schemas, on a schema new objects).
 */
async function privilegeProblem(c: pg.Client, schema: string): Promise<string | null> {
  const { rows } = await c.query<{
    role: string;
    db: string;
    exists: boolean;
    on_schema: boolean | null;
    on_db: boolean;
  }>(
    `SELECT current_user AS role, current_database() AS db, to_regnamespace($1) IS NOT NULL AS exists,
            CASE WHEN to_regnamespace($1) IS NOT NULL THEN has_schema_privilege($1, 'CREATE') END AS on_schema,
            has_database_privilege(current_database(), 'CREATE') AS on_db`,
    [pg.escapeIdentifier(schema)],
  );
  const r = rows[0]!;
  if (r.exists && !r.on_schema)
    return `the role ${r.role} may not create tables in ${schema}: GRANT CREATE ON SCHEMA ${schema} TO ${r.role}`;
  if (!r.exists && !r.on_db)
    return `the role ${r.role} may not create the schema ${schema}: GRANT CREATE ON DATABASE ${r.db} TO ${r.role}, or CREATE SCHEMA ${schema} AUTHORIZATION ${r.role}`;
  return null;
}

const usageWords = (t: UsageTarget, schema: string) =>
  objectWords({ schema, table: t.table.name, ...(t.kind === 'column' ? { column: t.column } : {}) });

/** pg_stat_statements' statements of this database, or why they cannot be read. */
async function statements(
  c: pg.Client,
): Promise<{ rows: Array<{ query: string; calls: string }>; since: string | null } | string> {
  const installed = await c.query<{ t: string | null }>("SELECT to_regclass('pg_stat_statements')::text AS t");
  const enable =
    'add pg_stat_statements to shared_preload_libraries, restart, and CREATE EXTENSION pg_stat_statements in this database to see which statements still use what the downs drop';
  if (!installed.rows[0]?.t) return `pg_stat_statements is not installed here: ${enable}`;
  await c.query('SAVEPOINT usage');
  try {
    const { rows } = await c.query<{ query: string; calls: string }>(
      `SELECT query, calls::text AS calls FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY calls DESC LIMIT 5000`,
    );
    const since = await c.query<{ at: Date }>('SELECT stats_reset AS at FROM pg_stat_statements_info').then(
      (r) => r.rows[0]?.at.toISOString() ?? null,
      () => null,
    );
    return { rows, since };
  } catch (err) {
    await c.query('ROLLBACK TO SAVEPOINT usage');
    return `pg_stat_statements cannot be read (${(err as Error).message.split('\n')[0]}): ${enable}`;
  }
}

async function usageOf(c: pg.Client, targets: readonly UsageTarget[]): Promise<PlanUsage> {
  const schemas: string[] = [];
  const dependents: PlanUsage['dependents'] = [];
  for (const t of targets) {
    const { rows } = await c.query<{ schema: string; oid: number }>(
      'SELECT n.nspname AS schema, c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)',
      [qualified(t.table.schema, t.table.name)],
    );
    const rel = rows[0];
    schemas.push(rel?.schema ?? t.table.schema ?? 'public');
    if (!rel) continue;
    // Views and materialized views whose rules read the table (or the column): they go with a CASCADE drop or block it.
    const views = await c.query<{ dependent: string }>(
      `SELECT DISTINCT CASE v.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || vn.nspname || '.' || v.relname AS dependent
         FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = $1 AND v.oid <> $1
          AND ($2::text IS NULL OR d.refobjsubid = (SELECT attnum FROM pg_attribute WHERE attrelid = $1 AND attname = $2))
        ORDER BY 1`,
      [rel.oid, t.kind === 'column' ? t.column : null],
    );
    for (const v of views.rows) dependents.push({ object: usageWords(t, rel.schema), dependent: v.dependent });
  }
  const objects: ObjectUsage[] = targets.map((t, i) => ({
    object: usageWords(t, schemas[i]!),
    statements: 0,
    calls: 0,
    samples: [],
    lastSeen: null,
  }));
  const found = await statements(c);
  if (typeof found !== 'string')
    for (const row of found.rows)
      for (const i of await targetsUsedBy(row.query, targets)) {
        const o = objects[i]!;
        o.statements += 1;
        o.calls += Number(row.calls);
        if (o.samples.length < 2) o.samples.push(row.query.replace(/\s+/g, ' ').slice(0, 160));
      }
  const activity = await c.query<{ application: string; state: string; query: string; ago: number }>(
    `SELECT application_name AS application, coalesce(state, '') AS state, query,
            extract(epoch FROM now() - coalesce(state_change, query_start))::float8 AS ago
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND query <> '' AND application_name NOT LIKE 'migrate-bot%' ORDER BY ago`,
  );
  for (const a of activity.rows)
    for (const i of await targetsUsedBy(a.query, targets)) {
      const o = objects[i]!;
      o.lastSeen ??= {
        application: a.application || '(no application_name)',
        state: a.state,
        secondsAgo: Math.max(0, Math.round(a.ago)),
      };
    }
  return {
    objects,
    dependents,
    statsSince: typeof found === 'string' ? null : found.since,
    statementsUnavailable: typeof found === 'string' ? found : null,
  };
}

async function listArchives(c: pg.Client, schema: string): Promise<ArchiveTableInfo[]> {
  const { rows } = await c.query<{ relname: string; comment: string | null; reltuples: number; bytes: string }>(
    `SELECT c.relname, obj_description(c.oid, 'pg_class') AS comment, c.reltuples::float8 AS reltuples,
            pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [schema],
  );
  const out: ArchiveTableInfo[] = [];
  for (const r of rows) {
    const about = parseArchiveComment(r.comment);
    const count =
      r.reltuples >= 0
        ? Math.round(r.reltuples)
        : Number(
            (await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(schema, r.relname)}`)).rows[0]!.n,
          );
    out.push({
      table: r.relname,
      object: about?.object ?? null,
      incidentId: about?.incidentId ?? null,
      migration: about?.migration ?? null,
      copiedAt: about?.copiedAt ?? null,
      rows: count,
      bytes: Number(r.bytes),
    });
  }
  return out.sort((a, b) => (a.copiedAt ?? '').localeCompare(b.copiedAt ?? '') || a.table.localeCompare(b.table));
}

/** {@link ArchiveCatalog} on the service database (the role of `database_url`, the one that runs the downs). */
export const postgresArchiveCatalog: ArchiveCatalog = {
  resolve: (service, targets, schema) =>
    readOnly(service, 'read the catalogs for the archive', async (c) => {
      const resolved: ResolvedTarget[] = [];
      for (const t of targets) resolved.push(await resolveOne(c, t));
      return { resolved, privilegeProblem: targets.length ? await privilegeProblem(c, schema) : null };
    }),
  stats: (service, copies: readonly ArchiveCopy[]) =>
    readOnly(service, 'count the archive tables', async (c) => {
      const out: ArchivedTable[] = [];
      for (const copy of copies) {
        const name = qualified(copy.schema, copy.table);
        const { rows } = await c.query<{ n: string; bytes: string }>(
          `SELECT (SELECT count(*) FROM ${name}) AS n, pg_total_relation_size(to_regclass($1))::text AS bytes`,
          [name],
        );
        out.push({
          table: `${copy.schema}.${copy.table}`,
          object: copy.object,
          rows: Number(rows[0]!.n),
          bytes: Number(rows[0]!.bytes),
        });
      }
      return out;
    }),
  usage: (service, targets) =>
    readOnly(service, 'look for who still uses what the downs drop', (c) => usageOf(c, targets)),
  list: (service, schema) => readOnly(service, 'list the archive tables', (c) => listArchives(c, schema)),
  drop: (service, schema, table) =>
    onService(
      service,
      `drop the archive table ${schema}.${table}`,
      { setup: "SET statement_timeout = '30s'; SET lock_timeout = '5s'" },
      async (c) => void (await c.query(`DROP TABLE ${qualified(schema, table)}`)),
    ),
  inspectUnarchive,
  writeBack,
  compareWriteBack,
};
