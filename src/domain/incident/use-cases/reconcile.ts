import { statusUpdateMinutes } from '../process/severity.js';
import { approvalTier, countedApprovals } from '../model/approval-tier.js';
import type { ServiceConfig } from '../../../config/services.js';
import { stepsFromTrackingTable } from './close-incident.js';
import type { IncidentDeps } from '../ports/deps.js';
import { failIncident } from './fail-incident.js';
import type { Incident } from '../model/incident.js';

/** What one reconciler pass did, by incident id. */
export interface ReconcileReport {
  checked: number;
  queuedPrepare: string[];
  queuedRollback: string[];
  /** Rollbacks whose job ended although every down had committed: queued again to verify and resolve. */
  resumedRollback: string[];
  failed: string[];
}

/** Minutes a snapshot may take before the reconciler calls it lost: the provider's own wait plus 5. */
export function snapshotDeadlineMinutes(service: ServiceConfig): number {
  const snap = service.snapshot;
  if (snap.provider === 'rds' || snap.provider === 'rds-cluster') return snap.max_wait_minutes + 5;
  if (snap.provider === 'pg_dump') return 65; // pg_dump's own limit is one hour
  return 5;
}

const LIVE = new Set(['active', 'waiting', 'delayed']);
const ACTOR = 'reconciler';

/**
 * The reconciler (DESIGN.md "One failure path"): run at start-up and every minute, it checks
 * each open incident against its jobs so that no fault strands one:
 *  - no prepare job for an `opened`/`snapshotting` incident (lost with Redis) → queue it;
 *  - `snapshotting` past the provider's wait ({@link snapshotDeadlineMinutes}) → fail it;
 *  - approvals complete but no rollback job → queue it;
 *  - `rolling_back` with no live job and no holder of the rollback lock → when the tracking
 *    table shows every down committed (the job ended before it could record that, e.g. during
 *    an outage of the state database), queue the job again to verify and resolve; else fail it
 *    with the steps the tracking table shows done;
 *  - a job that failed for good while the incident stayed open → fail it;
 *  - and the incident's status-update schedule exists (it is gone if Redis lost its data).
 * Safe with several replicas: every action is idempotent (job ids from the incident and
 * round; {@link failIncident} leaves an already-failed incident alone), and one reconcile
 * job is queued per time slot whatever the number of workers.
 */
export async function reconcileIncidents(deps: IncidentDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    checked: 0,
    queuedPrepare: [],
    queuedRollback: [],
    resumedRollback: [],
    failed: [],
  };
  for (const incident of await deps.repo.listOpen()) {
    if (incident.state === 'failed') continue;
    const service = deps.services.services.get(incident.service);
    if (!service) continue; // removed from services.yaml: people close it with /migrate close
    report.checked++;
    try {
      await reconcileOne(deps, incident, service, report);
    } catch (err) {
      deps.logger.warn(
        { err, incidentId: incident.id },
        'reconciler could not check an incident; next pass tries again',
      );
    }
  }
  if (report.queuedPrepare.length + report.queuedRollback.length + report.failed.length > 0)
    deps.logger.info({ report }, 'reconciler acted');
  else deps.logger.debug({ report }, 'reconciler pass: nothing to do');
  return report;
}

async function reconcileOne(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  report: ReconcileReport,
): Promise<void> {
  const jobs = await deps.jobs.states(incident);
  // Brings the status updates back after Redis lost its data (upserting a live schedule would restart its clock).
  if (!jobs.statusUpdates)
    await deps.jobs.startStatusUpdates(incident.id, statusUpdateMinutes(service, incident.severity));
  const fail = async (code: string, message: string, steps?: Incident['steps']): Promise<void> => {
    if (await failIncident(deps, incident.id, { code, message }, { actor: ACTOR, ...(steps ? { steps } : {}) }))
      report.failed.push(incident.id);
  };

  if (incident.state === 'rolling_back') {
    if (LIVE.has(jobs.rollback)) return;
    const tool = deps.migrationTool(service);
    const holder = await tool.rollbackLockHolder().finally(() => tool.close().catch(() => undefined));
    if (holder) return; // someone is still at work on the database
    const steps = await stepsFromTrackingTable(deps, incident, service);
    if (steps.length > 0 && steps.every((s) => s.status === 'done')) {
      // Every down committed (the job ended before it could record that, e.g. the state database was
      // down): the job again verifies and resolves instead of the incident failing.
      await deps.jobs.resumeRollback(incident);
      report.resumedRollback.push(incident.id);
      await deps.notifier.progress(incident, { kind: 'rollback_resumed' });
      return;
    }
    await fail(
      'rollback_job_lost',
      `The rollback stopped without finishing (its job is ${jobs.rollback}, and nobody holds the database's rollback lock). The steps below are what the tracking table shows.`,
      steps,
    );
    return;
  }

  if (jobs.prepare === 'failed') {
    await fail(
      'prepare_failed',
      'Preparing the incident (triage, plan card, snapshot) failed after its retries. Nothing was changed in the database.',
    );
    return;
  }
  if (incident.state === 'snapshotting') {
    const since = await deps.repo.lastEventAt(incident.id, ['snapshot_started']);
    const limit = snapshotDeadlineMinutes(service);
    if (since && deps.clock.now().getTime() - since.getTime() > limit * 60_000 && !LIVE.has(jobs.prepare)) {
      await fail(
        'snapshot_timeout',
        `The snapshot did not become available within ${limit} minutes. Nothing was changed in the database.`,
      );
      return;
    }
  }
  if ((incident.state === 'opened' || incident.state === 'snapshotting') && jobs.prepare === 'missing') {
    await deps.jobs.prepare(incident);
    report.queuedPrepare.push(incident.id);
  }
  const [all, tier] = await Promise.all([deps.repo.listApprovals(incident.id), approvalTier(incident, service)]);
  if (!tier.unapprovable && countedApprovals(incident, all).length >= tier.required) {
    if (jobs.rollback === 'missing') {
      await deps.jobs.rollback(incident);
      report.queuedRollback.push(incident.id);
      await deps.notifier.progress(incident, { kind: 'rollback_requeued' });
    } else if (jobs.rollback === 'failed' || jobs.rollback === 'completed') {
      await fail(
        'rollback_job_lost',
        `The rollback job ended (${jobs.rollback}) without running the down migrations. Nothing was changed in the database.`,
      );
    }
  }
}
