import { AppError } from '../shared/errors.js';
import type { IncidentDeps } from './deps.js';
import type { Incident } from './incident.js';
import { resolveService } from './resolve-service.js';

/**
 * `/migrate close`: ends a failed incident once people have handled it by hand
 * (runbook 003 "Partial down failure"), so the service can have a new one.
 * Only the requester or an approver may close; only failed incidents can be closed
 * (others end through Reject or the rollback itself).
 * @throws AppError `incident_not_found`, `incident_close_refused`
 */
export async function closeIncident(deps: IncidentDeps, serviceName: string | undefined, userId: string): Promise<Incident> {
  const service = resolveService(deps.services, serviceName);
  const incident = await deps.repo.findOpenByService(service.name);
  if (!incident) {
    throw new AppError({ code: 'incident_not_found', message: `no open incident for ${service.name}`, userMessage: `*${service.name}* has no open incident.` });
  }
  if (userId !== incident.requestedBy && !service.approvals.approvers.includes(userId)) {
    throw new AppError({ code: 'incident_close_refused', message: `${userId} may not close`, userMessage: `Only the requester or an approver for *${service.name}* can close its incident.` });
  }
  if (incident.state !== 'failed') {
    throw new AppError({
      code: 'incident_close_refused',
      message: `incident is ${incident.state}`,
      userMessage: `The incident in <#${incident.channelId}> is ${incident.state.replace('_', ' ')}, not failed. Use the plan's Reject button to cancel it.`,
    });
  }
  const closed = await deps.repo.transition(incident.id, 'closed', userId);
  await deps.jobs.stopStatusUpdates(incident.id);
  await deps.notifier.progress(closed, `:lock: <@${userId}> closed this incident after the failure was handled by hand. A new \`/migrate rollback\` for *${service.name}* is possible again.`);
  return closed;
}
