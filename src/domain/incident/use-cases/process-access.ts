import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import { code, strong, words } from '../../../shared/words.js';
import { isApprover } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import { mayAct } from './access.js';
import { resolveService } from './resolve-service.js';

/**
 * The incident a responder acts on with `/migrate sev|role|followup|impact-started`: the
 * service's open incident, or with `ended: true` its latest one (follow-ups are recorded after
 * the end too). Responders are the requester, the commander, the comms lead, an approver, an
 * `invite:` member, or anyone in `access.requesters`.
 * @throws AppError `incident_not_found`, `access_refused` (saying who may; nothing changed)
 */
export async function responderIncident(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
  command: string,
  options: { ended?: boolean } = {},
): Promise<{ incident: Incident; service: ServiceConfig }> {
  const service = resolveService(deps.services, serviceName);
  const incident =
    (await deps.repo.findOpenByService(service.name)) ??
    (options.ended ? await deps.repo.latestByService(service.name) : null);
  if (!incident)
    throw new AppError({
      code: 'incident_not_found',
      message: `no ${options.ended ? '' : 'open '}incident for ${service.name}`,
      userMessage: words`${strong(service.name)} has no ${options.ended ? '' : 'open '}incident. Nothing was changed.`,
    });
  const responder =
    [incident.requestedBy, incident.roles.commander, incident.roles.comms].includes(userId) ||
    service.invite.includes(userId) ||
    (await isApprover(deps.directory, service, userId, incident)) ||
    (await mayAct(deps, service, userId, 'request'));
  if (!responder) {
    deps.logger.warn({ event: 'access_refused', user: userId, command, service: service.name }, 'access_refused');
    throw new AppError({
      code: 'access_refused',
      message: `${userId} may not ${command} on ${service.name}`,
      details: { command, action: 'respond', service: service.name },
      userMessage: words`You may not run ${code(`/migrate ${command}`)} on ${strong(service.name)}: responders are the requester, the commander, the comms lead, approvers, invited people and ${code('access.requesters')}. Nothing was changed.`,
    });
  }
  return { incident, service };
}
