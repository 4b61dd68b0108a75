import { AppError } from '../../../shared/errors.js';
import type { IncidentState } from './incident.js';

/** What happened to an incident; each accepted event is appended to the event log. */
export type IncidentEvent =
  | 'snapshot_started'
  | 'snapshot_ready'
  | 'rollback_started'
  | 'rollback_succeeded'
  /** The down migrations ran but a verification check failed. */
  | 'verified_with_warnings'
  /** `/migrate close` on `resolved_with_warnings`: someone looked at the warnings. */
  | 'acknowledged'
  | 'rejected'
  /** The one way into `failed`, used only by `fail-incident.ts`. */
  | 'failed'
  /** `/migrate close`: ends an open incident (before the rollback starts, or after it failed). */
  | 'closed'
  /** `/migrate retry`: a failed incident starts a new round (new plan, snapshot, approvals). */
  | 'retried';

const TRANSITIONS: Record<IncidentState, Partial<Record<IncidentEvent, IncidentState>>> = {
  opened: { snapshot_started: 'snapshotting', rejected: 'cancelled', closed: 'cancelled', failed: 'failed' },
  snapshotting: { snapshot_ready: 'awaiting_approval', rejected: 'cancelled', closed: 'cancelled', failed: 'failed' },
  awaiting_approval: { rollback_started: 'rolling_back', rejected: 'cancelled', closed: 'cancelled', failed: 'failed' },
  // A running rollback is never cancelled: `/migrate close` stops it after the current step, and it fails.
  rolling_back: { rollback_succeeded: 'resolved', verified_with_warnings: 'resolved_with_warnings', failed: 'failed' },
  resolved_with_warnings: { acknowledged: 'resolved' },
  failed: { closed: 'cancelled', retried: 'opened' },
  resolved: {},
  cancelled: {},
};

/**
 * The one place incident states change (DESIGN.md "Transitions live in one pure function").
 * Every open state has a way out that a person can take: Reject or `/migrate close`
 * before the rollback starts, a stop request while it runs, close or retry once failed.
 * @returns the next state
 * @throws AppError `incident_invalid_transition` when `event` is not allowed in `state`
 */
export function nextState(state: IncidentState, event: IncidentEvent): IncidentState {
  const next = TRANSITIONS[state][event];
  if (!next) {
    throw new AppError({
      code: 'incident_invalid_transition',
      message: `event ${event} is not allowed in state ${state}`,
      userMessage: `That is not possible now: the incident is ${state.replace(/_/g, ' ')}.`,
    });
  }
  return next;
}

/** True when `event` is allowed in `state`. */
export function canApply(state: IncidentState, event: IncidentEvent): boolean {
  return TRANSITIONS[state][event] !== undefined;
}
