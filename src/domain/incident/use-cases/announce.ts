import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import type { StatusChange } from '../model/notices.js';
import { resolveService } from './resolve-service.js';

/**
 * Tells stakeholders outside the incident channel (`announce_channel` of the service, or the
 * file's default) about a status change — the initial notice, the rollback starting, the
 * resolution, a failure, a cancellation — in one line, with a link to the incident channel
 * added on delivery. Nothing more goes there. No channel configured: nothing is stored.
 */
export async function announceStatus(deps: IncidentDeps, incident: Incident, change: StatusChange): Promise<void> {
  if (!resolveService(deps.services, incident.service).announce_channel) return;
  await deps.notifier.announce(incident, change);
}
