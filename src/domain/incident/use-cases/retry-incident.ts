import { statusUpdateMinutes } from '../process/severity.js';
import { code, conversation, strong, words } from '../../../shared/words.js';
import type { PlanStep } from '../../rollback/plan.js';
import type { PlanBasis } from '../../rollback/plan-digest.js';
import { currentPlan, expectedSnapshotId } from '../model/plan-basis.js';
import { AppError } from '../../../shared/errors.js';
import { openIncidentFor } from './close-incident.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident } from '../model/incident.js';

/**
 * `/migrate retry` — a failed incident starts a new round (runbook 003 "Partial down
 * failure": once the cause is handled, try again with fresh approvals): re-reads the
 * tracking table, re-plans the incident's migrations that are still applied (newest first,
 * down to the incident's target), clears the old round's approvals, steps and snapshot,
 * and queues triage, a new plan card and a new snapshot (`…-r<attempt>`). The old approvals
 * do not carry over: the database is not what they approved any more.
 * @throws AppError `incident_not_found`, `incident_close_refused` (not requester or approver),
 *   `incident_retry_refused` (not failed, or nothing left to roll back), `service_db_unreachable`,
 *   `job_queue_unreachable` (the new round is recorded; the reconciler queues it)
 */
export async function retryIncident(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
): Promise<Incident> {
  const { incident, service } = await openIncidentFor(deps, serviceName, userId, 'retry');
  if (incident.state !== 'failed') {
    throw new AppError({
      code: 'incident_retry_refused',
      message: `incident is ${incident.state}`,
      userMessage: words`The incident${incident.conversation ? words` in ${conversation(incident.conversation.id)}` : ''} is ${incident.state.replace(/_/g, ' ')}, not failed; there is nothing to retry.`,
    });
  }
  if (incident.kind === 'unarchive')
    throw new AppError({
      code: 'incident_retry_refused',
      message: 'an unarchive is not retried',
      userMessage: words`An unarchive is not retried: close it with ${code('/migrate close --reason "…"')}, then ${code('/migrate unarchive')} again makes a plan from the archive and the tables as they are now.`,
    });
  let plan: PlanStep[] = [];
  let basis: PlanBasis | null = null;
  if (incident.kind === 'rollback') {
    const tool = deps.migrationTool(service);
    try {
      ({ plan, basis } = await currentPlan(
        tool,
        incident,
        expectedSnapshotId({ ...incident, attempt: incident.attempt + 1 }, service),
      ));
      if (plan.length === 0) {
        throw new AppError({
          code: 'incident_retry_refused',
          message: 'no planned migration is still applied',
          userMessage: words`None of this incident's migrations is still applied on ${strong(service.name)}: there is nothing left to roll back. Close it with ${code('/migrate close --reason "…"')}.`,
        });
      }
    } finally {
      await tool.close().catch(() => undefined);
    }
  }
  const round = await deps.repo.startNewRound(
    incident.id,
    plan,
    userId,
    { previousFailure: incident.failure?.code ?? null },
    basis,
  );
  await deps.notifier.progress(round, {
    kind: 'round_started',
    by: userId,
    attempt: round.attempt,
    steps: plan.length,
    restoreTarget: incident.kind === 'restore' ? (round.restore?.target ?? '?') : null,
    approvalsRequired: service.approvals.required,
  });
  await deps.jobs.prepare(round);
  await deps.jobs
    .startStatusUpdates(round.id, statusUpdateMinutes(service, round.severity))
    .catch((err: unknown) => deps.logger.warn({ err }, 'status updates not restarted'));
  return round;
}
