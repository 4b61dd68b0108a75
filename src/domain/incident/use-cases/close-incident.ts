import { code, quote, strong, user, words } from '../../../shared/words.js';
import { announceStatus } from './announce.js';
import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import { approvalProgress } from './approvals.js';
import { failIncident } from './fail-incident.js';
import type { Incident, StepOutcome } from '../model/incident.js';
import { resolveService } from './resolve-service.js';
import { isApprover } from '../ports/approvers.js';
import { postTimeline } from './post-timeline.js';
import { incidentEnded } from './incident-lifecycle.js';

/** What `/migrate close` did. */
export type CloseOutcome =
  /** Ended before the rollback started (`cancelled`), or a failed incident closed. */
  | { kind: 'closed'; incident: Incident }
  /** A rollback job is running: it stops after its current step (or at once, `force`) and the incident fails. */
  | { kind: 'stopping'; incident: Incident; force: boolean }
  /** A `rolling_back` incident whose job is gone: failed now with what the tracking table shows. */
  | { kind: 'failed'; incident: Incident };

/**
 * The service's open incident, checked that `userId` may act on it (requester or approver).
 * @throws AppError `incident_not_found`, `incident_close_refused`
 */
export async function openIncidentFor(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
  verb: string,
): Promise<{ incident: Incident; service: ServiceConfig }> {
  const service = resolveService(deps.services, serviceName);
  // An incident resolved with warnings has ended, but `/migrate close` is how it is acknowledged.
  const incident =
    (await deps.repo.findOpenByService(service.name)) ??
    (verb === 'close' ? await deps.repo.latestByService(service.name, ['resolved_with_warnings']) : null);
  if (!incident) {
    throw new AppError({
      code: 'incident_not_found',
      message: `no open incident for ${service.name}`,
      userMessage: words`${strong(service.name)} has no open incident.`,
    });
  }
  if (userId !== incident.requestedBy && !(await isApprover(deps.directory, service, userId, incident))) {
    throw new AppError({
      code: 'incident_close_refused',
      message: `${userId} may not ${verb}`,
      userMessage: words`Only the requester or an approver for ${strong(service.name)} can ${verb} its incident.`,
    });
  }
  return { incident, service };
}

/**
 * `/migrate close [--reason "…"]` — the way out of every open state (runbook 003 "Partial
 * down failure": people take over), by the requester or an approver, logged with who and why:
 *  - before the rollback starts (`opened`, `snapshotting`, `awaiting_approval`): cancels it;
 *    nothing touched the database;
 *  - `rolling_back` with its job alive: asks the worker to stop after the current step;
 *    with `force` (approvers only: a hung step, runbook 000 "Issue: Migration timeout"), the
 *    running statement is cancelled within a second or so and the step's transaction rolls
 *    back; the job then fails the incident with the steps that committed;
 *  - `rolling_back` with no live job (a crashed worker, a lost job): fails it now with
 *    the steps the tracking table shows done;
 *  - `failed`: closes it once people handled it, so the service can have a new incident;
 *  - `resolved_with_warnings`: acknowledges the failed verification checks; it becomes `resolved`.
 * @throws AppError `incident_not_found`, `incident_close_refused` (also: `force` by a non-approver)
 */
export async function closeIncident(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: string,
  reason?: string,
  options: { force?: boolean } = {},
): Promise<CloseOutcome> {
  const { incident, service } = await openIncidentFor(deps, serviceName, userId, 'close');
  const force = options.force === true;
  if (force && !(await isApprover(deps.directory, service, userId, incident))) {
    throw new AppError({
      code: 'incident_close_refused',
      message: `${userId} may not close --force`,
      userMessage: words`Only an approver for ${strong(service.name)} can stop a running step (${code('close --force')}). ${code('/migrate close')} stops the rollback after the step in progress.`,
    });
  }
  if (incident.state === 'resolved_with_warnings') {
    const acknowledged = await deps.repo.transition(incident.id, 'acknowledged', userId, { reason: reason ?? null });
    await deps.notifier.progress(acknowledged, { kind: 'warnings_acknowledged', by: userId, reason: reason ?? null });
    await postTimeline(deps, acknowledged, service);
    return { kind: 'closed', incident: acknowledged };
  }
  if (incident.state === 'rolling_back') {
    // Queue unreachable: assume the job may be alive, so the stop request is honoured between steps.
    const states = await deps.jobs.states(incident).catch(() => ({ rollback: 'active' }) as const);
    await deps.repo.log(incident.id, 'stop_requested', userId, {
      by: userId,
      reason: reason ?? null,
      attempt: incident.attempt,
      force,
    });
    if (states.rollback === 'active' || states.rollback === 'waiting' || states.rollback === 'delayed') {
      await deps.notifier.progress(incident, { kind: 'stop_requested', by: userId, reason: reason ?? null, force });
      return { kind: 'stopping', incident, force };
    }
    const failed = await failIncident(
      deps,
      incident.id,
      {
        code: 'rollback_stopped',
        message: words`${user(userId)} closed the rollback, whose job was no longer running${reason ? words`: ${quote(reason)}` : ''}.`,
      },
      { steps: await stepsFromTrackingTable(deps, incident, service), actor: userId },
    );
    return { kind: 'failed', incident: failed ?? incident };
  }
  const closed = await deps.repo.transition(incident.id, 'closed', userId, { reason: reason ?? null });
  if (incident.state !== 'failed')
    await deps.notifier.updatePlanCard(closed, await approvalProgress(deps, closed, service)); // the buttons go
  await deps.notifier.cancelled(closed, userId, reason);
  await incidentEnded(deps, closed);
  await postTimeline(deps, closed, service);
  await announceStatus(deps, closed, { kind: incident.state === 'failed' ? 'closed' : 'cancelled' });
  return { kind: 'closed', incident: closed };
}

/**
 * Which planned steps committed, from the tracking table (a reverted migration is no longer
 * listed); the incident's recorded steps when the database cannot be read.
 */
export async function stepsFromTrackingTable(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
): Promise<StepOutcome[]> {
  const tool = deps.migrationTool(service);
  try {
    const applied = new Set((await tool.listApplied()).map((m) => m.name));
    return incident.plan.map((s) => {
      const recorded = incident.steps.find((o) => o.migration === s.migration);
      return applied.has(s.migration)
        ? { migration: s.migration, status: 'not_run' }
        : {
            migration: s.migration,
            status: 'done',
            ...(recorded?.durationMs ? { durationMs: recorded.durationMs } : {}),
          };
    });
  } catch {
    return incident.steps;
  } finally {
    await tool.close().catch(() => undefined);
  }
}
