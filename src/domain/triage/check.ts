import type { ServiceConfig } from '../../config/services.js';
import type { TrackingDescription } from '../rollback/migration-tool.js';
import type { CheckResult } from './triage-report.js';
import type { TouchedRelationsResult } from './touched-relations.js';
import type { TriageSession } from './triage-session.js';

/** The offending migration: its name in the tracking table and the SQL of its down migration. */
export interface OffendingMigration {
  /** Name as recorded in the tracking table, e.g. `007_add_security_tables.ts`. */
  name: string;
  /** Statements of its down migration, captured by the migrations adapter. */
  sql: string[];
}

/** What every check may read: typed slices of the service config and the offending migration. */
export interface CheckContext {
  service: Pick<ServiceConfig, 'name' | 'migrations' | 'triage'>;
  /** The service's tracking table, its lock and dirty state, as its migration tool describes them. */
  tracking: TrackingDescription;
  offending?: OffendingMigration;
  /** Relations named in the offending migration's down SQL (extracted once per triage run). */
  touched?: TouchedRelationsResult;
}

/** What a check's pure evaluation returns; the runner adds name, title, source and timing. */
export type CheckOutcome = Pick<CheckResult, 'verdict' | 'summary' | 'columns' | 'rows' | 'toolLockHeld'>;

/**
 * One named, read-only triage check (runbook 003 "Initial triage"). `run` issues its documented
 * queries through the session and hands the rows to a pure evaluation function.
 * Errors thrown by `run` (timeouts, missing tables) become verdict `failed`.
 */
export interface TriageCheck {
  /** Stable snake_case name, e.g. `blocking_locks`. */
  name: string;
  /** Human title, e.g. "Blocking locks". */
  title: string;
  /** Runbook section the query comes from, e.g. `000 Monitoring During Migrations`. */
  source: string;
  run(session: TriageSession, context: CheckContext): Promise<CheckOutcome>;
}
