import { isAppError } from '../../../shared/errors.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { IncidentNotice } from '../model/notices.js';
import type { OnDemandSnapshotRequest } from '../ports/job-queue.js';
import { resolveService } from './resolve-service.js';

/**
 * The on-demand snapshot job (`/migrate snapshot`; runbook 004 "Take Manual Backup"):
 * takes a snapshot with the service's provider and reports progress and the result in
 * the open incident's channel, or to the requester through the command's response_url.
 * `report` also gets every notice (the CLI prints them in its own words).
 * @returns the snapshot, or null when it failed (the failure was reported)
 */
export async function takeOnDemandSnapshot(
  deps: IncidentDeps,
  req: OnDemandSnapshotRequest,
  report?: (notice: IncidentNotice) => Promise<void>,
): Promise<SnapshotRecord | null> {
  const service = resolveService(deps.services, req.service);
  const incident = await deps.repo.findOpenByService(service.name);
  const say = async (notice: IncidentNotice): Promise<void> => {
    await report?.(notice);
    if (incident?.conversation) await deps.notifier.progress(incident, notice);
    else if (req.responseUrl) await deps.notifier.reply(req.responseUrl, notice);
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
      (text) => say({ kind: 'provider_progress', text }),
    );
    if (incident) await deps.repo.log(incident.id, 'on_demand_snapshot', req.requestedBy, { ...record });
    await say({ kind: 'snapshot_taken', record, service: service.name, by: req.requestedBy });
    return record;
  } catch (err) {
    deps.logger.error({ err, service: service.name }, 'on-demand snapshot failed');
    await say({
      kind: 'snapshot_failed',
      name: req.name,
      service: service.name,
      detail: isAppError(err) && err.userMessage ? err.userMessage : null,
    });
    return null;
  }
}
