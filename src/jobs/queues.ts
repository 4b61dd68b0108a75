import { z } from 'zod';

/** Queue names (no `:` — BullMQ reserves it). */
export const QUEUE_NAMES = {
  /** prepare (triage, plan, snapshot) and status-update jobs. */
  incidents: 'incidents',
  /** rollback jobs; one per incident, one running per database (advisory lock). */
  rollbacks: 'rollbacks',
} as const;

/** Job names. */
export const JOB = { prepare: 'prepare', statusUpdate: 'status-update', rollback: 'rollback', snapshot: 'snapshot' } as const;

/** Every job carries just the incident id; state lives in the state database. */
export const IncidentJobPayload = z.object({
  incidentId: z.uuid(),
  /** Set once the channel was told the rollback waits for the snapshot, so it is said once. */
  waitingNoticePosted: z.boolean().optional(),
});
export type IncidentJobPayload = z.infer<typeof IncidentJobPayload>;

/** Payload of an on-demand snapshot job. */
export const SnapshotJobPayload = z.object({
  service: z.string().min(1),
  requestedBy: z.string().min(1),
  name: z.string().regex(/^[a-z][a-z0-9-]{0,254}$/),
  responseUrl: z.url().optional(),
});
export type SnapshotJobPayload = z.infer<typeof SnapshotJobPayload>;

/** Job ids derived from the incident: a double press or a retried request queues one job. */
export const jobId = {
  prepare: (incidentId: string) => `prepare-${incidentId}`,
  rollback: (incidentId: string) => `rollback-${incidentId}`,
  statusScheduler: (incidentId: string) => `status-${incidentId}`,
  snapshot: (name: string) => `snapshot-${name}`,
};
