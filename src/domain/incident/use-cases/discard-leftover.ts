import { type WordsLike, strong, words } from '../../../shared/words.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import { resolveService } from './resolve-service.js';
import { isApprover } from '../ports/approvers.js';

const BOT = 'migrate-bot';
/** Event of one approver asking for the leftover's deletion; `leftover_discarded` once it is gone. */
const APPROVED = 'leftover_discard_approved';
const DISCARDED = 'leftover_discarded';

/** What a press of the Delete button did. */
export type DiscardOutcome =
  | { kind: 'recorded'; approvals: number; required: number; queued: boolean }
  | { kind: 'duplicate'; approvals: number; required: number }
  | { kind: 'refused'; message: WordsLike };

/** Why `incident` offers no deletion, or null when it does: a failed restore with a leftover not yet deleted. */
async function notDiscardable(deps: IncidentDeps, incident: Incident): Promise<WordsLike | null> {
  if (incident.kind !== 'restore' || !incident.failure?.leftover) return 'This incident left nothing behind to delete.';
  if (incident.state !== 'failed')
    return `This incident is ${incident.state.replace(/_/g, ' ')}; its leftover can no longer be deleted from here.`;
  if (await deps.repo.lastEvent(incident.id, [DISCARDED]))
    return `\`${incident.failure.leftover}\` was already deleted.`;
  return null;
}

/**
 * An approver asks for the deletion of the half-made copy a failed restore left behind
 * (`failure.leftover`): never silent, and under the same approval rule as the restore itself
 * (`approvals.required` distinct approvers, never the requester; runbook 003 "Mandatory
 * pre-action checklist"). Each request is an event (`leftover_discard_approved`); the one that
 * completes the set queues the deletion job.
 * @throws AppError `incident_not_found`
 */
export async function approveDiscard(deps: IncidentDeps, incidentId: string, userId: string): Promise<DiscardOutcome> {
  const incident = await deps.repo.get(incidentId);
  if (!incident)
    throw new AppError({
      code: 'incident_not_found',
      message: `no incident ${incidentId}`,
      userMessage: 'This incident no longer exists.',
    });
  const service = resolveService(deps.services, incident.service);
  const refusal = await notDiscardable(deps, incident);
  if (refusal) return { kind: 'refused', message: refusal };
  if (userId === incident.requestedBy)
    return {
      kind: 'refused',
      message: 'You requested this restore, so you cannot approve deleting what it left. Two other approvers must.',
    };
  if (!(await isApprover(deps.directory, service, userId, incident)))
    return { kind: 'refused', message: words`You are not an approver for ${strong(service.name)}.` };

  const required = service.approvals.required;
  const before = await deps.repo.eventActors(incident.id, APPROVED);
  if (before.includes(userId)) return { kind: 'duplicate', approvals: before.length, required };
  await deps.repo.log(incident.id, APPROVED, userId, { leftover: incident.failure!.leftover });
  const approvals = before.length + 1;
  const leftover = incident.failure!.leftover!;
  if (approvals < required) {
    await deps.notifier.progress(incident, {
      kind: 'discard_approval_given',
      by: userId,
      leftover,
      count: approvals,
      required,
    });
    return { kind: 'recorded', approvals, required, queued: false };
  }
  const queued = await deps.jobs.discard(incident).then(
    () => true,
    (err: unknown) => {
      deps.logger.error({ err, incidentId }, 'discard approved but not queued');
      return false;
    },
  );
  await deps.notifier.progress(incident, {
    kind: 'discard_approved',
    approvers: [...before, userId],
    leftover,
    queued,
  });
  return { kind: 'recorded', approvals, required, queued };
}

/**
 * The `discard` job: deletes the leftover through the restorer (only a resource this incident
 * made), records `leftover_discarded` and says so; a failure is posted and the job retried.
 * @throws AppError from the restorer (retried by the queue)
 */
export async function runDiscard(deps: IncidentDeps, incidentId: string): Promise<void> {
  const incident = await deps.repo.get(incidentId);
  if (!incident || (await notDiscardable(deps, incident))) return;
  const service = resolveService(deps.services, incident.service);
  if ((await deps.repo.eventActors(incident.id, APPROVED)).length < service.approvals.required) return;
  const leftover = incident.failure!.leftover!;
  try {
    await deps
      .restorer(service)
      .discard(leftover, incident.id, (text) => deps.notifier.progress(incident, { kind: 'provider_progress', text }));
  } catch (err) {
    await deps.notifier.progress(incident, {
      kind: 'discard_failed',
      leftover,
      detail: isAppError(err) && err.userMessage ? err.userMessage : null,
    });
    throw err;
  }
  await deps.repo.log(incident.id, DISCARDED, BOT, { leftover });
  await deps.notifier.progress(incident, { kind: 'discard_done', leftover });
}
