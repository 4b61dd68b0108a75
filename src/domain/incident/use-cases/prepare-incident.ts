import { assessArchive, assessRisk, assessSchema, assessUsage } from './assess-plan.js';
import { recordMilestone } from './incident-lifecycle.js';
import { assessOptions, sampleAtSnapshot } from './compare-options.js';
import { scheduleApprovalsPage } from './paging.js';
import type { ServiceConfig } from '../../../config/services.js';
import { utcSecondStamp } from '../../../shared/clock.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { TriageReport } from '../../triage/triage-report.js';
import { approvalProgress } from './approvals.js';
import { failIncident, failureFrom } from './fail-incident.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { IncidentDeps } from '../ports/deps.js';
import { APPROVABLE_STATES, offendingOf, type Incident } from '../model/incident.js';
import { resolveService } from './resolve-service.js';

/**
 * Snapshot identifier for an incident: `pre-rollback-<service>-<yyyymmdd-hhmmss>` (UTC;
 * runbook 004 "Take Manual Backup"), with `-r<attempt>` for a `/migrate retry` round, which
 * needs a snapshot of the database as it is now.
 */
export function incidentSnapshotName(incident: Pick<Incident, 'service' | 'createdAt' | 'attempt'>): string {
  return `pre-rollback-${incident.service}-${utcSecondStamp(incident.createdAt)}${incident.attempt > 1 ? `-r${incident.attempt}` : ''}`;
}

/**
 * How long a ready snapshot waits for the schema fingerprint's reference still being built, ms:
 * a scratch migrate up through a long history must not hold the snapshot notice and the rollback gate.
 */
export const EXPECTED_SCHEMA_HOLD_MS = 10_000;

async function load(
  deps: IncidentDeps,
  incidentId: string,
): Promise<{ incident: Incident; service: ServiceConfig } | null> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) return null;
  return { incident, service: resolveService(deps.services, incident.service) };
}

/**
 * The `prepare` job (runbook 003 "Initial triage" and "Mandatory pre-action checklist"):
 * posts the triage, the plan with its Approve / Reject buttons (warning approvers when
 * triage saw the tool's lock held), then takes the snapshot and posts the initial notice
 * with its ID. Approvals may arrive while the snapshot is being taken; the rollback waits.
 *
 * Safe to repeat: the plan card is stored once per round (outbox dedupe) and a snapshot
 * provider treats its own existing snapshot as success. A snapshot that fails for good
 * fails the incident through {@link failIncident}.
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
    // An unarchive's plan comes from the archive, not from migrations: no triage, risk or archive of its own.
    if (incident.kind === 'rollback') incident = await assessRollbackPlan(deps, incident, service);
    await deps.notifier.planCard(incident, await approvalProgress(deps, incident, service));
    await scheduleApprovalsPage(deps, incident);
    incident = await deps.repo.transition(incident.id, 'snapshot_started', 'migrate-bot');
  }

  // The plan is checked against the schemas while the snapshot is taken; its target build is the
  // fingerprint's reference, so verification after the downs only reads the live catalogs.
  const expecting = incident.kind === 'rollback' ? prepareSchemas(deps, incident, service) : Promise.resolve();
  let snapshot: SnapshotRecord;
  try {
    snapshot = await takeSnapshot(deps, incident, service);
  } catch (err) {
    await expecting;
    if (isAppError(err) && err.retryable) throw err;
    await failIncident(
      deps,
      incident.id,
      failureFrom(err, {
        code: 'snapshot_failed',
        message: 'The snapshot could not be taken. Nothing was changed in the database.',
      }),
      { cause: err },
    );
    return;
  }
  // Usually ready by now; a slow one holds the snapshot notice at most EXPECTED_SCHEMA_HOLD_MS.
  let hold: NodeJS.Timeout | undefined;
  await Promise.race([expecting, new Promise((r) => (hold = setTimeout(r, EXPECTED_SCHEMA_HOLD_MS)))]);
  clearTimeout(hold);
  await deps.repo.setSnapshot(incident.id, snapshot);
  await sampleAtSnapshot(deps, service, snapshot);
  const ready = await deps.repo.transition(incident.id, 'snapshot_ready', 'migrate-bot', { snapshotId: snapshot.id });
  await deps.notifier.progress({ ...ready, snapshot }, { kind: 'snapshot_ready', record: snapshot });
  await recordMilestone(deps, incident.id, 'snapshotReady');
  // A rollback approved before the reference is kept builds its own.
  await expecting;
}

/**
 * Before the plan card of a rollback: the triage (and the warnings approvers must see), then the
 * plan's risk, its archive and who still uses what it drops.
 * @returns the incident with them
 */
