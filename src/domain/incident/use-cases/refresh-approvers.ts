import { type Incident, shortId } from '../model/incident.js';
import { AppError } from '../../../shared/errors.js';
import { strong, words } from '../../../shared/words.js';
import { isApprover, readApproverRoster } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import { resolveService } from './resolve-service.js';

/**
 * `/migrate refresh-approvers`: an approver of the open incident (by its current roster) has the
 * bot read the service's approvers again — listed users and user-group members now — for example
 * after the on-call rota changed. Who was added and removed is logged (`approvers_refreshed`) and
 * told in the channel. Nobody becomes an approver of an incident by joining a group quietly.
 * @throws AppError `incident_not_found` (no open incident), `approvers_refresh_refused` (not an approver)
 */
export async function refreshApprovers(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
): Promise<{ incident: Incident; added: string[]; removed: string[] }> {
  const service = resolveService(deps.services, serviceName);
  const incident = await deps.repo.findOpenByService(service.name);
  if (!incident)
    throw new AppError({
      code: 'incident_not_found',
      message: `no open incident for ${service.name}`,
      userMessage: words`${strong(service.name)} has no open incident whose approvers could be refreshed.`,
    });
  if (!(await isApprover(deps.directory, service, userId, incident)))
    throw new AppError({
      code: 'approvers_refresh_refused',
      message: `${userId} is not an approver of incident ${shortId(incident.id)}`,
      userMessage: words`Only an approver of this incident can refresh its approvers. Nothing changed.`,
    });
  const before = new Set(incident.approvers?.users ?? []);
  const roster = await readApproverRoster(deps.directory, service, deps.clock.now());
  const added = roster.users.filter((u) => !before.has(u));
  const removed = [...before].filter((u) => !roster.users.includes(u));
  await deps.repo.setApprovers(incident.id, roster);
  await deps.repo.log(incident.id, 'approvers_refreshed', userId, { added, removed, asOf: roster.asOf });
  const refreshed = { ...incident, approvers: roster };
  await deps.notifier.progress(refreshed, {
    kind: 'approvers_refreshed',
    by: userId,
    added,
    removed,
    asOf: roster.asOf,
  });
  return { incident: refreshed, added, removed };
}
