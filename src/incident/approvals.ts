import type { ServiceConfig } from '../config/services.js';
import { AppError } from '../shared/errors.js';
import type { IncidentDeps } from './deps.js';
import { APPROVABLE_STATES, type Approval, type Incident } from './incident.js';
import { resolveService } from './resolve-service.js';

/** The answer to a button press, for the person who pressed it. */
export type ApprovalOutcome =
  | { kind: 'recorded'; approvals: Approval[]; required: number; complete: boolean }
  | { kind: 'duplicate'; approvals: Approval[]; required: number }
  | { kind: 'refused'; message: string };

/**
 * Who may approve (pure; runbook 003 "Mandatory pre-action checklist": approvals
 * from SRE + migration owner, so the requester never approves their own rollback).
 * @returns null when `userId` may approve, else the refusal shown to them
 */
export function approvalRefusal(incident: Incident, service: ServiceConfig, userId: string): string | null {
  if (!APPROVABLE_STATES.includes(incident.state)) {
    return `This incident is ${incident.state.replace('_', ' ')}; approvals are closed.`;
  }
  if (userId === incident.requestedBy) {
    return 'You requested this rollback, so you cannot approve it. Two other approvers must (runbook 003: SRE + migration owner).';
  }
  if (!service.approvals.approvers.includes(userId)) {
    return `You are not an approver for *${service.name}*. Approvers: ${service.approvals.approvers.map((u) => `<@${u}>`).join(', ')}.`;
  }
  return null;
}

async function loadIncident(deps: IncidentDeps, incidentId: string): Promise<{ incident: Incident; service: ServiceConfig }> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) {
    throw new AppError({ code: 'incident_not_found', message: `incident ${incidentId} not found`, userMessage: 'This incident no longer exists.' });
  }
  return { incident, service: resolveService(deps.services, incident.service) };
}

/**
 * An approver pressed Approve (issue 2 step 8–9). Records the approval once per user,
 * re-renders the plan card, and when `approvals.required` distinct approvers have
 * approved, queues the rollback (job id derived from the incident: a double press
 * queues one job). A refused or repeated press changes nothing.
 */
export async function approve(deps: IncidentDeps, incidentId: string, userId: string): Promise<ApprovalOutcome> {
  const { incident, service } = await loadIncident(deps, incidentId);
  const refusal = approvalRefusal(incident, service, userId);
  if (refusal) return { kind: 'refused', message: refusal };

  const required = service.approvals.required;
  const { inserted, approvals } = await deps.repo.addApproval(incident.id, userId);
  if (!inserted) return { kind: 'duplicate', approvals, required };

  const complete = approvals.length >= required;
  await deps.notifier.updatePlanCard(incident, { approvals, required });
  if (complete) {
    await deps.notifier.progress(
      incident,
      `:white_check_mark: Approved by ${approvals.map((a) => `<@${a.userId}>`).join(' and ')}. Rollback queued${incident.state === 'awaiting_approval' ? '' : '; it starts once the snapshot is available'}.`,
    );
    await deps.jobs.rollback(incident.id);
  } else {
    await deps.notifier.progress(incident, `<@${userId}> approved (${approvals.length} of ${required}).`);
  }
  return { kind: 'recorded', approvals, required, complete };
}

/**
 * An approver (or the requester) pressed Reject: the incident ends as cancelled and
 * nothing touches the service database (issue 2 step 8).
 */
export async function reject(deps: IncidentDeps, incidentId: string, userId: string): Promise<ApprovalOutcome> {
  const { incident, service } = await loadIncident(deps, incidentId);
  if (!APPROVABLE_STATES.includes(incident.state)) {
    return { kind: 'refused', message: `This incident is ${incident.state.replace('_', ' ')}; it can no longer be rejected.` };
  }
  if (userId !== incident.requestedBy && !service.approvals.approvers.includes(userId)) {
    return { kind: 'refused', message: `Only the requester or an approver for *${service.name}* can reject this rollback.` };
  }
  const cancelled = await deps.repo.transition(incident.id, 'rejected', userId);
  await deps.jobs.stopStatusUpdates(incident.id);
  const approvals = await deps.repo.listApprovals(incident.id);
  await deps.notifier.updatePlanCard(cancelled, { approvals, required: service.approvals.required });
  await deps.notifier.cancelled(cancelled, userId);
  return { kind: 'recorded', approvals, required: service.approvals.required, complete: false };
}
