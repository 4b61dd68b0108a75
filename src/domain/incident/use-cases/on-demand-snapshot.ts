import { isAppError } from '../../../shared/errors.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { OnDemandSnapshotRequest } from '../ports/job-queue.js';
import { resolveService } from './resolve-service.js';

/**
 * The on-demand snapshot job (`/migrate snapshot`; runbook 004 "Take Manual Backup"):
 * takes a snapshot with the service's provider and reports progress and the result in
 * the open incident's channel, or to the requester through the command's response_url.
 * `report` also gets every line (the CLI prints them).
 * @returns the snapshot, or null when it failed (the failure was reported)
 */
export async function takeOnDemandSnapshot(
  deps: IncidentDeps,
  req: OnDemandSnapshotRequest,
  report?: (text: string) => Promise<void>,
): Promise<SnapshotRecord | null> {
  const service = resolveService(deps.services, req.service);
  const incident = await deps.repo.findOpenByService(service.name);
  const say = async (text: string): Promise<void> => {
    await report?.(text);
    if (incident?.channelId) await deps.notifier.progress(incident, text);
    else if (req.responseUrl) await deps.notifier.reply(req.responseUrl, text);
  };
  try {
    const record = await deps.snapshotProvider(service).create(
      {
        incidentId: incident?.id ?? 'on-demand',
        service: service.name,
        migration: incident?.migration ?? 'none',
        requestedBy: req.requestedBy,
        name: req.name,
      },
      say,
    );
    if (incident) await deps.repo.log(incident.id, 'on_demand_snapshot', req.requestedBy, { ...record });
    await say(
      `:camera: On-demand snapshot \`${record.id}\` of *${service.name}* is ${record.status}${record.arn ? ` (\`${record.arn}\`)` : ''}${record.location ? ` at \`${record.location}\`` : ''}, requested by <@${req.requestedBy}>.`,
    );
    return record;
  } catch (err) {
    deps.logger.error({ err, service: service.name }, 'on-demand snapshot failed');
    await say(
      `:red_circle: Snapshot \`${req.name}\` of *${service.name}* failed: ${isAppError(err) && err.userMessage ? err.userMessage : 'see the bot logs'}`,
    );
    return null;
  }
}
