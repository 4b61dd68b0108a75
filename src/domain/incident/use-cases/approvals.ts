import { resolvePages } from './paging.js';
import { type WordsLike, strong, words } from '../../../shared/words.js';
import { announceStatus } from './announce.js';
import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import { actionNoun, APPROVABLE_STATES, type Approval, type Incident, type IncidentKind } from '../model/incident.js';
import { resolveService } from './resolve-service.js';
import { approvalProgress } from './approval-progress.js';

export { approvalProgress } from './approval-progress.js';
import { approvalTier, countedApprovals } from '../model/approval-tier.js';
import { postTimeline } from './post-timeline.js';
import { approverWords, isApprover } from '../ports/approvers.js';
import type { PlanRisk, RiskFinding } from '../../rollback/risk.js';
import { incidentEnded, recordMilestone } from './incident-lifecycle.js';

/** The answer to a button press, for the person who pressed it. */
export type ApprovalOutcome =
  /** `queued` is false when approvals are complete but the job queue did not answer (the reconciler queues it later). */
  | {
      kind: 'recorded';
      approvals: Approval[];
      required: number;
      complete: boolean;
      queued: boolean;
      noun: IncidentKind;
    }
  | { kind: 'duplicate'; approvals: Approval[]; required: number; noun: IncidentKind }
  /** A destructive plan: the approver must confirm in a modal by typing the service name; nothing recorded yet. */
  | { kind: 'confirm'; service: string; digest: string | null; summary: DestructiveFinding[]; required: number }
  | { kind: 'refused'; message: WordsLike };

/** What the presser saw: the digest on the card's button and, for destructive plans, the service name typed in the modal. */
export interface ApproveInput {
  /** {@link PlanBasis.digest} (or its first 12 digits) carried by the button; a different one means the card is stale. */
  digest?: string;
  /** What the approver typed in the confirmation modal (for a recorded approval: what the operator typed). */
  confirmedAs?: string;
  /** The approval is recorded from the CLI on the approver's behalf, by this operator, for this reason. */
  recorded?: { operator: string; reason: string };
}

/**
 * Who may approve (runbook 003 "Mandatory pre-action checklist": approvals from SRE +
 * migration owner, so the requester never approves their own rollback). Approvers listed as
 * user groups are resolved now.
 * @returns null when `userId` may approve, else the refusal shown to them
 */
export async function approvalRefusal(
  deps: Pick<IncidentDeps, 'directory'>,
  incident: Incident,
  service: ServiceConfig,
  userId: string,
): Promise<WordsLike | null> {
  if (!APPROVABLE_STATES.includes(incident.state)) {
    return `This incident is ${incident.state.replace(/_/g, ' ')}; approvals are closed.`;
  }
  if (userId === incident.requestedBy) {
    return `You requested this ${actionNoun(incident)}, so you cannot approve it. Other approvers must (runbook 003: SRE + migration owner).`;
  }
  if (!(await isApprover(deps.directory, service, userId, incident))) {
    return words`You are not an approver for ${strong(service.name)}. Approvers: ${approverWords(service.approvals.approvers)}.`;
  }
  return null;
}

/** A button from an older card of this incident: its plan was replaced. */
function supersededRefusal(incident: Incident, digest: string | undefined): WordsLike | null {
  if (!digest || !incident.basis || incident.basis.digest.startsWith(digest)) return null;
  return 'This plan was superseded: the migration files or the tracking table changed after it was posted. Nothing was recorded; use the buttons on the newest plan card in the channel.';
}

async function loadIncident(
  deps: IncidentDeps,
  incidentId: string,
): Promise<{ incident: Incident; service: ServiceConfig }> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) {
    throw new AppError({
      code: 'incident_not_found',
      message: `incident ${incidentId} not found`,
      userMessage: 'This incident no longer exists.',
    });
  }
  return { incident, service: resolveService(deps.services, incident.service) };
}

/**
 * An approver pressed Approve (runbook 003 "Mandatory pre-action checklist"). Refuses a stale
 * card (another plan digest), a plan with an irreversible step, and anyone who may not
 * approve. A destructive plan first answers `confirm`: the approver types the service name in
 * a modal, and the approval counts only with that confirmation. Records the approval once per
 * user with the plan digest; when the tier's number of distinct approvers have approved,
 * queues the rollback in the same step (job id derived from the incident and round: a double
 * press queues one job), before anything is said in Slack. The plan card update and the
 * channel line go through the outbox. A refused or repeated press changes nothing. When the
 * queue is unreachable the approval stays saved and the reconciler queues the rollback once
 * Redis answers; the outcome says so.
 */
