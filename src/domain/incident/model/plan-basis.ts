import { carryArchive } from '../../rollback/archive.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { MigrationTool } from '../../rollback/migration-tool.js';
import { migrationsToRevert, type PlanStep } from '../../rollback/plan.js';
import { planBasis, trackingHead, type PlanBasis } from '../../rollback/plan-digest.js';
import type { Incident } from './incident.js';
import { incidentSnapshotName } from '../use-cases/prepare-incident.js';

/**
 * The snapshot id a round of an incident runs after, before it exists: the name the bot gives
 * its snapshot (providers use it as the id), or `none` when snapshots are waived.
 */
export function expectedSnapshotId(
  incident: Pick<Incident, 'service' | 'createdAt' | 'attempt'>,
  service: Pick<ServiceConfig, 'snapshot'>,
): string {
  return service.snapshot.provider === 'none' ? 'none' : incidentSnapshotName(incident);
}

/**
 * The plan of an incident as the tracking table and the migration files say now: every
 * migration applied after the incident's target, then the target, newest first; when the
 * target itself is gone, the planned migrations still applied. A computed plan is computed again
 * by `recompute` (from the live schema as it is now; none when it cannot be). With the basis for `snapshotId`.
 * @throws what the tool's `listApplied` / `describeDown` throw
 */
export async function currentPlan(
  tool: MigrationTool,
  incident: Pick<Incident, 'migration' | 'plan'>,
  snapshotId: string,
  recompute?: () => Promise<PlanStep | null>,
): Promise<{ plan: PlanStep[]; basis: PlanBasis }> {
  const applied = await tool.listApplied();
  if (recompute && incident.plan.some((s) => s.computed)) {
    const step = await recompute();
    const plan = carryArchive(step ? [step] : [], incident.plan);
    return { plan, basis: planBasis(plan, trackingHead(applied), snapshotId) };
  }
  const target = applied.find((m) => m.name === incident.migration);
  const planned = new Set(incident.plan.map((s) => s.migration));
  const still = target ? migrationsToRevert(applied, target) : applied.filter((m) => planned.has(m.name)).reverse();
  // The archive copies were derived from each step's SQL: unchanged SQL keeps them.
  const plan = carryArchive(still.length ? await tool.describeDown(still) : [], incident.plan);
  return { plan, basis: planBasis(plan, trackingHead(applied), snapshotId) };
}
