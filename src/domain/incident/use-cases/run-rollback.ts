import { recordMilestone } from './incident-lifecycle.js';
import { code, quote, strong, user, words, type WordsLike } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';
import { type MigrationTool, runPlanStep } from '../../rollback/migration-tool.js';
import { type PlanStep, stepHasRun } from '../../rollback/plan.js';
import type { ArchivedTable } from '../ports/archive-catalog.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import { failIncident, failureFrom } from './fail-incident.js';
import type { Incident, IncidentFailure, StepOutcome } from '../model/incident.js';
import { resolveService } from './resolve-service.js';
import { runRestore } from './run-restore.js';
import { runUnarchive } from './unarchive.js';
import type { RollbackRun } from '../model/rollback-run.js';
import { approvalTier, countedApprovals } from '../model/approval-tier.js';
import { currentPlan, expectedSnapshotId } from '../model/plan-basis.js';
import { replacePlan } from './computed-plan.js';
import { planChanges } from '../../rollback/plan-digest.js';
import { verifyRollback } from './verify-rollback.js';
import { resolveRollback, startRollback, type Verified } from './rollback-milestones.js';
import { formatDuration } from '../../../shared/clock.js';

export type { RollbackRun } from '../model/rollback-run.js';

const BOT = 'migrate-bot';
const UNEXPECTED: IncidentFailure = {
  code: 'rollback_step_failed',
  message: 'An unexpected error stopped the rollback. The bot logs have the details.',
};

/**
 * The `rollback` job (runbook 003 "Execute a down migration"):
 *  1. gate: approvals complete and the snapshot verified available — else wait or skip;
 *  2. under the database's rollback lock, runs each down migration newest first with
 *     the service's `lock_timeout`, removing its tracking-table row, posting progress;
 *     between steps (never inside one) it honours a stop request (`/migrate close`) and
 *     a process shutdown;
 *  3. still under the lock, verifies (the tracking table no longer lists any planned
 *     migration, and the checks of `verifyRollback`); once the lock is released, records and
 *     posts the resolution; or fails the incident through {@link failIncident} with the steps that
 *     did and did not complete (runbook 003 "Partial down failure": stop automated actions).
 *
 * Safe to repeat: steps already reverted (absent from the tracking table) are not run
 * again, so a job retried after a crash resumes where it stopped, and takes over the tool
 * lock its own crashed run left set.
 * @throws AppError `rollback_already_running`, `service_db_unreachable`, `worker_shutting_down`
 *   (retryable: the job waits or retries; once its attempts are spent the worker fails the incident)
 */
export async function runRollback(deps: IncidentDeps, incidentId: string): Promise<RollbackRun> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) return { kind: 'skipped', reason: 'incident not found' };
  const service = resolveService(deps.services, incident.service);
  if (incident.state === 'opened' || incident.state === 'snapshotting') return { kind: 'wait_for_snapshot' };
  if (incident.state !== 'awaiting_approval' && incident.state !== 'rolling_back') {
    return { kind: 'skipped', reason: `incident is ${incident.state}` };
  }
  const [all, tier] = await Promise.all([deps.repo.listApprovals(incident.id), approvalTier(incident, service)]);
  const approvals = countedApprovals(incident, all);
  if (approvals.length < tier.required) {
    return {
      kind: 'skipped',
      reason: `${approvals.length} of ${tier.required} approvals for plan ${incident.basis?.digest.slice(0, 12) ?? '(restore)'}`,
    };
  }
  try {
    if (tier.unapprovable) {
      // Approvals cannot be given for such a plan; if some exist (an older bot), the step still never runs.
      const failure = {
        code: 'rollback_irreversible',
        message: `The plan has an irreversible step and was not run: ${tier.unapprovable}. Restore from the snapshot instead (runbook 003, Option B).`,
      };
      await failIncident(deps, incident.id, failure);
      return { kind: 'failed', failure };
    }
    if (incident.kind === 'restore') return await runRestore(deps, incident, service);
    if (incident.snapshot?.status !== 'available') return { kind: 'wait_for_snapshot' };
    // Nothing touches the database without a verified snapshot (runbook 003 "Mandatory pre-action checklist").
    if (incident.snapshot.provider !== 'none')
      await deps.snapshotProvider(service).verify(incident.snapshot, { rehash: 'if_changed' });
    return incident.kind === 'unarchive'
      ? await runUnarchive(deps, incident, service)
      : await runDownMigrations(deps, incident, service);
  } catch (err) {
    if (isAppError(err) && err.retryable) throw err;
    const failure = failureFrom(err, UNEXPECTED);
    await failIncident(deps, incident.id, failure, { cause: err });
    return { kind: 'failed', failure };
  }
}

