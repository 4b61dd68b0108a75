import type { IncidentFailure } from './incident.js';

/** What the rollback job should do next. */
export type RollbackRun =
  /** The snapshot is not available yet: retry later (the snapshot gate). */
  | { kind: 'wait_for_snapshot' }
  /** Nothing to do: the incident ended or was never approved. */
  | { kind: 'skipped'; reason: string }
  | { kind: 'resolved' }
  | { kind: 'failed'; failure: IncidentFailure };
