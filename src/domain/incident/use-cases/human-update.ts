import { strong, words } from '../../../shared/words.js';
import { AppError } from '../../../shared/errors.js';
import { announceStatus } from './announce.js';
import { isApprover } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import { resolveService } from './resolve-service.js';

/**
 * `/migrate update <text>`: a responder's own status update (runbook 003 "Status updates …
 * with progress and any issues encountered"), posted in the incident channel and to the
 * stakeholder channel, recorded in the event log; the next scheduled update is skipped, since
 * people just heard from a human. By the requester, an approver or an `invite:` member.
 * @throws AppError `incident_not_found`, `incident_close_refused` (not one of those people)
 */
export async function postHumanUpdate(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
  text: string,
): Promise<Incident> {
  const service = resolveService(deps.services, serviceName);
  const incident = await deps.repo.findOpenByService(service.name);
  if (!incident)
    throw new AppError({
      code: 'incident_not_found',
      message: `no open incident for ${service.name}`,
      userMessage: words`${strong(service.name)} has no open incident to post an update to.`,
    });
  const allowed =
    userId === incident.requestedBy ||
    service.invite.includes(userId) ||
    (await isApprover(deps.directory, service, userId, incident));
  if (!allowed) {
    throw new AppError({
      code: 'incident_close_refused',
      message: `${userId} may not post updates`,
      userMessage: words`Only the requester, an approver or an invited responder of ${strong(service.name)} can post its status updates.`,
    });
  }
  await deps.repo.log(incident.id, 'human_update', userId, { text });
  await deps.notifier.progress(incident, { kind: 'human_update', by: userId, text });
  await announceStatus(deps, incident, { kind: 'human_update', by: userId, text });
  return incident;
}
