import { type WordsLike, code, strong, words } from '../../../shared/words.js';
import { AppError } from '../../../shared/errors.js';
import { approvalProgress } from './approvals.js';
import { isApprover } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import { APPROVABLE_STATES, type Incident } from '../model/incident.js';
import { openRestore } from './open-restore.js';
import { resolveService } from './resolve-service.js';
import { incidentEnded } from './incident-lifecycle.js';

/** What *Restore instead* did. */
export type RestoreInsteadOutcome = { kind: 'opened'; restore: Incident } | { kind: 'refused'; message: WordsLike };

/**
 * The plan card's *Restore instead* (runbook 003, Option B: for destructive or irreversible
 * migrations, restore the snapshot to a NEW instance rather than roll back): by the requester
 * or an approver, once the incident's snapshot is available. The restorer's read-only checks
 * run first, so a snapshot that cannot be restored leaves the rollback incident as it was;
 * then the rollback incident ends as cancelled (nothing touched the database) and a restore
 * incident opens with the same snapshot, needing its own approvals.
 * @throws AppError `incident_not_found`, the restorer's check errors, `job_queue_unreachable`
 */
export async function restoreInstead(
  deps: IncidentDeps,
  incidentId: string,
  userId: string,
  responseUrl?: string,
): Promise<RestoreInsteadOutcome> {
  const incident = await deps.repo.get(incidentId);
  if (!incident)
    throw new AppError({
      code: 'incident_not_found',
      message: `no incident ${incidentId}`,
      userMessage: 'This incident no longer exists.',
    });
  const service = resolveService(deps.services, incident.service);
  if (incident.kind !== 'rollback' || !APPROVABLE_STATES.includes(incident.state)) {
    return {
      kind: 'refused',
      message: `This incident is ${incident.state.replace(/_/g, ' ')}; it can no longer be turned into a restore.`,
    };
  }
  if (userId !== incident.requestedBy && !(await isApprover(deps.directory, service, userId, incident))) {
    return {
      kind: 'refused',
      message: words`Only the requester or an approver for ${strong(service.name)} can choose a restore instead.`,
    };
  }
  const snapshot = incident.snapshot;
  if (!snapshot || snapshot.provider === 'none' || snapshot.status !== 'available') {
    return {
      kind: 'refused',
      message:
        service.snapshot.provider === 'none'
          ? words`${strong(service.name)} takes no snapshots (waived in services.yaml), so there is nothing of this incident to restore. Use ${code('/migrate restore ‹snapshot-id›')} with an older backup.`
          : words`The incident's snapshot is not available yet. Press ${strong('Restore instead')} again once the initial notice says it is saved. Nothing changed.`,
    };
  }
  const restorer = deps.restorer(service);
  await restorer.check({ snapshotId: snapshot.id, target: restorer.targetName(deps.clock.now()) });

  const reason = `restore snapshot ${snapshot.id} to a new instance instead (runbook 003, Option B)`;
  const closed = await deps.repo.transition(incident.id, 'closed', userId, { reason, restoreInstead: true });
  await deps.notifier.updatePlanCard(closed, await approvalProgress(deps, closed, service));
  await deps.notifier.cancelled(closed, userId, reason);
  await incidentEnded(deps, closed);
  const restore = await openRestore(deps, {
    service: service.name,
    snapshotId: snapshot.id,
    requestedBy: userId,
    responseUrl,
  });
  return { kind: 'opened', restore };
}
