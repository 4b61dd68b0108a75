import { utcSecondStamp } from '../../../shared/clock.js';
import { requireAccess } from './access.js';
import { isAppError } from '../../../shared/errors.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { IncidentNotice } from '../model/notices.js';
import type { OnDemandSnapshotRequest } from '../ports/job-queue.js';
import { resolveService } from './resolve-service.js';
import { sampleAtSnapshot } from './compare-options.js';

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
    await sampleAtSnapshot(deps, service, record);
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

/** What {@link requestSnapshot} did. */
export type SnapshotRequestOutcome =
  | { kind: 'waived'; service: string; reason: string }
  | { kind: 'queued'; service: string; name: string; provider: string; conversationId: string | null };

/**
 * `/migrate snapshot`: a requester of the service (services.yaml `access.requesters`) asks for an
 * on-demand snapshot; it is queued for {@link takeOnDemandSnapshot} under a name of the runbook's
 * pattern (`pre-rollback-<service>-<yyyymmdd-hhmmss>`, runbook 004 "Take Manual Backup"). A
 * service whose snapshots are waived gets the waiver back and nothing is queued.
 * @throws AppError `access_refused`, `command_unknown_service`, `job_queue_unreachable`
 */
export async function requestSnapshot(
  deps: IncidentDeps,
  input: { service: string | undefined; requestedBy: string; responseUrl?: string },
): Promise<SnapshotRequestOutcome> {
  const service = resolveService(deps.services, input.service);
  await requireAccess(deps, service, input.requestedBy, 'request', 'snapshot');
  if (service.snapshot.provider === 'none')
    return { kind: 'waived', service: service.name, reason: service.snapshot.waiver_reason };
  const name = `pre-rollback-${service.name}-${utcSecondStamp(deps.clock.now())}`;
  await deps.jobs.snapshot({
    service: service.name,
    requestedBy: input.requestedBy,
    name,
    ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}),
  });
  const open = await deps.repo.findOpenByService(service.name);
  return {
    kind: 'queued',
    service: service.name,
    name,
    provider: service.snapshot.provider,
    conversationId: open?.conversation?.id ?? null,
  };
}
