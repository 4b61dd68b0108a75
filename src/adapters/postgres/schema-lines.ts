import { connectClient } from './connect.js';
import type { MigrationTool } from '../../domain/rollback/migration-tool.js';

/**
 * The schema as the catalogs describe it, one line per object, normalised so two databases
 * built the same way give the same lines: tables and their columns (type, default,
 * nullability), indexes, constraints, row-level security and policies, enum types, functions
 * (arguments and a hash of the body). System schemas, the bot's own `migrate_bot_*` schemas (the
 * archive of what downs destroyed) and `exclude` relations (the tools' tracking and lock tables)
 * are left out.
 */
export const FINGERPRINT_SQL = `
WITH user_ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
    AND nspname NOT LIKE 'migrate_bot_%'
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
  const client = await connectClient({
    connectionString: url,
    application_name: 'migrate-bot-verify',
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.query("BEGIN READ ONLY; SET LOCAL statement_timeout = '30s'");
    const { rows } = await client.query<{ line: string }>(FINGERPRINT_SQL, [exclude]);
    await client.query('COMMIT');
    return rows.map((r) => r.line);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The tool's tracking table and lock table, `schema.name`, left out of the comparison. */
export function trackingRelations(tool: MigrationTool): string[] {
  const t = tool.tracking.table;
  return [`${t.schema}.${t.name}`, `${t.schema}.${t.name}_lock`];
}
