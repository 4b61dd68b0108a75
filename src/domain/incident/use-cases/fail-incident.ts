import { announceStatus } from './announce.js';
import { approvalProgress } from './approval-progress.js';
import { resolveService } from './resolve-service.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Incident, IncidentFailure, StepOutcome } from '../model/incident.js';
import { canApply } from '../model/state-machine.js';

/**
 * The failure an error stands for, in words a reader understands: the AppError's code and
 * `userMessage`, or `fallback` for anything else (the details stay in the logs). The one
 * place that turns an error into an incident's failure.
 */
export function failureFrom(err: unknown, fallback: IncidentFailure): IncidentFailure {
  if (err instanceof AppError) {
    const leftover = typeof err.details?.leftover === 'string' ? err.details.leftover : undefined;
    return { code: err.code, message: err.userMessage ?? fallback.message, ...(leftover ? { leftover } : {}) };
  }
  return fallback;
}

/** Options of {@link failIncident}. */
export interface FailOptions {
  /** Outcome of each planned step, when known (the tracking table says which committed). */
  steps?: StepOutcome[];
  /** Who failed it: `migrate-bot` (default), a job, the reconciler, or a Slack user ID. */
  actor?: string;
  /** Logged with the failure. */
  cause?: unknown;
}

/**
 * The one use case that moves an incident to `failed` (DESIGN.md "One failure path"):
 * records the step outcomes, applies `failed` through the state machine, and tells the
 * channel what went wrong, which steps completed and what people can do next
 * (`/migrate retry`, `/migrate close`, restore — runbook 003 "Partial down failure").
 * Called by the prepare, snapshot, rollback and restore jobs, by a job's final BullMQ
 * failure, by the reconciler and by `/migrate close` on a running rollback.
 *
 * Safe to repeat: an incident that already failed or ended is left as it is.
 * @returns the failed incident, or null when it was not open any more (or already failed)
 */
export async function failIncident(
  deps: IncidentDeps,
  incidentId: string,
  failure: IncidentFailure,
  options: FailOptions = {},
): Promise<Incident | null> {
  const incident = await deps.repo.get(incidentId);
  if (!incident || !canApply(incident.state, 'failed')) return null;
  deps.logger.error({ incidentId, failure, err: options.cause }, 'incident failed');
  if (options.steps) await deps.repo.setSteps(incidentId, options.steps);
  let failed: Incident;
  try {
    failed = await deps.repo.transition(incidentId, 'failed', options.actor ?? 'migrate-bot', { failure });
  } catch (err) {
    if (isAppError(err, 'incident_invalid_transition')) return null; // another actor ended it first
    throw err;
  }
  const steps = options.steps ?? failed.steps;
  // The round's plan card says it failed and loses its buttons (it said "Approved" until now).
  await deps.notifier.updatePlanCard(
    { ...failed, steps },
    await approvalProgress(deps, failed, resolveService(deps.services, failed.service)),
  );
  await deps.notifier.failure({ ...failed, steps }, failure, steps);
  await announceStatus(deps, failed, { kind: 'failed', message: failure.message });
  return failed;
}
