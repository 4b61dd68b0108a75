import { requireAccess } from './access.js';
import { code, strong, words } from '../../../shared/words.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { Restorer, RestoreCheck } from '../../snapshots/restorer.js';
import { formatBytes } from '../../triage/safe-value.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident, RestoreSpec } from '../model/incident.js';
import { assertNoOpenIncident, queuePreparation, startIncident } from './open-incident.js';
import { resolveService } from './resolve-service.js';

/** What `/migrate restore <snapshot-id> | --to <time> [--service NAME]` asks for. */
export interface OpenRestoreInput {
  service?: string;
  snapshotId?: string;
  /** Point in time (already validated as ISO-8601). */
  to?: Date;
  requestedBy: string;
  /** The command's response_url: the requester gets the channel link there once it exists. */
  responseUrl?: string;
}

/**
 * Opens a restore incident (runbook 003 "Restore from backup" and runbook 004
 * "Point-in-Time Recovery"): a channel, a plan card naming the NEW target, and the same
 * approvals as a rollback. The restore runs in the rollback queue once approved; the source
 * is never touched and the cut-over is left to people.
 * Before any channel or incident exists, the restorer checks the snapshot (exists, available,
 * of this service, intact) and that the target name is free; an unknown id is answered with
 * the service's recent snapshots.
 * @throws AppError `command_*`, `incident_already_open`, `restore_unsupported`, `restore_snapshot_unknown`,
 *   `restore_snapshot_foreign`, `snapshot_verification_failed`, `restore_target_exists`, `job_queue_unreachable` (nothing kept)
 */
export async function openRestore(deps: IncidentDeps, input: OpenRestoreInput): Promise<Incident> {
  const service = resolveService(deps.services, input.service);
  await requireAccess(deps, service, input.requestedBy, 'request', 'restore');
  const restorer = deps.restorer(service);
  if (input.to && !restorer.supportsPointInTime) {
    throw new AppError({
      code: 'restore_unsupported',
      message: `${service.snapshot.provider} has no point-in-time restore`,
      userMessage: words`Point-in-time restore needs an RDS instance; ${strong(service.name)} uses ${code(service.snapshot.provider)}. Restore a snapshot ID instead.`,
    });
  }
  if (input.to && input.to.getTime() > deps.clock.now().getTime()) {
    throw new AppError({
      code: 'command_invalid',
      message: 'restore time in the future',
      userMessage: '`--to` is in the future; give a past UTC time like `2026-11-21T03:00:00Z`.',
    });
  }
  await assertNoOpenIncident(deps, service, input.responseUrl);
  const spec: RestoreSpec = {
    ...(input.snapshotId ? { snapshotId: input.snapshotId } : {}),
    ...(input.to ? { to: input.to.toISOString() } : {}),
    target: restorer.targetName(deps.clock.now()),
  };
  await checkBeforeOpening(restorer, { snapshotId: spec.snapshotId, to: input.to, target: spec.target });
  return startIncident(
    deps,
    service,
    {
      kind: 'restore',
      restore: spec,
      service: service.name,
      migration: input.snapshotId ? `restore of ${input.snapshotId}` : `restore to ${spec.to}`,
      requestedBy: input.requestedBy,
      plan: [],
      responseUrl: input.responseUrl,
    },
    (incident) => queuePreparation(deps, service, incident),
  );
}

/** How many of a service's snapshots an unknown id is answered with. */
export const RECENT_SNAPSHOTS = 5;

/**
 * The restorer's read-only checks; an unknown snapshot id gets the service's newest snapshots
 * (id, time, size or status) so the person can pick the right one.
 * @throws AppError from {@link Restorer.check}, `restore_snapshot_unknown` with the list
 */
async function checkBeforeOpening(restorer: Restorer, req: RestoreCheck): Promise<void> {
  try {
    await restorer.check(req);
  } catch (err) {
    if (!isAppError(err, 'restore_snapshot_unknown')) throw err;
    const recent = await restorer.recent(RECENT_SNAPSHOTS).catch(() => []);
    const lines = recent.map(
      (r) =>
        `• \`${r.id}\` — ${r.createdAt ?? 'time unknown'} — ${r.sizeBytes !== undefined ? formatBytes(r.sizeBytes) : r.status}`,
    );
    throw new AppError({
      code: err.code,
      message: err.message,
      cause: err,
      details: { ...err.details, recent: recent.map((r) => r.id) },
      userMessage: words`${err.userMessage ?? err.message}\n${lines.length ? `Recent snapshots, newest first:\n${lines.join('\n')}` : words`This service has no snapshots yet: ${code('/migrate snapshot')} takes one.`}`,
    });
  }
}