/**
 * Recomputes the plan digest from the tracking table, the migration files and the snapshot
 * the incident has; when it differs from the approved one, the approvals are voided, the
 * channel is told what changed, the old card is marked superseded and a new card (with its
 * risk measured again) is posted. Nothing runs.
 * @returns `skipped` when the plan was superseded, else null
 */
async function supersedeIfChanged(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  tool: MigrationTool,
): Promise<RollbackRun | null> {
  if (!incident.basis) return null;
  const snapshotId = incident.snapshot?.id ?? expectedSnapshotId(incident, service);
  // A computed plan is computed again from the live schema as it is now: any other SQL voids the approvals.
  const recompute = () => deps.checkPlanSchema(service, incident.plan).then((c) => c?.computed.step ?? null);
  const now = await currentPlan(tool, incident, snapshotId, recompute);
  const changes = planChanges({ plan: incident.plan, basis: incident.basis }, now);
  if (!changes.length) return null;
  await replacePlan(deps, incident, service, now, changes);
  return { kind: 'skipped', reason: `plan superseded (${changes.length} change(s))` };
}

/**
 * For a step that failed on a constraint it adds back (runbook 000 "Constraint violation on
 * ADD CONSTRAINT": clean up invalid data first): the query from the plan's risk that finds the
 * offending rows, and the way on — fix them, `/migrate retry`, rehearse before approving.
 */
function constraintHint(
  incident: Incident,
  migration: string,
  err: unknown,
): { hint: WordsLike } | Record<string, never> {
  if (!isAppError(err, 'rollback_constraint_violation')) return {};
  const name = err.details?.constraint as string | null | undefined;
  const table = err.details?.table as string | null | undefined;
  const findings =
    incident.risk?.steps
      .find((s) => s.migration === migration)
      ?.findings.filter((f) => f.class === 'constraint' && f.hint) ?? [];
  const found =
    findings.find((f) => name && f.target?.constraint?.name === name) ??
    findings.find((f) => table && f.target?.name === table) ??
    findings[0];
  const find = found?.hint ? words`Find the rows: ${code(found.hint)}. ` : '';
  return {
    hint: words`Runbook 000 "Constraint violation on ADD CONSTRAINT": ${find}Fix them (e.g. ${code('UPDATE … WHERE …')}), then ${code('/migrate retry')} and press ${strong('Rehearse on a copy')} before approving.`,
  };
}

/** Who asked to stop the rollback, why, and whether now (`--force`: the running step is cancelled). */
interface StopRequest {
  by: string;
  reason?: string;
  force: boolean;
}

/** The stop request when the newest stop-or-retry event of the incident is one (`/migrate close` while running). */
async function stopRequested(deps: IncidentDeps, incidentId: string): Promise<StopRequest | null> {
  const last = await deps.repo.lastEvent(incidentId, ['stop_requested', 'retried']);
  return last?.type === 'stop_requested'
    ? {
        by: String(last.data.by),
        ...(last.data.reason ? { reason: String(last.data.reason) } : {}),
        force: last.data.force === true,
      }
    : null;
}

/** How often a running step looks for `/migrate close --force`, ms. */
export const FORCED_STOP_POLL_MS = 1000;

/**
 * While one step runs: reads the incident's stop requests every {@link FORCED_STOP_POLL_MS}
 * and aborts `signal` (reason: the {@link StopRequest}) on a forced one. The request may come
 * from any process (the app, the CLI), so it is read from the event log, not passed in memory;
 * a state database that does not answer is skipped until the next poll.
 */