async function assessRollbackPlan(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<Incident> {
  let warnings: string[] = [];
  try {
    const report = await deps.triage(service, { offending: offendingOf(incident) });
    await deps.notifier.triage(incident, report);
    warnings = planWarnings(report);
  } catch (err) {
    deps.logger.error({ err, incidentId: incident.id }, 'triage failed');
    await deps.notifier.progress(incident, { kind: 'triage_failed' });
  }
  if (warnings.length)
    await deps.repo.log(incident.id, 'plan_warnings', 'migrate-bot', { warnings, attempt: incident.attempt });
  const assessed = await assessUsage(
    deps,
    await assessArchive(deps, await assessRisk(deps, incident, service), service),
    service,
  );
  return assessOptions(deps, assessed, service);
}

/**
 * Checks the plan against the schemas (see `assessSchema`) and redraws the plan card with what it
 * found, unless the plan changed meanwhile; then makes sure the fingerprint's reference is kept
 * (already, when the check built the target). A repeated prepare job does not check again.
 */
async function prepareSchemas(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<void> {
  if (!incident.schemaCheck && incident.kind === 'rollback') {
    const checked = await assessSchema(deps, incident, service);
    const now = await deps.repo.get(incident.id);
    if (now && APPROVABLE_STATES.includes(now.state) && now.basis?.digest === incident.basis?.digest)
      await deps.notifier.updatePlanCard(now, await approvalProgress(deps, now, service));
    incident = checked;
  }
  await prepareExpectedSchema(deps, incident, service);
}

/**
 * Builds, before approval, the schema the database must have once the plan is reverted (see
 * `IncidentDeps.expectSchema`) and notes it in the event log. Never fails the prepare job:
 * when it cannot be built now, verification builds it after the downs and says why if it cannot.
 */
async function prepareExpectedSchema(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<void> {
  try {
    const built = await deps.expectSchema(service, incident.plan);
    if (built) await deps.repo.log(incident.id, 'expected_schema_built', 'migrate-bot', built);
  } catch (err) {
    deps.logger.warn(
      { err, incidentId: incident.id },
      'expected schema not built before approval; verification will build it',
    );
  }
}

/**
 * What approvers must know from triage before pressing Approve: a held tool lock means the
 * rollback will stop at it (runbook 004 "Migration Lock"), dirty rows mean a half-applied
 * migration (runbook 001 "Dirty Migration Recovery").
 */
export function planWarnings(report: TriageReport): string[] {
  const health = report.checks.find((c) => c.name === 'tracking_table_health');
  if (health?.verdict !== 'attention') return [];
  // A held lock stops the rollback before it changes anything; a dirty version only needs the approvers' eyes.
  const lockHeld = health.toolLockHeld === true;
  return [
    `Triage: ${health.summary} ` +
      (lockHeld
        ? 'Unless this is cleared first (runbook 004 "Migration Lock"), the rollback stops at it and changes nothing.'
        : 'Check it before approving (runbook 001 "Dirty Migration Recovery").'),
  ];
}

/**
 * A restore incident needs no new snapshot (it reads one, and never touches the source):
 * it posts the plan card and goes straight to awaiting approval.
 */
async function prepareRestore(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<void> {
  let current = incident;
  await deps.notifier.planCard(current, await approvalProgress(deps, current, service));
  await scheduleApprovalsPage(deps, current);
  if (current.state === 'opened')
    current = await deps.repo.transition(current.id, 'snapshot_started', 'migrate-bot', { restore: true });
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
    (text) => deps.notifier.progress(incident, { kind: 'provider_progress', text }),
  );
  if (record.status !== 'available') {
    throw new AppError({
      code: 'snapshot_not_available',
      message: `snapshot ${record.id} is ${record.status}`,
      retryable: true,
    });
  }
  return record;
}
