import type { ServiceConfig } from '../config/services.js';
import type { IncidentDeps } from './deps.js';
import { shortId, type Incident } from './incident.js';
import { timelineMarkdown } from './timeline.js';

/** The incident's ticket link from `ticket_url` in services.yaml, or null when none is configured. */
export function ticketUrl(service: Pick<ServiceConfig, 'ticket_url' | 'name'>, incident: Pick<Incident, 'id'>): string | null {
  if (!service.ticket_url) return null;
  return service.ticket_url.replace(/\{incident\}/g, incident.id).replace(/\{short_id\}/g, shortId(incident.id)).replace(/\{service\}/g, encodeURIComponent(service.name));
}

/**
 * Builds the timeline and postmortem draft from the event log and posts it as a file in the
 * incident channel through the outbox: at resolution, at close, and on `/migrate timeline`.
 * @returns the Markdown
 */
export async function postTimeline(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<string> {
  const markdown = timelineMarkdown(incident, await deps.repo.listEvents(incident.id), { ticketUrl: ticketUrl(service, incident) });
  await deps.notifier.timeline(incident, markdown);
  return markdown;
}
