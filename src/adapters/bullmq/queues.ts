import { z } from 'zod';

/** Queue names (no `:` — BullMQ reserves it). */
export const QUEUE_NAMES = {
  /** prepare (triage, plan, snapshot) and status-update jobs. */
  incidents: 'incidents',
  /** rollback jobs; one per incident, one running per database (advisory lock). */
  rollbacks: 'rollbacks',
  /** notice delivery to Slack (the outbox). */
  notices: 'notices',
  /** paging and ticket calls (the integration outbox), apart from Slack's notices. */
  integrations: 'integrations',
  /** the reconciler, one pass per time slot, on a worker of its own so deliveries never hold it up. */
  reconciler: 'reconciler',
} as const;

/** Job names. */
export const JOB = {
  prepare: 'prepare',
  statusUpdate: 'status-update',
  rollback: 'rollback',
  snapshot: 'snapshot',
  deliver: 'deliver',
  reconcile: 'reconcile',
  discard: 'discard',
  rehearse: 'rehearse',
  archive: 'archive',
  integrations: 'integrations',
  approvalsPage: 'approvals-page',
  commsReminder: 'comms-reminder',
} as const;

/** Payload of a notice-delivery job: deliver the incident's undelivered notices, in order. */
export const DeliverJobPayload = z.object({ incidentId: z.uuid() });
export type DeliverJobPayload = z.infer<typeof DeliverJobPayload>;

/** Every job carries just the incident id; state lives in the state database. */
export const IncidentJobPayload = z.object({
  incidentId: z.uuid(),
  /** Set once the channel was told the rollback waits for the snapshot, so it is said once. */
  waitingNoticePosted: z.boolean().optional(),
  /** Epoch ms when the job first found the state database unreachable; cleared once it answers again. */
  stateOutageSince: z.number().int().positive().optional(),
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

/**
 * Job ids derived from the incident and its retry round (`attempt`): a double press or a
 * retried request queues one job, and `/migrate retry` gets fresh ones.
 */
export const jobId = {
  prepare: (incidentId: string, attempt: number) => `prepare-${incidentId}-${attempt}`,
  /** One per round and plan: a superseded plan's job ended, so the new plan's approvals need a job of their own. */
  rollback: (incidentId: string, attempt: number, digest?: string | null) =>
    `rollback-${incidentId}-${attempt}${digest ? `-${digest.slice(0, 12)}` : ''}`,
  deliver: (incidentId: string, noticeId: number, sweep?: number) =>
    `deliver-${incidentId}-${noticeId}${sweep ? `-sweep${sweep}` : ''}`,
  reconciler: 'reconciler',
  statusScheduler: (incidentId: string) => `status-${incidentId}`,
  snapshot: (name: string) => `snapshot-${name}`,
  discard: (incidentId: string, attempt: number) => `discard-${incidentId}-${attempt}`,
  /** One per request: the use case lets one rehearsal run at a time. */
  rehearse: (incidentId: string, at: number) => `rehearse-${incidentId}-${at}`,
  archive: (incidentId: string) => `archive-${incidentId}`,
  integrations: (incidentId: string, callId: number, sweep?: number) =>
    `integrations-${incidentId}-${callId}${sweep ? `-sweep${sweep}` : ''}`,
  approvalsPage: (incidentId: string, attempt: number, digest?: string | null) =>
    `approvals-page-${incidentId}-${attempt}${digest ? `-${digest.slice(0, 12)}` : ''}`,
  commsReminder: (incidentId: string) => `comms-reminder-${incidentId}`,
};
