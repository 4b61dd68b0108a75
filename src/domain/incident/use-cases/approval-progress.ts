import type { ServiceConfig } from '../../../config/services.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import type { ApprovalProgress } from '../ports/notifier.js';
import { approvalTier, countedApprovals } from '../model/approval-tier.js';
import { rehearsalRefusal, type RehearsalResult } from '../model/rehearsal-policy.js';

/**
 * Approvals so far (those given for the plan's digest), how many are needed, the plan's risk
 * and the round's plan warnings, as the plan card and status updates show them.
 */
export async function approvalProgress(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
): Promise<ApprovalProgress> {
  const [approvals, warned, tier, rehearsed] = await Promise.all([
    deps.repo.listApprovals(incident.id),
    deps.repo.lastEvent(incident.id, ['plan_warnings', 'retried']),
    approvalTier(incident, service),
    deps.repo.lastEvent(incident.id, ['rehearsal_done']),
  ]);
  const warnings = warned?.type === 'plan_warnings' ? (warned.data.warnings as string[]) : [];
  const r =
    rehearsed && incident.basis && rehearsed.data.digest === incident.basis.digest
      ? (rehearsed.data as unknown as RehearsalResult)
      : null;
  const failed = r?.steps.find((s) => s.status === 'failed');
  return {
    approvals: countedApprovals(incident, approvals),
    required: tier.required,
    ...(warnings.length ? { warnings } : {}),
    ...(tier.risk ? { risk: tier.risk } : {}),
    ...(tier.destructive ? { destructive: true } : {}),
    ...(tier.unapprovable ? { unapprovable: tier.unapprovable } : {}),
    ...(r
      ? {
          rehearsal: {
            passed: r.passed,
            at: r.at,
            downsMs: r.steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0),
            ...(failed ? { failedStep: failed.migration } : {}),
            ...((failed?.error ?? r.error) ? { error: failed?.error ?? r.error } : {}),
          },
        }
      : {}),
    ...(incident.kind === 'rollback' && !rehearsalRefusal(service) ? { canRehearse: true } : {}),
  };
}
