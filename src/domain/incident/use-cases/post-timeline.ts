import type { ServiceConfig } from '../../../config/services.js';
import type { IncidentDeps } from '../ports/deps.js';
import { shortId, type Incident } from '../model/incident.js';
import { timelineMarkdown } from '../model/timeline.js';

/**
 * The incident's ticket link: its first follow-up filed in the tracker (runbook 002's `Ticket:`),
 * else `ticket_url` of services.yaml filled in, else null.
 */
export function ticketUrl(
  service: Pick<ServiceConfig, 'ticket_url' | 'name'>,
  incident: Pick<Incident, 'id'> & { ticket?: Incident['ticket'] },
): string | null {
  if (incident.ticket?.url) return incident.ticket.url;
  if (!service.ticket_url) return null;
  return service.ticket_url
    .replace(/\{incident\}/g, incident.id)
    .replace(/\{short_id\}/g, shortId(incident.id))
    .replace(/\{service\}/g, encodeURIComponent(service.name));
}

/** Once an incident ended, queues the channel's archiving after `archive_after_minutes` (when set). Best effort. */
async function scheduleArchive(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<void> {
  if (!service.archive_after_minutes || incident.endedAt === null || incident.state === 'resolved_with_warnings')
    return;
  await deps.jobs
    .archive(incident, service.archive_after_minutes * 60_000)
    .catch((err: unknown) => deps.logger.warn({ err, incidentId: incident.id }, 'channel archive not scheduled'));
}

/**
 * Builds the timeline and postmortem draft from the event log and posts it as a file in the
 * incident channel through the outbox: at resolution, at close, and on `/migrate timeline`.
 * @returns the Markdown
 */
export async function postTimeline(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<string> {
  const [events, followUps] = await Promise.all([
    deps.repo.listEvents(incident.id),
    deps.process.listFollowUps(incident.id),
  ]);
  const markdown = timelineMarkdown(incident, events, { ticketUrl: ticketUrl(service, incident), followUps });
  // Logged first: the summary redrawn after the file's delivery then ticks "documentation completed".
  await deps.repo.log(incident.id, 'timeline_posted', 'migrate-bot', { bytes: Buffer.byteLength(markdown) });
  await deps.notifier.timeline(incident, markdown);
  await scheduleArchive(deps, incident, service);
  return markdown;
}