export async function approve(
  deps: IncidentDeps,
  incidentId: string,
  userId: string,
  input: ApproveInput = {},
): Promise<ApprovalOutcome> {
  const { incident, service } = await loadIncident(deps, incidentId);
  const stale = supersededRefusal(incident, input.digest);
  if (stale) return { kind: 'refused', message: stale };
  const refusal = await approvalRefusal(deps, incident, service, userId);
  if (refusal) return { kind: 'refused', message: refusal };
  const tier = await approvalTier(incident, service);
  if (tier.unapprovable) {
    return {
      kind: 'refused',
      message: `This plan cannot be approved: ${tier.unapprovable}. Restore from the snapshot instead (runbook 003, Option B); the plan card has the button.`,
    };
  }
  const already = countedApprovals(incident, await deps.repo.listApprovals(incident.id));
  if (already.some((a) => a.userId === userId))
    return { kind: 'duplicate', approvals: already, required: tier.required, noun: actionNoun(incident) };
  if (tier.destructive) {
    if (input.confirmedAs === undefined) {
      return {
        kind: 'confirm',
        service: service.name,
        digest: incident.basis?.digest ?? null,
        summary: riskSummary(tier.risk),
        required: tier.required,
      };
    }
    if (input.confirmedAs.trim() !== service.name) {
      return {
        kind: 'refused',
        message: `You typed \`${input.confirmedAs.trim().slice(0, 60)}\`, not \`${service.name}\`. Nothing was recorded; press Approve again to retry.`,
      };
    }
  }

  const required = tier.required;
  const recordedBy = input.recorded ? { ...input.recorded, via: 'cli' as const } : null;
  const { inserted, approvals: all } = await deps.repo.addApproval(
    incident.id,
    userId,
    incident.basis?.digest ?? null,
    recordedBy ?? undefined,
  );
  const approvals = countedApprovals(incident, all);
  if (!inserted) return { kind: 'duplicate', approvals, required, noun: actionNoun(incident) };

  const complete = approvals.length >= required;
  let queued = true;
  if (complete) {
    queued = await deps.jobs.rollback(incident).then(
      () => true,
      (err: unknown) => {
        deps.logger.error(
          { err, incidentId },
          'approvals complete but the rollback could not be queued; the reconciler will',
        );
        return false;
      },
    );
  }
  if (complete) {
    await recordMilestone(deps, incident.id, 'approved');
    await resolvePages(deps, incident, 'approvals').catch((err: unknown) =>
      deps.logger.warn({ err, incidentId }, 'approvals page not resolved'),
    );
  }
  await deps.notifier.updatePlanCard(incident, await approvalProgress(deps, incident, service));
  // Only approvals typed in Slack's modal say so; a recorded one was typed by the operator.
  const confirmedAs = tier.destructive && !recordedBy && !(await anyRecorded(deps, incident.id)) ? service.name : null;
  if (complete) {
    await deps.notifier.progress(incident, {
      kind: 'approvals_complete',
      approvers: approvals.map((a) => a.userId),
      noun: actionNoun(incident),
      queued,
      waitsForSnapshot: incident.state !== 'awaiting_approval',
      confirmedAs,
      ...(recordedBy ? { recordedBy } : {}),
    });
  } else {
    await deps.notifier.progress(incident, {
      kind: 'approval_given',
      by: userId,
      count: approvals.length,
      required,
      confirmedAs,
      ...(recordedBy ? { recordedBy } : {}),
    });
  }
  return { kind: 'recorded', approvals, required, complete, queued, noun: actionNoun(incident) };
}

/** True when any approval of this incident was recorded from the CLI rather than given in Slack. */
async function anyRecorded(deps: IncidentDeps, incidentId: string): Promise<boolean> {
  return (await deps.repo.lastEvent(incidentId, ['approval_recorded'])) !== null;
}

/** A destructive finding of one step, for the confirmation modal. */
export interface DestructiveFinding {
  migration: string;
  finding: RiskFinding;
}

/** The findings an approver confirms: data loss, security removed, irreversible, step by step. */
export function riskSummary(risk: PlanRisk | null): DestructiveFinding[] {
  if (!risk) return [];
  return risk.steps.flatMap((s) =>
    s.findings
      .filter((f) => f.class === 'data_loss' || f.class === 'security' || f.class === 'irreversible')
      .map((finding) => ({ migration: s.migration, finding })),
  );
}

/**
 * An approver (or the requester) pressed Reject: the incident ends as cancelled and
 * nothing touches the service database.
 */
export async function reject(deps: IncidentDeps, incidentId: string, userId: string): Promise<ApprovalOutcome> {
  const { incident, service } = await loadIncident(deps, incidentId);
  if (!APPROVABLE_STATES.includes(incident.state)) {
    return {
      kind: 'refused',
      message: `This incident is ${incident.state.replace(/_/g, ' ')}; it can no longer be rejected.`,
    };
  }
  if (userId !== incident.requestedBy && !(await isApprover(deps.directory, service, userId, incident))) {
    return {
      kind: 'refused',
      message: words`Only the requester or an approver for ${strong(service.name)} can reject this ${actionNoun(incident)}.`,
    };
  }
  const cancelled = await deps.repo.transition(incident.id, 'rejected', userId);
  const progress = await approvalProgress(deps, cancelled, service);
  await deps.notifier.updatePlanCard(cancelled, progress);
  await deps.notifier.cancelled(cancelled, userId);
  await incidentEnded(deps, cancelled);
  await postTimeline(deps, cancelled, service);
  await announceStatus(deps, cancelled, { kind: 'rejected' });
  return {
    kind: 'recorded',
    approvals: progress.approvals,
    required: progress.required,
    complete: false,
    queued: true,
    noun: actionNoun(incident),
  };
}
