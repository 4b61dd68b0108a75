import type { ServiceConfig } from '../../../config/services.js';
import { classifyPlan, type PlanRisk } from '../../rollback/risk.js';
import {
  assertMigrationInput,
  migrationsToRevert,
  resolveMigration,
  type AppliedMigration,
  type PlanStep,
} from '../../rollback/plan.js';
import { trackingHead, type TrackingHead } from '../../rollback/plan-digest.js';
import type { IncidentDeps } from '../ports/deps.js';
import { resolveService } from './resolve-service.js';

/** A rollback as it would run now: the target row, the down migrations in order, the tracking table's head. */
export interface RollbackDescription {
  target: AppliedMigration;
  plan: PlanStep[];
  head: TrackingHead | null;
}

/**
 * Reads the tracking table and the migration files and describes the rollback of `migration`
 * and everything applied after it (newest first), with each down's captured SQL. Reads only.
 * Shared by `/migrate rollback` and the CLI's `plan` (runbook 001 `--dry-run`).
 * @throws AppError `command_*` (unknown, ambiguous or unapplied migration), `service_db_unreachable`,
 *   `rollback_missing_file`
 */
export async function describeRollback(
  deps: Pick<IncidentDeps, 'migrationTool'>,
  service: ServiceConfig,
  migration: string,
): Promise<RollbackDescription> {
  const tool = deps.migrationTool(service);
  try {
    const applied = await tool.listApplied();
    const target = resolveMigration(applied, migration, await tool.listFiles());
    const plan = await tool.describeDown(migrationsToRevert(applied, target));
    return { target, plan, head: trackingHead(applied) };
  } finally {
    await tool.close().catch(() => undefined);
  }
}

/** The plan of {@link describeRollback} with its risk (libpg-query classification plus figures read under the triage limits): `plan --dry-run`. */
export async function dryRunRollback(
  deps: Pick<IncidentDeps, 'migrationTool' | 'measureRisk' | 'services'>,
  serviceName: string | undefined,
  migration: string,
): Promise<RollbackDescription & { service: ServiceConfig; risk: PlanRisk }> {
  const service = resolveService(deps.services, serviceName);
  assertMigrationInput(migration);
  const described = await describeRollback(deps, service, migration);
  const risk = await deps.measureRisk(service, await classifyPlan(described.plan));
  return { ...described, service, risk };
}