function watchForcedStop(deps: IncidentDeps, incidentId: string): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let polling = false;
  const timer = setInterval(() => {
    if (polling || controller.signal.aborted) return;
    polling = true;
    stopRequested(deps, incidentId)
      .then((stop) => {
        if (stop?.force) controller.abort(stop);
      })
      .catch(() => undefined)
      .finally(() => {
        polling = false;
      });
  }, deps.stopPollMs ?? FORCED_STOP_POLL_MS);
  return { signal: controller.signal, dispose: () => clearInterval(timer) };
}

/** For a step cut at its `step_timeout` (runbook 000 "Issue: Migration timeout"): find what it waited on, then decide. */
function timeoutHint(err: unknown): { hint: WordsLike } | Record<string, never> {
  if (!isAppError(err, 'rollback_step_timeout')) return {};
  return {
    hint: words`Runbook 000 "Issue: Migration timeout": find what it waited on with ${code('/migrate triage')}. If the down needs longer, raise ${code('step_timeout')} in services.yaml, then ${code('/migrate retry')}.`,
  };
}

/** Did this incident set the tool's lock in a run that never released it (a crash)? */
async function ownsStaleToolLock(deps: IncidentDeps, incidentId: string): Promise<boolean> {
  return (await deps.repo.lastEvent(incidentId, ['tool_lock_taken', 'tool_lock_released']))?.type === 'tool_lock_taken';
}

