import { archiveChannel } from '../../domain/incident/use-cases/archive-channel.js';
import { runDiscard } from '../../domain/incident/use-cases/discard-leftover.js';
import { takeOnDemandSnapshot } from '../../domain/incident/use-cases/on-demand-snapshot.js';
import { prepareIncident } from '../../domain/incident/use-cases/prepare-incident.js';
import { runRehearsal } from '../../domain/incident/use-cases/rehearse.js';
import { postStatusUpdate } from '../../domain/incident/use-cases/status-update.js';
import { pageWaitingApprovals } from '../../domain/incident/use-cases/paging.js';
import { remindComms } from '../../domain/incident/use-cases/severity-and-roles.js';
import { IncidentJobPayload, JOB, SnapshotJobPayload } from '../../adapters/bullmq/queues.js';
import type { SurfaceDeps } from '../surface-deps.js';

/** One kind of job on the incidents queue: what runs it, and what its final failure means. */
export interface JobKind {
  /** The BullMQ job name (`JOB` in adapters/bullmq/queues.ts). */
  name: string;
  /** Runs the job; `data` is the job's payload, validated here. */
  handler(deps: SurfaceDeps, data: unknown): Promise<unknown>;
  /**
   * A final failure (attempts spent, or not retryable) fails the incident through the one
   * failure path, with `code`. False for jobs that report their own failure or whose failure
   * leaves the incident as it is (a missed status update, a rehearsal, an archive).
   */
  failsIncident: false | { code: string };
}

const forIncident =
  (run: (deps: SurfaceDeps, incidentId: string) => Promise<unknown>) =>
  (deps: SurfaceDeps, data: unknown): Promise<unknown> =>
    run(deps, IncidentJobPayload.parse(data).incidentId);

/** Every job kind of the incidents queue; the rollback queue's one kind is {@link ROLLBACK_JOB}. */
export const INCIDENT_JOB_KINDS: readonly JobKind[] = [
  { name: JOB.prepare, handler: forIncident(prepareIncident), failsIncident: { code: 'prepare_failed' } },
  { name: JOB.statusUpdate, handler: forIncident(postStatusUpdate), failsIncident: false },
  {
    name: JOB.snapshot,
    handler: (deps, data) => takeOnDemandSnapshot(deps, SnapshotJobPayload.parse(data)),
    failsIncident: false,
  },
  // A discard belongs to an incident that already failed: runDiscard reports its own failure.
  { name: JOB.discard, handler: forIncident(runDiscard), failsIncident: false },
  { name: JOB.rehearse, handler: forIncident(runRehearsal), failsIncident: false },
  { name: JOB.archive, handler: forIncident(archiveChannel), failsIncident: false },
  // Paging people is never a reason to fail the incident: a lost reminder is only logged.
  { name: JOB.approvalsPage, handler: forIncident(pageWaitingApprovals), failsIncident: false },
  { name: JOB.commsReminder, handler: forIncident(remindComms), failsIncident: false },
];

/** The rollback queue's job: runs in its own worker (gate, lock, shutdown hand-back). */
export const ROLLBACK_JOB = { name: JOB.rollback, failsIncident: { code: 'rollback_failed' } } as const;

/** The job kind named `name` on the incidents or rollback queue, or undefined. */
export function jobKind(name: string): Pick<JobKind, 'name' | 'failsIncident'> | undefined {
  return name === ROLLBACK_JOB.name ? ROLLBACK_JOB : INCIDENT_JOB_KINDS.find((k) => k.name === name);
}
