import type { ServiceConfig } from '../config/services.js';
import { utcSecondStamp } from '../shared/clock.js';
import { AppError, isAppError } from '../shared/errors.js';
import type { SnapshotRecord } from '../snapshots/snapshot-provider.js';
import type { IncidentDeps } from './deps.js';
import { offendingOf, type Incident } from './incident.js';
import { resolveService } from './resolve-service.js';

/** Snapshot identifier for an incident: `pre-rollback-<service>-<yyyymmdd-hhmmss>` (UTC; runbook 004 "Take Manual Backup"). */
export function incidentSnapshotName(incident: Pick<Incident, 'service' | 'createdAt'>): string {
  return `pre-rollback-${incident.service}-${utcSecondStamp(incident.createdAt)}`;
}

/** Rough ETA for the initial notice, minutes: a minute per down migration plus five for approvals and verification. */
export function estimateMinutes(incident: Pick<Incident, 'plan'>): number {
  return incident.plan.length + 5;
}

async function load(deps: IncidentDeps, incidentId: string): Promise<{ incident: Incident; service: ServiceConfig } | null> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) return null;
  return { incident, service: resolveService(deps.services, incident.service) };
}

/**
 * The `prepare` job (issue 2 steps 5–7, runbook 003 "Initial triage" and "Mandatory
 * pre-action checklist"): posts the triage, the plan with its Approve / Reject
 * buttons, then takes the snapshot and posts the initial notice with its ID.
 * Approvals may arrive while the snapshot is being taken; the rollback waits for it.
 *
 * Safe to repeat: a retried job skips what the incident already records (plan card
 * ts, snapshot) and a snapshot provider treats its own existing snapshot as success.
 * @throws AppError from the triage or snapshot adapters when retryable (the job retries)
 */
export async function prepareIncident(deps: IncidentDeps, incidentId: string): Promise<void> {
  const loaded = await load(deps, incidentId);
  if (!loaded) return;
  let { incident } = loaded;
  const { service } = loaded;
  if (incident.state !== 'opened' && incident.state !== 'snapshotting') return;
  if (incident.kind === 'restore') return prepareRestore(deps, incident, service);

  if (incident.state === 'opened') {
    try {
      const report = await deps.triage(service, {
        offending: offendingOf(incident),
      });
      await deps.notifier.triage(incident, report);
    } catch (err) {
      deps.logger.error({ err, incidentId }, 'triage failed');
      await deps.notifier.progress(incident, ':warning: Triage could not run; the rollback plan follows anyway. Run `/migrate triage` to retry.');
    }
    if (!incident.planMessageTs) {
      const ts = await deps.notifier.planCard(incident, { approvals: await deps.repo.listApprovals(incident.id), required: service.approvals.required });
      await deps.repo.setPlanMessage(incident.id, ts);
      incident = { ...incident, planMessageTs: ts };
    }
    incident = await deps.repo.transition(incident.id, 'snapshot_started', 'migrate-bot');
  }

  let snapshot: SnapshotRecord;
  try {
    snapshot = await takeSnapshot(deps, incident, service);
  } catch (err) {
    if (isAppError(err) && err.retryable) throw err;
    const failure = { code: isAppError(err) ? err.code : 'snapshot_failed', message: isAppError(err) && err.userMessage ? err.userMessage : 'The snapshot could not be taken.' };
    deps.logger.error({ err, incidentId }, 'snapshot failed');
    const failed = await deps.repo.transition(incident.id, 'failed', 'migrate-bot', { failure });
    await deps.notifier.failure(failed, failure, []);
    return;
  }
  await deps.repo.setSnapshot(incident.id, snapshot);
  const ready = await deps.repo.transition(incident.id, 'snapshot_ready', 'migrate-bot', { snapshotId: snapshot.id });
  const withSnapshot = { ...ready, snapshot };
  await deps.notifier.initialNotice(withSnapshot, snapshot.provider === 'none' ? null : snapshot, estimateMinutes(incident));
}

/**
 * A restore incident needs no new snapshot (it reads one, and never touches the source):
 * it posts the plan card and goes straight to awaiting approval.
 */
async function prepareRestore(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<void> {
  let current = incident;
  if (!current.planMessageTs) {
    const ts = await deps.notifier.planCard(current, { approvals: await deps.repo.listApprovals(current.id), required: service.approvals.required });
    await deps.repo.setPlanMessage(current.id, ts);
    current = { ...current, planMessageTs: ts };
  }
  if (current.state === 'opened') current = await deps.repo.transition(current.id, 'snapshot_started', 'migrate-bot', { restore: true });
  await deps.repo.transition(current.id, 'snapshot_ready', 'migrate-bot', { restore: true });
}

/**
 * Takes the incident's snapshot with the service's provider, posting progress.
 * The `none` provider (a written waiver) returns a record without a snapshot.
 */
async function takeSnapshot(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<SnapshotRecord> {
  if (service.snapshot.provider === 'none') {
    return { id: 'none', provider: 'none', status: 'available', createdAt: deps.clock.now().toISOString() };
  }
  const provider = deps.snapshotProvider(service);
  const record = await provider.create(
    {
      incidentId: incident.id,
      service: service.name,
      migration: incident.migration,
      requestedBy: incident.requestedBy,
      name: incidentSnapshotName(incident),
    },
    (text) => deps.notifier.progress(incident, text),
  );
  if (record.status !== 'available') {
    throw new AppError({ code: 'snapshot_not_available', message: `snapshot ${record.id} is ${record.status}`, retryable: true });
  }
  return record;
}
