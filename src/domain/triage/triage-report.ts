/**
 * Shapes of a triage run (runbook 003 "Initial triage (first 10 minutes)").
 * Each check is a named, read-only query; its result carries a one-line verdict
 * and the rows behind it.
 */

/** ok: nothing to act on; attention: a human should look; failed: the check itself could not run (timeout, error). */
export type Verdict = 'ok' | 'attention' | 'failed';

export interface CheckResult {
  /** Stable snake_case name, e.g. `migration_history`, `blocking_locks`. */
  name: string;
  /** Human title, e.g. "Blocking locks". */
  title: string;
  /** Runbook the query comes from, e.g. `000 Monitoring During Migrations`. */
  source: string;
  verdict: Verdict;
  /** One line a human reads in seconds: "2 blocked sessions; pid 4242 blocks 4250". */
  summary: string;
  /** Wall time of the check, ms. */
  durationMs: number;
  /** Column order for `rows`. */
  columns: string[];
  /** Result rows, values already made safe to print (queries cut to a bounded length). */
  rows: Array<Record<string, string | number | boolean | null>>;
  /** Why the check failed (timeout, permission), when verdict is `failed`. Never contains secrets. */
  error?: string;
  /** `tracking_table_health` only: a probe found the tool's lock held (runbook 004 "Migration Lock"), so the rollback would stop at it. */
  toolLockHeld?: boolean;
}

export interface TriageReport {
  service: string;
  /** ISO-8601 UTC. */
  startedAt: string;
  /** Wall time of the whole triage, ms. */
  durationMs: number;
  checks: CheckResult[];
}

/** The worst verdict in a report: failed > attention > ok. */
export function overallVerdict(report: TriageReport): Verdict {
  if (report.checks.some((c) => c.verdict === 'failed')) return 'failed';
  if (report.checks.some((c) => c.verdict === 'attention')) return 'attention';
  return 'ok';
}
