import type { Incident } from '../model/incident.js';

/**
 * The jobs port: how use cases ask for background work. Implemented with BullMQ in
 * `jobs/`. Every enqueue is idempotent: the job id is derived from the incident and its
 * retry round, so a double press or a retried request queues one job. Every call has a
 * deadline of a few seconds: when Redis does not answer in time it throws instead of
 * waiting, so a person is never left without an answer.
 * @throws AppError `job_queue_unreachable` (retryable) from every method
 */
/** What `/migrate snapshot` asks for. */
export interface OnDemandSnapshotRequest {
  service: string;
  /** Slack user ID. */
  requestedBy: string;
  /** Snapshot identifier, `pre-rollback-<service>-<yyyymmdd-hhmmss>`. */
  name: string;
  /** Where to answer when the service has no open incident. */
  responseUrl?: string;
}

/** The incident and its retry round, which together name its jobs. */
export type IncidentRef = Pick<Incident, 'id' | 'attempt'> & { basis?: Incident['basis'] };

/** Where a job is: BullMQ's states, or `missing` when no such job exists (never queued, or removed). */
export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'missing';

export interface IncidentJobs {
  /** Triage, plan card and snapshot for a freshly opened incident (or a retry round). */
  prepare(incident: IncidentRef): Promise<void>;
  /** An on-demand snapshot (`/migrate snapshot`); progress goes to the open incident's channel, else to `responseUrl`. */
  snapshot(request: OnDemandSnapshotRequest): Promise<void>;
  /** The approved rollback (waits for the snapshot gate). */
  rollback(incident: IncidentRef): Promise<void>;
  /**
   * The rollback again after its job ended (failed or completed) without recording an outcome:
   * the ended job is removed and the same job queued anew; it resumes from the tracking table.
   */
  resumeRollback(incident: IncidentRef): Promise<void>;
  /** The approved deletion of the half-made copy a failed restore left behind. */
  discard(incident: IncidentRef): Promise<void>;
  /** Archives the incident channel after `delayMs` (services.yaml `archive_after_minutes`). */
  archive(incident: IncidentRef, delayMs: number): Promise<void>;
  /** A rehearsal of the plan on a scratch copy of the incident's snapshot (one attempt; a new request queues a new job). */
  rehearse(incident: IncidentRef): Promise<void>;
  /** Delivery of the incident's stored notices; `sweep` (a minute number) makes a fresh job for the reconciler's retry. */
  deliver(incidentId: string, noticeId: number, sweep?: number): Promise<void>;
  /** Delivery of the incident's stored paging and ticket calls; `sweep` as for {@link deliver}. */
  integrations(incidentId: string, callId: number, sweep?: number): Promise<void>;
  /** The approvals page check, `delayMs` after a plan card was posted (one per round and plan). */
  approvalsPage(incident: IncidentRef, delayMs: number): Promise<void>;
  /** The comms-lead reminder check, `delayMs` after a SEV1/SEV2 incident opened (one per incident). */
  commsReminder(incident: IncidentRef, delayMs: number): Promise<void>;
  /** Status updates every `everyMinutes` (a BullMQ job scheduler, one per incident). */
  startStatusUpdates(incidentId: string, everyMinutes: number): Promise<void>;
  stopStatusUpdates(incidentId: string): Promise<void>;
  /** States of the round's prepare and rollback jobs, and whether its status updates are scheduled, for the reconciler and `/migrate close`. */
  states(incident: IncidentRef): Promise<{ prepare: JobState; rollback: JobState; statusUpdates: boolean }>;
  /** States of the incident's jobs for `/migrate status`, e.g. `{ prepare: 'completed', rollback: 'delayed', statusUpdates: 'every 15 min' }`. */
  describe(incident: IncidentRef): Promise<Record<string, string>>;
}
