/**
 * The jobs port: how use cases ask for background work. Implemented with BullMQ in
 * `jobs/`. Every enqueue is idempotent: the job id is derived from the incident, so
 * a double press or a retried request queues one job.
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

export interface IncidentJobs {
  /** Triage, plan card and snapshot for a freshly opened incident. */
  prepare(incidentId: string): Promise<void>;
  /** An on-demand snapshot (`/migrate snapshot`); progress goes to the open incident's channel, else to `responseUrl`. */
  snapshot(request: OnDemandSnapshotRequest): Promise<void>;
  /** The approved rollback (waits for the snapshot gate). */
  rollback(incidentId: string): Promise<void>;
  /** Status updates every `everyMinutes` (a BullMQ job scheduler, one per incident). */
  startStatusUpdates(incidentId: string, everyMinutes: number): Promise<void>;
  stopStatusUpdates(incidentId: string): Promise<void>;
  /** States of the incident's jobs for `/migrate status`, e.g. `{ prepare: 'completed', rollback: 'delayed', statusUpdates: 'every 15 min' }`. */
  describe(incidentId: string): Promise<Record<string, string>>;
}
