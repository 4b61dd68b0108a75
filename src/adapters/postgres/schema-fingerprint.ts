import pg from 'pg';
import type { ServiceConfig } from '../../config/services.js';
import type { MigrationTool } from '../../rollback/migration-tool.js';
import { utcSecondStamp } from '../../shared/clock.js';
import { redactSecrets } from '../../shared/redact.js';
import type { VerificationCheck } from '../../verify/verification.js';
import { createDatabase, databaseOf, dropDatabase, withDatabaseName } from '../pgdump/pg-restore.js';

/**
 * The schema as the catalogs describe it, one line per object, normalised so two databases
 * built the same way give the same lines: tables and their columns (type, default,
 * nullability), indexes, constraints, row-level security and policies, enum types, functions
 * (arguments and a hash of the body). System schemas and `exclude` relations (the tools'
 * tracking and lock tables) are left out.
 */
const FINGERPRINT_SQL = `
WITH user_ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
), rels AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind, c.relrowsecurity FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT (n.nspname || '.' || c.relname = ANY($1::text[]))
)
SELECT line FROM (
  SELECT format('table %s.%s (%s)%s', nspname, relname, relkind, CASE WHEN relrowsecurity THEN ' row level security' ELSE '' END) AS line FROM rels
  UNION ALL
  SELECT format('column %s.%s.%s %s%s%s', r.nspname, r.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), ''))
  FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN rels r ON r.oid = i.indrelid
  UNION ALL
  SELECT format('constraint %s.%s %s %s', r.nspname, r.relname, c.conname, pg_get_constraintdef(c.oid)) FROM pg_constraint c JOIN rels r ON r.oid = c.conrelid
  UNION ALL
  SELECT format('policy %s.%s %s %s %s using (%s) check (%s)', r.nspname, r.relname, p.polname, p.polcmd, CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                COALESCE(pg_get_expr(p.polqual, p.polrelid), ''), COALESCE(pg_get_expr(p.polwithcheck, p.polrelid), ''))
  FROM pg_policy p JOIN rels r ON r.oid = p.polrelid
  UNION ALL
  SELECT format('type %s.%s enum (%s)', n.nspname, t.typname, (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
  FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace WHERE t.typtype = 'e'
  UNION ALL
  SELECT format('function %s.%s(%s) %s', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc))
  FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
) lines ORDER BY line`;

/** The schema's normalised lines (see {@link FINGERPRINT_SQL}), in a read-only transaction. */
export async function schemaLines(url: string, exclude: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'migrate-bot-verify', connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query("BEGIN READ ONLY; SET LOCAL statement_timeout = '30s'");
    const { rows } = await client.query<{ line: string }>(FINGERPRINT_SQL, [exclude]);
    await client.query('COMMIT');
    return rows.map((r) => r.line);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What the fingerprint check needs from the composition root. */
export interface FingerprintDeps {
  /** A MigrationTool for the service pointed at another database (the scratch one). */
  toolFor(service: ServiceConfig, databaseUrl: string): MigrationTool;
  now(): Date;
}

/**
 * Schema fingerprint (runbook 001 postflight "schema checksum"): a scratch database
 * `<db>_verify_<ts>` is created on the service's server (or `verify.scratch_database_url_env`'s),
 * migrated up with the service's own tool through the migrations still applied, and its
 * normalised schema is compared with the service database's, object by object. The scratch
 * database is always dropped. Skipped, saying why, when the tool cannot migrate a scratch
 * database; failed, saying why, when the scratch database cannot be made.
 */
export async function fingerprintCheck(service: ServiceConfig, serviceTool: MigrationTool, deps: FingerprintDeps): Promise<VerificationCheck> {
  const t0 = performance.now();
  const base = { name: 'schema_fingerprint', title: 'Schema fingerprint against a fresh migrate up (runbook 001 postflight)' };
  const done = (status: VerificationCheck['status'], detail: string, problems: string[] = []): VerificationCheck => ({ ...base, status, detail, problems, durationMs: Math.round(performance.now() - t0) });
  if (!serviceTool.migrateUp) return done('skipped', `${service.migrations.tool} cannot migrate a scratch database from the bot (its migrator applies the whole journal, not up to a point)`);
  const applied = await serviceTool.listApplied();
  const server = service.verify.scratch_database_url || service.database_url;
  const scratch = `${databaseOf(server).slice(0, 30)}_verify_${utcSecondStamp(deps.now()).replace('-', '_')}`;
  const scratchUrl = withDatabaseName(server, scratch);
  try {
    await createDatabase(server, scratch);
  } catch (err) {
    return done('failed', `could not create the scratch database \`${scratch}\`: ${redactSecrets((err as Error).message)}`, ['set verify.scratch_database_url_env to a server where the bot may CREATE DATABASE']);
  }
  const tool = deps.toolFor(service, scratchUrl);
  try {
    await tool.migrateUp!(applied);
    const exclude = trackingRelations(serviceTool);
    const [live, fresh] = await Promise.all([schemaLines(service.triage.database_url, exclude), schemaLines(scratchUrl, exclude)]);
    const freshSet = new Set(fresh);
    const liveSet = new Set(live);
    const problems = [
      ...live.filter((l) => !freshSet.has(l)).map((l) => `only in the service database: ${l}`),
      ...fresh.filter((l) => !liveSet.has(l)).map((l) => `missing from the service database (a fresh migrate up to \`${applied[applied.length - 1]?.name ?? '(nothing)'}\` has it): ${l}`),
    ];
    return done(problems.length ? 'failed' : 'passed', `${live.length} schema objects compared with a fresh migrate up through ${applied.length} migration(s)${problems.length ? `: ${problems.length} difference(s)` : ': identical'}`, problems);
  } catch (err) {
    return done('failed', `the scratch migrate up failed: ${redactSecrets((err as Error).message)}`, [redactSecrets((err as Error).message)]);
  } finally {
    await tool.close().catch(() => undefined);
    await dropDatabase(server, scratch).catch(() => undefined);
  }
}

/** The tool's tracking table and lock table, `schema.name`, left out of the comparison. */
function trackingRelations(tool: MigrationTool): string[] {
  const t = tool.tracking.table;
  return [`${t.schema}.${t.name}`, `${t.schema}.${t.name}_lock`];
}
