import type { OptionFacts } from './option-facts.js';
import type { PlanUsage } from './usage.js';
/**
 * What a down migration will do that approvers must weigh (runbook 003 "Option B" prefers a
 * restore for destructive migrations; runbook 004 marks its RLS down "CAUTION: Removes
 * security"; runbook 000 "Constraint violation on ADD CONSTRAINT"):
 * - `data_loss`: DROP TABLE/SCHEMA/TYPE/COLUMN/MATERIALIZED VIEW, TRUNCATE, DELETE/UPDATE
 *   without WHERE, ALTER COLUMN … TYPE to a narrower type;
 * - `security`: DROP POLICY, DISABLE / NO FORCE ROW LEVEL SECURITY, GRANT, REVOKE, DROP ROLE,
 *   ALTER … OWNER, SECURITY DEFINER functions;
 * - `blocking`: an index build without CONCURRENTLY, a table rewrite (ALTER COLUMN TYPE), or
 *   another ACCESS EXCLUSIVE ALTER TABLE — the figures say how big the table is;
 * - `constraint`: a CHECK / NOT NULL / UNIQUE / PRIMARY KEY / FOREIGN KEY the down adds back,
 *   which fails on rows that violate it;
 * - `irreversible`: the down cannot run (none, `down = false`, it threw while captured), or
 *   the up destroyed data that its down only recreates empty;
 * - `unknown`: SQL the parser cannot read, or dynamic SQL — never "safe".
 */
export type RiskClass = 'data_loss' | 'security' | 'blocking' | 'constraint' | 'irreversible' | 'unknown';

/** A relation or column as written in the SQL (`schema` null: search_path decides). */
export interface RiskTarget {
  schema: string | null;
  /** Table (or type, schema, role, policy) name. */
  name: string;
  /** For column findings. */
  column?: string;
}

/** A constraint the down adds, as the figures query needs it. */
export interface ConstraintSpec {
  type: 'check' | 'not_null' | 'unique' | 'primary_key' | 'foreign_key' | 'new_not_null_column';
  /** Constraint name when the SQL gives one. */
  name?: string;
  columns: string[];
  /** CHECK expression text, as written (sliced from the statement with the PostgreSQL scanner). */
  expression?: string;
  /** FOREIGN KEY target. */
  references?: { schema: string | null; table: string; columns: string[] };
}

/** What one statement does that matters, with the figure the database gives once measured. */
export interface RiskFinding {
  class: RiskClass;
  /** What it does, in words, e.g. "drops column events.promo_code". */
  what: string;
  /** Which text of the step: `down` SQL (default) or the reverted `up`. */
  source: 'down' | 'up';
  /** Index into the step's `sql` (or `upSql`); -1 when the finding is about the step, not a statement. */
  statement: number;
  /** What the figure is measured on; absent when nothing can be counted. */
  target?: RiskTarget & {
    /** `rows` in a table, non-null `values` in a column, `violations` of a constraint, `policies` on a table. */
    measure: 'rows' | 'values' | 'violations' | 'policies' | 'longer_values';
    constraint?: ConstraintSpec;
    /** For `longer_values`: the new maximum length in characters. */
    maxLength?: number;
  };
  /**
   * What an earlier step of the plan does to the target before this step runs: `dropped` it
   * (nothing left to lose) or `recreated` it (empty). Set by {@link classifyPlan}; the figure
   * then follows the plan, not the database as it is now.
   */
  earlier?: { change: 'dropped' | 'recreated'; migration: string };
  /** Filled in from the database (read-only, under the triage timeouts). */
  figure?: RiskFigure;
  /** For data loss: the archive table that keeps the data first (estimated bytes), or why it cannot. */
  archived?: { table: string; estimatedBytes: number } | { refused: string };
  /** A read-only query that finds the offending rows (for constraint re-adds; runbook 000 "clean up invalid data first"). */
  hint?: string;
}

/** A count from the service database. */
export interface RiskFigure {
  /** Rows, values, violating rows or policies; null when it could not be measured (`error` says why). */
  count: number | null;
  /** True when taken from the planner's statistics (`reltuples`, `pg_stats.null_frac`) above `triage.exact_count_max_rows`. */
  estimated: boolean;
  /** Policies' names and commands, for `policies`. */
  names?: string[];
  /** The relation (or column) does not exist, or an earlier step of the plan drops it: nothing to lose. */
  absent?: boolean;
  /** An earlier step of the plan recreates it empty, so this step finds 0 rows or values there. */
  recreated?: boolean;
  error?: string;
}

/** The risk of one step of a plan. */
export interface StepRisk {
  migration: string;
  findings: RiskFinding[];
}

/** The risk of a plan: per step, plus what the approval flow needs to know. */
export interface PlanRisk {
  steps: StepRisk[];
  /** Who still uses what the downs drop (statements, sessions, dependent views); absent before it was looked at. */
  usage?: PlanUsage;
  /** Facts of the comparison of rolling back, restoring and fixing forward; absent before they were measured. */
  options?: OptionFacts;
}
