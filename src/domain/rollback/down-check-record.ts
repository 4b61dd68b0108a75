import type { PlanStep } from './plan.js';

/**
 * One recorded result of `migrate-bot check --record` (update → down → compare → update on a
 * scratch database, Liquibase's update-testing-rollback for every tool), keyed by the checksum of
 * the files that define the migration's down ({@link PlanStep.checksum}).
 */
export interface DownCheckRecord {
  service: string;
  migration: string;
  /** sha256 (hex) of the files that define the down when it was checked. */
  checksum: string;
  tool: string;
  /** The down ran and brought the schema back to what it was before the up. */
  passed: boolean;
  /** What the check saw: the schema difference left, the error, risk classes, ms; and the git commit when known. */
  detail: { error?: string | null; remaining?: string[]; missing?: string[]; ms?: number; commit?: string | null };
  /** ISO-8601 UTC. */
  checkedAt: string;
}

/** Where recorded checks are kept (the state database's `down_checks`). */
export interface DownCheckRecords {
  record(r: DownCheckRecord): Promise<void>;
  /** The newest record of each migration named, whatever its checksum. */
  latest(service: string, migrations: readonly string[]): Promise<DownCheckRecord[]>;
}

/** What the plan says about one step's down having been tested before the incident. */
export interface StepTestedness {
  migration: string;
  /** `passed`: the newest check of this very file passed; `failed`: it failed; `changed`: checked, but the file changed since; `untested`: never checked. */
  state: 'passed' | 'failed' | 'changed' | 'untested';
  /** ISO-8601 UTC of the newest check, when there is one. */
  checkedAt: string | null;
}

/**
 * Whether each step's down was tested by `migrate-bot check --record`, and on this very file:
 * a record whose checksum differs from the step's is `changed` (an old pass does not vouch for a
 * new file). Steps without a checksum (a tool that cannot hash its files) are `untested`. Pure.
 */
export function stepTestedness(
  plan: readonly Pick<PlanStep, 'migration' | 'checksum'>[],
  records: readonly DownCheckRecord[],
): StepTestedness[] {
  const byMigration = new Map(records.map((r) => [r.migration, r]));
  return plan.map((step) => {
    const r = byMigration.get(step.migration);
    if (!r || !step.checksum) return { migration: step.migration, state: 'untested', checkedAt: null };
    if (r.checksum !== step.checksum) return { migration: step.migration, state: 'changed', checkedAt: r.checkedAt };
    return { migration: step.migration, state: r.passed ? 'passed' : 'failed', checkedAt: r.checkedAt };
  });
}
