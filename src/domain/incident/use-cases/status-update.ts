import { statusUpdateMinutes } from '../process/severity.js';
import type { IncidentDeps } from '../ports/deps.js';
import { approvalProgress } from './approval-progress.js';
import { resolveService } from './resolve-service.js';

const BOT = 'migrate-bot';

/**
 * The status-update job (runbook 003 "Status updates: every 15–30
 * minutes"). Posts the current state while the incident is open; once it has ended,
 * removes its own schedule and posts nothing. A tick less than half an interval after
 * the previous update (or the opening) is skipped (`too_soon`), and so is one after a
 * responder's `/migrate update` (`human_posted`).
 */
export async function postStatusUpdate(
  deps: IncidentDeps,
  incidentId: string,
): Promise<'posted' | 'stopped' | 'too_soon' | 'human_posted'> {
  const incident = await deps.repo.get(incidentId);
  if (
    !incident ||
    incident.state === 'resolved' ||
    incident.state === 'resolved_with_warnings' ||
    incident.state === 'cancelled'
  ) {
    await deps.jobs.stopStatusUpdates(incidentId);
    return 'stopped';
  }
  const service = resolveService(deps.services, incident.service);
  // BullMQ's `every` schedulers fire once at creation, and a restart may replay a tick:
  // skip a tick that comes less than half an interval after the incident opened or the last update.
  const last = await deps.repo.lastEventAt(incident.id, ['opened', 'status_update_posted', 'status_update_skipped']);
  const everyMs = statusUpdateMinutes(service, incident.severity) * 60_000;
  if (last && deps.clock.now().getTime() - last.getTime() < everyMs / 2) return 'too_soon';
  // A responder posted `/migrate update` since the last scheduled one: this tick stays quiet.
  const newest = await deps.repo.lastEvent(incident.id, [
    'status_update_posted',
    'status_update_skipped',
    'human_update',
  ]);
  if (newest?.type === 'human_update') {
    await deps.repo.log(incident.id, 'status_update_skipped', BOT, { reason: 'a responder posted an update' });
    return 'human_posted';
  }
  await deps.notifier.statusUpdate(
    incident,
    await approvalProgress(deps, incident, service),
    statusUpdateMinutes(service, incident.severity),
  );
  await deps.repo.log(incident.id, 'status_update_posted', BOT, { state: incident.state });
  return 'posted';
}

/**
 * Ends an incident's status updates once it has ended. Best effort: when the queue does not
 * answer, the next tick finds the incident ended and removes its own schedule.
 */
export async function endStatusUpdates(deps: IncidentDeps, incidentId: string): Promise<void> {
  await deps.jobs
    .stopStatusUpdates(incidentId)
    .catch((err: unknown) => deps.logger.warn({ err, incidentId }, 'status updates not stopped; they stop themselves'));
}
