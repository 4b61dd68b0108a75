import { AppError } from '../../../shared/errors.js';
import { code, words } from '../../../shared/words.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import { proposedFollowUps, type FollowUp } from '../process/followup.js';
import { responderIncident } from './process-access.js';
import { resolveService } from './resolve-service.js';

/** The tracker's name for messages (`Jira`, `Linear`), or null when the service files no tickets. */
function trackerName(deps: IncidentDeps, incident: Pick<Incident, 'service'>): string | null {
  const f = resolveService(deps.services, incident.service).process.followups;
  return f ? (f.provider === 'jira' ? 'Jira' : 'Linear') : null;
}

/**
 * `/migrate followup "<text>" [@owner]`: records work to do after the incident (runbook 003
 * "Post-incident"), on the open incident or the service's latest one. With `followups:` in
 * services.yaml the ticket is filed at once (its link follows in the channel); without, it is a
 * checklist item in the channel and the postmortem.
 * @throws AppError `command_invalid` (an owner who is not an active member), `incident_not_found`, `access_refused`
 */
export async function addFollowUp(
  deps: IncidentDeps,
  input: { service?: string; userId: string; text: string; owner?: string },
): Promise<{ incident: Incident; followUp: FollowUp; tracker: string | null }> {
  const { incident } = await responderIncident(deps, input.service, input.userId, 'followup', { ended: true });
  if (input.owner && !(await deps.directory.isActiveUser(input.owner)))
    throw new AppError({
      code: 'command_invalid',
      message: `unknown owner ${input.owner}`,
      userMessage: words`${code(input.owner)} is not an active member of this workspace; mention the owner with @. Nothing was recorded.`,
    });
  const followUp = await deps.process.addFollowUp({
    incidentId: incident.id,
    text: input.text.trim(),
    owner: input.owner ?? null,
    createdBy: input.userId,
    state: 'open',
  });
  if (!followUp) throw new Error('a follow-up without a proposal key cannot be a duplicate');
  const tracker = trackerName(deps, incident);
  await deps.notifier.progress(incident, {
    kind: 'followup_added',
    by: input.userId,
    text: followUp.text,
    owner: followUp.owner,
    tracker,
  });
  if (tracker) await deps.integrations.fileTicket(incident, followUp.id);
  return { incident, followUp, tracker };
}

/**
 * At the end of an incident: runbook 003's post-incident tasks (postmortem, fix-forward
 * migration, a missing down, the snapshot's retention) are recorded as proposed follow-ups and
 * posted with one *Create* button each. Once per incident and task.
 */
export async function proposeFollowUps(deps: IncidentDeps, incident: Incident): Promise<FollowUp[]> {
  if (incident.kind !== 'rollback') return [];
  const added: FollowUp[] = [];
  for (const p of proposedFollowUps(incident)) {
    const f = await deps.process.addFollowUp({
      incidentId: incident.id,
      text: p.text,
      owner: null,
      createdBy: 'migrate-bot',
      slug: p.slug,
      state: 'proposed',
    });
    if (f) added.push(f);
  }
  if (added.length) await deps.notifier.followUps(incident, added, trackerName(deps, incident));
  return added;
}

/**
 * *Create* on a proposed follow-up (or again on one the tracker refused): it becomes an open
 * follow-up of the person who pressed, and its ticket is filed when a tracker is configured.
 * A second press changes nothing.
 * @returns the follow-up, or null when it was already taken
 * @throws AppError `incident_not_found`, `access_refused`, `followup_not_found`
 */
export async function createFollowUp(deps: IncidentDeps, followUpId: number, userId: string): Promise<FollowUp | null> {
  const found = await deps.process.getFollowUp(followUpId);
  const incident = found ? await deps.repo.get(found.incidentId) : null;
  if (!found || !incident)
    throw new AppError({
      code: 'followup_not_found',
      message: `follow-up ${followUpId} not found`,
      userMessage: 'That follow-up no longer exists. Nothing was changed.',
    });
  await responderIncident(deps, incident.service, userId, 'followup', { ended: true });
  const again = found.state === 'export_failed';
  const taken = await deps.process.updateFollowUp(followUpId, ['proposed', 'export_failed'], { state: 'open' }, userId);
  if (!taken) return null;
  const tracker = trackerName(deps, incident);
  await deps.notifier.progress(incident, {
    kind: 'followup_added',
    by: userId,
    text: taken.text,
    owner: taken.owner,
    tracker,
  });
  if (tracker) await deps.integrations.fileTicket(incident, taken.id, again ? deps.clock.now().getTime() : undefined);
  return taken;
}
