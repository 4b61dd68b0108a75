import { AppError } from '../shared/errors.js';
import type { IncidentState } from './incident.js';

/** What happened to an incident; each accepted event is appended to the event log. */
export type IncidentEvent =
  | 'snapshot_started'
  | 'snapshot_ready'
  | 'rollback_started'
  | 'rollback_succeeded'
  | 'rollback_failed'
  | 'rejected'
  | 'failed'
  | 'closed';

const TRANSITIONS: Record<IncidentState, Partial<Record<IncidentEvent, IncidentState>>> = {
  opened: { snapshot_started: 'snapshotting', rejected: 'cancelled', failed: 'failed' },
  snapshotting: { snapshot_ready: 'awaiting_approval', rejected: 'cancelled', failed: 'failed' },
  awaiting_approval: { rollback_started: 'rolling_back', rejected: 'cancelled', failed: 'failed' },
  rolling_back: { rollback_succeeded: 'resolved', rollback_failed: 'failed' },
  failed: { closed: 'cancelled' },
  resolved: {},
  cancelled: {},
};

/**
 * The one place incident states change (DESIGN.md "Transitions live in one pure function").
 * @returns the next state
 * @throws AppError `incident_invalid_transition` when `event` is not allowed in `state`
 */
export function nextState(state: IncidentState, event: IncidentEvent): IncidentState {
  const next = TRANSITIONS[state][event];
  if (!next) {
    throw new AppError({
      code: 'incident_invalid_transition',
      message: `event ${event} is not allowed in state ${state}`,
      userMessage: `That is not possible now: the incident is ${state.replace('_', ' ')}.`,
    });
  }
  return next;
}

/** True when `event` is allowed in `state`. */
export function canApply(state: IncidentState, event: IncidentEvent): boolean {
  return TRANSITIONS[state][event] !== undefined;
}
