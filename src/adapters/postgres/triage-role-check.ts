import pg from 'pg';
import type { ServiceConfig } from '../../config/services.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';

/** What the triage role of a service may do, as PostgreSQL says (its privilege functions). */
export interface TriageRoleReport {
  role: string;
  /** `default_transaction_read_only` is on for the role's sessions. */
  readOnlyByDefault: boolean;
  superuser: boolean;
  /** Tables (outside the system schemas) it may INSERT, UPDATE, DELETE or TRUNCATE. */
  writableTables: number;
  /** It may create schemas in the database. */
  canCreate: boolean;
}

const REPORT_SQL = `
SELECT current_user AS role,
       current_setting('default_transaction_read_only') = 'on' AS read_only_by_default,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_toast%'
           AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
             OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE'))) AS writable_tables,
       has_database_privilege(current_database(), 'CREATE') AS can_create`;

/**
 * Reads what the role of `url` may write (PostgreSQL "System Information Functions":
 * `has_table_privilege`, `has_database_privilege`), in a read-only session of its own.
 * @throws the driver's error when the database cannot be reached
 */
export async function triageRoleReport(url: string): Promise<TriageRoleReport> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5000,
    application_name: 'migrate-bot-role-check',
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{
      role: string;
      read_only_by_default: boolean;
      superuser: boolean;
      writable_tables: number;
      can_create: boolean;
    }>(REPORT_SQL);
    const r = rows[0]!;
    return {
      role: r.role,
      readOnlyByDefault: r.read_only_by_default,
      superuser: r.superuser,
      writableTables: r.writable_tables,
      canCreate: r.can_create,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Why a triage role is more than read-only, in words for the operator; empty when it is read-only. */
export function triageRoleProblems(r: TriageRoleReport): string[] {
  const problems: string[] = [];
  if (r.superuser) problems.push('is a superuser');
  if (r.writableTables > 0) problems.push(`may write ${r.writableTables} table(s)`);
  if (r.canCreate) problems.push('may CREATE in the database');
  if (!r.readOnlyByDefault) problems.push('does not have default_transaction_read_only = on');
  return problems;
}

/**
 * At start-up, for every service with its own triage role (`triage.database_url_env`): warns,
 * naming the service, the role and what it may do, when that role can write (SECURITY.md
 * "Least privilege": `pg_read_all_data`, `pg_monitor`, `default_transaction_read_only`). Never
 * stops the start: triage runs its queries in read-only transactions anyway; an unreachable
 * database is logged and left to triage to report.
 * @returns the services whose triage role can write
 */
export async function warnOnWritableTriageRoles(services: Iterable<ServiceConfig>, logger: Logger): Promise<string[]> {
  const writable: string[] = [];
  for (const service of services) {
    if (!service.triage.database_url_env) continue;
    try {
      const report = await triageRoleReport(service.triage.database_url);
      const problems = triageRoleProblems(report);
      if (problems.length) {
        writable.push(service.name);
        logger.warn(
          { service: service.name, role: report.role, problems },
          `services.${service.name}.triage.database_url_env: role ${report.role} ${problems.join(', ')}; triage needs only pg_read_all_data and pg_monitor (SECURITY.md "Least privilege")`,
        );
      }
    } catch (err) {
      logger.warn(
        { service: service.name, error: redactSecrets((err as Error).message) },
        'could not check the triage role (the database did not answer)',
      );
    }
  }
  return writable;
}
