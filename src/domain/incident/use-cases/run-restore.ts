import { approvalProgress } from './approval-progress.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';
import type { RollbackRun } from '../model/rollback-run.js';
import { incidentEnded, recordMilestone } from './incident-lifecycle.js';
import { postTimeline } from './post-timeline.js';

const BOT = 'migrate-bot';

/** Did this incident create `target` in an earlier attempt, and not remove it since (event log)? */
async function ownsTarget(deps: IncidentDeps, incidentId: string, target: string): Promise<boolean> {
  const last = await deps.repo.lastEvent(incidentId, ['restore_target_created', 'restore_target_removed']);
  return last?.type === 'restore_target_created' && last.data.target === target;
}

/**
 * The approved restore (runbook 003 "Restore from backup"): restores to the NEW target
 * named when the incident opened (a retried job reuses it), posts progress, then the
 * endpoint and runbook 003's cut-over steps. The cut-over itself is left to people.
 *
 * The event log records each target this incident created (`restore_target_created`) and
 * removed (`restore_target_removed`): only a target the incident created is ever dropped
 * (a half-made pg_dump database), and a retried job that finds its own target starts it again.
 * @throws AppError from the restorer (retryable ones make the job wait and retry)
 */
export async function runRestore(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<RollbackRun> {
  const spec = incident.restore;
  if (!spec) return { kind: 'skipped', reason: 'restore incident without a restore spec' };
  let current = incident;
  if (current.state === 'awaiting_approval')
    current = await deps.repo.transition(current.id, 'rollback_started', BOT, { restore: true });
  await recordMilestone(deps, current.id, 'rollbackStarted');
  const outcome = await deps.restorer(service).restore(
    {
      incidentId: current.id,
      requestedBy: current.requestedBy,
      snapshotId: spec.snapshotId,
      to: spec.to ? new Date(spec.to) : undefined,
      target: spec.target,
    },
    {
      ownsTarget: await ownsTarget(deps, current.id, spec.target),
      targetCreated: async (target) => {
        await deps.repo.log(current.id, 'restore_target_created', BOT, { target });
      },
      targetRemoved: async (target) => {
        await deps.repo.log(current.id, 'restore_target_removed', BOT, { target });
      },
    },
    (text) => deps.notifier.progress(current, { kind: 'provider_progress', text }),
  );
  const restore = {
    ...spec,
    result: {
      identifier: outcome.identifier,
      endpoint: outcome.endpoint,
      elapsedMs: outcome.elapsedMs,
      ...(outcome.created ? { created: outcome.created } : {}),
    },
  };
  await deps.repo.setRestore(current.id, restore);
  const resolved = await deps.repo.transition(current.id, 'rollback_succeeded', BOT, { restored: outcome.identifier });
  const note = outcome.created?.length
    ? `Also created for the copy to be usable: ${outcome.created.map((c) => `\`${c}\``).join(', ')}.`
    : undefined;
  await deps.notifier.updatePlanCard({ ...resolved, restore }, await approvalProgress(deps, resolved, service));
  await deps.notifier.restoreComplete({ ...resolved, restore }, note);
  await recordMilestone(deps, current.id, 'recovered');
  await incidentEnded(deps, resolved);
  await postTimeline(deps, { ...resolved, restore }, service);
  return { kind: 'resolved' };
}