async function runDownMigrations(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<RollbackRun> {
  const tool = deps.migrationTool(service);
  const started = deps.clock.now().getTime();
  let lockRecorded = false;
  let underLock: RollbackRun | Verified;
  try {
    underLock = await tool.withRollbackLock(
      async (lock) => {
        if (lock.toolLock) {
          lockRecorded = true;
          await deps.repo.log(incident.id, 'tool_lock_taken', BOT, {
            lock: lock.toolLock,
            tookOver: lock.tookOverStaleLock,
          });
          if (lock.tookOverStaleLock) {
            await deps.notifier.progress(incident, { kind: 'tool_lock_taken_over', toolLock: lock.toolLock });
          }
        }
        let current = incident;
        if (current.state === 'awaiting_approval') {
          // Under the lock, before the first statement: the plan as it is now must be the plan approved.
          const superseded = await supersedeIfChanged(deps, current, service, tool);
          if (superseded) return superseded;
          current = await startRollback(deps, current);
        }
        return await runSteps(deps, current, service, tool);
      },
      { ownStaleLock: await ownsStaleToolLock(deps, incident.id) },
    );
  } finally {
    if (lockRecorded) await deps.repo.log(incident.id, 'tool_lock_released', BOT).catch(() => undefined);
    await tool.close().catch(() => undefined);
  }
  return underLock.kind === 'verified' ? resolveRollback(deps, underLock, service, started) : underLock;
}

/**
 * What a committed step archived first, counted, each table logged as `archive_created`; a count
 * that cannot be taken is logged and left out (the step itself stands).
 */
async function archivedTables(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  step: PlanStep,
): Promise<ArchivedTable[]> {
  try {
    const tables = await deps.archive.stats(service, step.archive ?? []);
    for (const t of tables)
      await deps.repo.log(incident.id, 'archive_created', BOT, { migration: step.migration, ...t });
    return tables;
  } catch (err) {
    deps.logger.warn({ err, incidentId: incident.id }, 'the archive tables could not be counted');
    return [];
  }
}

/** Under the rollback lock: each down not yet reverted, then verification; failures are recorded here. */
async function runSteps(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  tool: MigrationTool,
): Promise<RollbackRun | Verified> {
  const stillApplied = new Set((await tool.listApplied()).map((m) => m.name));
  const outcomes: StepOutcome[] = incident.plan.map((s) => ({
    migration: s.migration,
    status: stepHasRun(s, stillApplied) ? 'done' : 'not_run',
  }));
  const total = incident.plan.length;
  for (const [i, step] of incident.plan.entries()) {
    if (outcomes[i]!.status === 'done') continue;
    const stop = await stopRequested(deps, incident.id);
    if (stop) {
      const failure = {
        code: 'rollback_stopped',
        message: words`${user(stop.by)} stopped the rollback before step ${i + 1} of ${total}${stop.reason ? words`: ${quote(stop.reason)}` : ''}.`,
      };
      await failIncident(deps, incident.id, failure, { steps: outcomes, actor: stop.by });
      return { kind: 'failed', failure };
    }
    if (deps.shutdown?.aborted) {
      throw new AppError({
        code: 'worker_shutting_down',
        message: `worker stopping before step ${i + 1}`,
        retryable: true,
      });
    }
    const startedAt = deps.clock.now();
    outcomes[i] = { migration: step.migration, status: 'running', startedAt: startedAt.toISOString() };
    await deps.repo.setSteps(incident.id, outcomes);
    await deps.notifier.progress(incident, {
      kind: 'step_started',
      index: i + 1,
      total,
      migration: step.migration,
      lockTimeout: service.lock_timeout.text,
    });
    const forced = watchForcedStop(deps, incident.id);
    try {
      const { durationMs } = await runPlanStep(tool, step, service.lock_timeout, {
        stepTimeout: service.step_timeout,
        signal: forced.signal,
        ...(deps.stepStopGraceMs !== undefined ? { graceMs: deps.stepStopGraceMs } : {}),
      });
      outcomes[i] = { migration: step.migration, status: 'done', durationMs };
    } catch (err) {
      outcomes[i] = {
        migration: step.migration,
        status: 'failed',
        error: isAppError(err) && err.userMessage ? err.userMessage : 'failed',
      };
      await deps.repo.setSteps(incident.id, outcomes);
      if (isAppError(err) && err.retryable) throw err; // e.g. unreachable: the job resumes from the tracking table
      const stopped = isAppError(err, 'rollback_step_stopped')
        ? { request: err.details?.reason as StopRequest, said: err.userMessage ?? '' }
        : undefined;
      const ranMs = deps.clock.now().getTime() - startedAt.getTime();
      const failure = stopped
        ? {
            code: 'rollback_stopped',
            message: words`${user(stopped.request.by)} stopped the rollback during step ${i + 1} of ${total} after ${formatDuration(ranMs)}${stopped.request.reason ? words`: ${quote(stopped.request.reason)}` : ''}. ${stopped.said}`,
          }
        : { ...failureFrom(err, UNEXPECTED), ...constraintHint(incident, step.migration, err), ...timeoutHint(err) };
      await failIncident(deps, incident.id, failure, {
        steps: outcomes,
        cause: err,
        ...(stopped ? { actor: stopped.request.by } : {}),
      });
      return { kind: 'failed', failure };
    } finally {
      forced.dispose();
    }
    // The step committed: from here on nothing can mark it failed.
    if (step.archive?.length)
      outcomes[i] = { ...outcomes[i]!, archived: await archivedTables(deps, incident, service, step) };
    await deps.repo.setSteps(incident.id, outcomes);
    await deps.repo.log(incident.id, 'step_done', BOT, {
      migration: step.migration,
      durationMs: outcomes[i]!.durationMs,
    });
    // The last down committed: the database is back on the old schema (time to recover).
    if (outcomes.every((o) => o.status === 'done')) await recordMilestone(deps, incident.id, 'recovered');
    await deps.notifier.progress(incident, {
      kind: 'step_done',
      index: i + 1,
      total,
      migration: step.migration,
      durationMs: outcomes[i]!.durationMs ?? 0,
    });
  }

  const verification = await verifyRollback(deps, service, tool, incident.plan);
  if (verification.stillApplied.length) {
    const failure = {
      code: 'rollback_verification_failed',
      message: `The tracking table still lists ${verification.stillApplied.map((m) => `\`${m}\``).join(', ')} after the down migrations ran.`,
    };
    await failIncident(deps, incident.id, failure, { steps: outcomes });
    return { kind: 'failed', failure };
  }
  return { kind: 'verified', incident, outcomes, verification };
}
