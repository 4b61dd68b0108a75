import type { ServiceConfig } from '../../../config/services.js';
import type { VerificationReport } from '../../verify/verification.js';
import { rollbackEta } from '../model/eta.js';
import type { Incident, StepOutcome } from '../model/incident.js';
import type { RehearsalResult } from '../model/rehearsal-policy.js';
import type { RollbackRun } from '../model/rollback-run.js';
import type { IncidentDeps } from '../ports/deps.js';
import { announceStatus } from './announce.js';
import { approvalProgress } from './approvals.js';
import { postTimeline } from './post-timeline.js';
import { incidentEnded, recordMilestone } from './incident-lifecycle.js';

/**
 * The two moments of a rollback people are told about beyond its steps: it starts (runbook 003's
 * initial notice, with an ETA from the plan) and it is resolved (the resolution, the plan card's
 * outcome, the timeline, the stakeholders' line).
 */

const BOT = 'migrate-bot';

/** The downs ran and the tracking table agrees: what the resolution needs, recorded after the lock is released. */
export interface Verified {
  kind: 'verified';
  incident: Incident;
  outcomes: StepOutcome[];
  verification: VerificationReport;
}

/**
 * Moves an approved incident to `rolling_back` and says so: runbook 003's initial notice (never
 * before approval), its ETA from a passed rehearsal of this plan or the step count, and the
 * stakeholders' "started" line.
 * @returns the incident as it is now
 */
export async function startRollback(deps: IncidentDeps, incident: Incident): Promise<Incident> {
  const current = await deps.repo.transition(incident.id, 'rollback_started', BOT);
  await recordMilestone(deps, incident.id, 'rollbackStarted');
  const rehearsed = await deps.repo.lastEvent(current.id, ['rehearsal_done']);
  await deps.notifier.initialNotice(
    current,
    current.snapshot?.provider === 'none' ? null : current.snapshot,
    rollbackEta(current, rehearsed ? (rehearsed.data as unknown as RehearsalResult) : null),
  );
  await announceStatus(deps, current, { kind: 'rollback_started', steps: current.plan.length });
  return current;
}

/**
 * Records the resolution once the rollback lock is released, so that a resolved incident never
 * still holds the tool's lock (a deploy right after "Rollback complete." finds it free): the
 * transition with the checks, the resolution, the end of status updates, the timeline and the
 * stakeholder status.
 */
export async function resolveRollback(
  deps: IncidentDeps,
  done: Verified,
  service: ServiceConfig,
  started: number,
): Promise<RollbackRun> {
  const { incident, outcomes, verification } = done;
  const summary = {
    head: verification.head,
    checks: verification.checks.map((c) => ({
      name: c.name,
      status: c.status,
      durationMs: c.durationMs,
      problems: c.problems.slice(0, 20),
    })),
  };
  const resolved = await deps.repo.transition(
    incident.id,
    verification.passed ? 'rollback_succeeded' : 'verified_with_warnings',
    BOT,
    summary,
  );
  await deps.notifier.updatePlanCard({ ...resolved, steps: outcomes }, await approvalProgress(deps, resolved, service));
  await deps.notifier.resolution(
    { ...resolved, steps: outcomes },
    { ...verification, durationMs: deps.clock.now().getTime() - started },
  );
  await recordMilestone(deps, incident.id, 'verified');
  await postTimeline(deps, { ...resolved, steps: outcomes }, service);
  await incidentEnded(deps, resolved);
  await announceStatus(deps, resolved, { kind: 'resolved', validationPassed: verification.passed });
  return { kind: 'resolved' };
}
