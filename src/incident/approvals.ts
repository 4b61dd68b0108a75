import type { ServiceConfig } from '../config/services.js';
import { AppError } from '../shared/errors.js';
import type { IncidentDeps } from './deps.js';
import { actionNoun, APPROVABLE_STATES, type Approval, type Incident } from './incident.js';
import type { ApprovalProgress } from './notifier.js';
import { resolveService } from './resolve-service.js';
import { endStatusUpdates } from './status-update.js';

/** The answer to a button press, for the person who pressed it. */
export type ApprovalOutcome =
  /** `queued` is false when approvals are complete but the job queue did not answer (the reconciler queues it later). */
  | { kind: 'recorded'; approvals: Approval[]; required: number; complete: boolean; queued: boolean; noun: 'restore' | 'rollback' }
  | { kind: 'duplicate'; approvals: Approval[]; required: number; noun: 'restore' | 'rollback' }
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
    return `You requested this ${actionNoun(incident)}, so you cannot approve it. Two other approvers must (runbook 003: SRE + migration owner).`;
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
 * Approvals so far, how many are needed, and the round's plan warnings, as the plan card
 * and status updates show them.
 */
export async function approvalProgress(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<ApprovalProgress> {
  const [approvals, warned] = await Promise.all([deps.repo.listApprovals(incident.id), deps.repo.lastEvent(incident.id, ['plan_warnings', 'retried'])]);
  const warnings = warned?.type === 'plan_warnings' ? (warned.data.warnings as string[]) : [];
  return { approvals, required: service.approvals.required, ...(warnings.length ? { warnings } : {}) };
}

/**
 * An approver pressed Approve (runbook 003 "Mandatory pre-action checklist": two
 * approvals). Records the approval once per user; when `approvals.required` distinct
 * approvers have approved, queues the rollback in the same step (job id derived from the
 * incident and round: a double press queues one job), before anything is said in Slack.
 * The plan card update and the channel line go through the outbox, so Slack failing
 * cannot keep an approved rollback from running. A refused or repeated press changes
 * nothing. When the queue is unreachable the approval stays saved and the reconciler
 * queues the rollback once Redis answers; the outcome says so.
 */
export async function approve(deps: IncidentDeps, incidentId: string, userId: string): Promise<ApprovalOutcome> {
  const { incident, service } = await loadIncident(deps, incidentId);
  const refusal = approvalRefusal(incident, service, userId);
  if (refusal) return { kind: 'refused', message: refusal };

  const required = service.approvals.required;
  const { inserted, approvals } = await deps.repo.addApproval(incident.id, userId);
  if (!inserted) return { kind: 'duplicate', approvals, required, noun: actionNoun(incident) };

  const complete = approvals.length >= required;
  let queued = true;
  if (complete) {
    queued = await deps.jobs.rollback(incident).then(
      () => true,
      (err: unknown) => {
        deps.logger.error({ err, incidentId }, 'approvals complete but the rollback could not be queued; the reconciler will');
        return false;
      },
    );
  }
  await deps.notifier.updatePlanCard(incident, await approvalProgress(deps, incident, service));
  if (complete) {
    const noun = actionNoun(incident);
    const when = incident.state === 'awaiting_approval' ? '' : '; it starts once the snapshot is available';
    await deps.notifier.progress(
      incident,
      `:white_check_mark: Approved by ${approvals.map((a) => `<@${a.userId}>`).join(' and ')}. ` +
        (queued ? `${noun === 'restore' ? 'Restore' : 'Rollback'} queued${when}.` : `The job queue is unreachable right now; the bot queues the ${noun} as soon as it answers (checked every minute).`),
    );
  } else {
    await deps.notifier.progress(incident, `<@${userId}> approved (${approvals.length} of ${required}).`);
  }
  return { kind: 'recorded', approvals, required, complete, queued, noun: actionNoun(incident) };
}

/**
 * An approver (or the requester) pressed Reject: the incident ends as cancelled and
 * nothing touches the service database.
 */
export async function reject(deps: IncidentDeps, incidentId: string, userId: string): Promise<ApprovalOutcome> {
  const { incident, service } = await loadIncident(deps, incidentId);
  if (!APPROVABLE_STATES.includes(incident.state)) {
    return { kind: 'refused', message: `This incident is ${incident.state.replace('_', ' ')}; it can no longer be rejected.` };
  }
  if (userId !== incident.requestedBy && !service.approvals.approvers.includes(userId)) {
    return { kind: 'refused', message: `Only the requester or an approver for *${service.name}* can reject this ${actionNoun(incident)}.` };
  }
  const cancelled = await deps.repo.transition(incident.id, 'rejected', userId);
  const progress = await approvalProgress(deps, cancelled, service);
  await deps.notifier.updatePlanCard(cancelled, progress);
  await deps.notifier.cancelled(cancelled, userId);
  await endStatusUpdates(deps, incident.id);
  return { kind: 'recorded', approvals: progress.approvals, required: progress.required, complete: false, queued: true, noun: actionNoun(incident) };
}
