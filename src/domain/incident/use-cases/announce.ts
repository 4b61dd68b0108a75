import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import type { StatusChange } from '../model/notices.js';
import { resolveService } from './resolve-service.js';

/**
 * Tells stakeholders outside the incident channel (`announce_channel` of the service, or the
 * file's default) about a status change — opened, the rollback starting, the resolution, a
 * failure, a cancellation, a responder's update — in one line, each once, with a link to the incident channel
 * added on delivery. Nothing more goes there. No channel configured, or a private incident: nothing is stored.
 */
export async function announceStatus(deps: IncidentDeps, incident: Incident, change: StatusChange): Promise<void> {
  // A private incident stays out of the stakeholders' channel (its people are invited to it).
  if (incident.private) return;
  if (!resolveService(deps.services, incident.service).announce_channel) return;
  await deps.notifier.announce(incident, change);
}
