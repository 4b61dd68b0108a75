import type { IncidentDeps } from '../ports/deps.js';
import { resolveService } from './resolve-service.js';

/**
 * The archive job: `archive_after_minutes` after an incident ended, says so in the channel and
 * archives it (its history stays searchable). An incident that is open again, or resolved with
 * warnings not yet acknowledged, keeps its channel.
 * @returns whether the channel was archived
 */
export async function archiveChannel(deps: IncidentDeps, incidentId: string): Promise<boolean> {
  const incident = await deps.repo.get(incidentId);
  if (!incident?.conversation?.id || incident.endedAt === null || incident.state === 'resolved_with_warnings')
    return false;
  const minutes = resolveService(deps.services, incident.service).archive_after_minutes;
  await deps.notifier.progress(incident, { kind: 'channel_archiving', afterMinutes: minutes ?? null });
  await deps.notifier.archiveChannel(incident);
  await deps.repo.log(incident.id, 'channel_archived', 'migrate-bot', { channelId: incident.conversation?.id });
  return true;
}
