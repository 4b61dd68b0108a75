import type { ServiceConfig } from '../../../config/services.js';
import { blockingIrreversible, classifyPlan, isDestructive, type PlanRisk } from '../../rollback/risk.js';
import type { Approval, Incident } from './incident.js';

/** How many approvals a plan needs, and why. */
export interface ApprovalTier {
  /** Distinct approvers needed. */
  required: number;
  /** Data loss, security or irreversibility: `approvals.destructive`, each approver confirms in a modal by typing the service name. */
  destructive: boolean;
  /** Break glass: one approval from a listed approver. */
  breakGlass: boolean;
  /** Why the plan cannot be approved at all (an irreversible step), or null. */
  unapprovable: string | null;
  /** The plan's risk (measured when the prepare job ran, else classified now without figures). */
  risk: PlanRisk | null;
}

/**
 * The approval rule for an incident's plan (runbook 003 "Mandatory pre-action checklist":
 * two approvals; "Option B" for destructive migrations):
 *  - `approvals.required` for a plan without data-loss or security risk;
 *  - `approvals.destructive` (default `required + 1`) when a step loses data, removes
 *    security or cannot bring back what its up destroyed;
 *  - 1 under break glass;
 *  - none possible when a step's down cannot run (no down, `down = false`, it throws): restore instead.
 * Restores (to a new instance, never over the source) use `approvals.required`; so does an
 * unarchive, unless it overwrites values there now (`--on-conflict overwrite`): then `approvals.destructive`.
 */
export async function approvalTier(
  incident: Pick<Incident, 'kind' | 'plan' | 'risk' | 'breakGlass'>,
  service: Pick<ServiceConfig, 'approvals'>,
): Promise<ApprovalTier> {
  if (incident.kind === 'restore')
    return {
      required: service.approvals.required,
      destructive: false,
      breakGlass: false,
      unapprovable: null,
      risk: null,
    };
  if (incident.kind === 'unarchive') {
    const overwrites = incident.plan.some((s) => s.unarchive?.onConflict === 'overwrite');
    return {
      required: overwrites ? service.approvals.destructive : service.approvals.required,
      destructive: overwrites,
      breakGlass: false,
      unapprovable: null,
      risk: null,
    };
  }
  const risk = incident.risk ?? (await classifyPlan(incident.plan));
  const blocked = blockingIrreversible(risk);
  const destructive = isDestructive(risk);
  const breakGlass = incident.breakGlass !== null;
  return {
    required: breakGlass ? 1 : destructive ? service.approvals.destructive : service.approvals.required,
    destructive,
    breakGlass,
    unapprovable: blocked.length ? blocked.map((f) => f.what).join('; ') : null,
    risk,
  };
}

/** The approvals that count for the plan as it is: those given for its digest (all of them for a restore). */
export function countedApprovals(incident: Pick<Incident, 'basis'>, approvals: readonly Approval[]): Approval[] {
  const digest = incident.basis?.digest;
  return digest ? approvals.filter((a) => a.planDigest === digest) : [...approvals];
}
