import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import type { Milestone } from '../process/lifecycle.js';
import { proposeFollowUps } from './followups.js';
import { resolvePages } from './paging.js';
import { endStatusUpdates } from './status-update.js';

/**
 * Records a lifecycle time (`recovered`, `approved`, …) once, now. Bookkeeping: a state database
 * that refuses it is logged and the incident goes on.
 */
export async function recordMilestone(deps: IncidentDeps, incidentId: string, milestone: Milestone): Promise<void> {
  await deps.process
    .markMilestone(incidentId, milestone, deps.clock.now())
    .catch((err: unknown) => deps.logger.warn({ err, incidentId, milestone }, 'lifecycle time not recorded'));
}

/**
 * Everything that ends with an incident, from every way it ends (resolution, rejection, close,
 * a restore done, restore-instead): its status updates stop, the alerts it raised are resolved
 * (PagerDuty `resolve`), its resolution time is recorded, and a resolved rollback gets runbook
 * 003's post-incident tasks proposed as follow-ups. Pages and proposals never fail the end:
 * their trouble is logged.
 */
export async function incidentEnded(deps: IncidentDeps, incident: Incident): Promise<void> {
  await endStatusUpdates(deps, incident.id);
  const resolved = incident.state === 'resolved' || incident.state === 'resolved_with_warnings';
  if (resolved) await recordMilestone(deps, incident.id, 'resolved');
  await resolvePages(deps, incident, 'all').catch((err: unknown) =>
    deps.logger.warn({ err, incidentId: incident.id }, 'pages not resolved'),
  );
  if (resolved)
    await proposeFollowUps(deps, incident).catch((err: unknown) =>
      deps.logger.warn({ err, incidentId: incident.id }, 'follow-ups not proposed'),
    );
}
