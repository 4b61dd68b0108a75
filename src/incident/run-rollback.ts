import { AppError, isAppError } from '../shared/errors.js';
import type { IncidentDeps } from './deps.js';
import type { Incident, IncidentFailure, StepOutcome } from './incident.js';
import { resolveService } from './resolve-service.js';

/** What the rollback job should do next. */
export type RollbackRun =
  /** The snapshot is not available yet: retry later (issue 3 "Gate"). */
  | { kind: 'wait_for_snapshot' }
  /** Nothing to do: the incident ended or was never approved. */
  | { kind: 'skipped'; reason: string }
  | { kind: 'resolved' }
  | { kind: 'failed'; failure: IncidentFailure };

const BOT = 'migrate-bot';

/**
 * The `rollback` job (issue 2 steps 9 and 11; runbook 003 "Execute a down migration"):
 *  1. gate: approvals complete and the snapshot verified available — else wait or skip;
 *  2. under the database's rollback lock, runs each down migration newest first with
 *     the service's `lock_timeout`, removing its tracking-table row, posting progress;
 *  3. verifies the tracking table no longer lists any planned migration, and posts the
 *     resolution; or, on the first failing step, posts the error in plain words with
 *     the steps that did and did not complete, and leaves the incident open as failed
 *     (runbook 003 "Partial down failure": stop further automated actions).
 *
 * Safe to repeat: steps already reverted (absent from the tracking table) are not
 * run again, so a job retried after a crash resumes where it stopped.
 * @throws AppError `rollback_already_running` / `service_db_unreachable` (retryable: the job retries)
 */
export async function runRollback(deps: IncidentDeps, incidentId: string): Promise<RollbackRun> {
  let incident = await deps.repo.get(incidentId);
  if (!incident) return { kind: 'skipped', reason: 'incident not found' };
  const service = resolveService(deps.services, incident.service);
  if (incident.state === 'opened' || incident.state === 'snapshotting') return { kind: 'wait_for_snapshot' };
  if (incident.state !== 'awaiting_approval' && incident.state !== 'rolling_back') {
    return { kind: 'skipped', reason: `incident is ${incident.state}` };
  }
  const approvals = await deps.repo.listApprovals(incident.id);
  if (approvals.length < service.approvals.required) {
    return { kind: 'skipped', reason: `${approvals.length} of ${service.approvals.required} approvals` };
  }
  if (incident.kind === 'restore') return runRestore(deps, incident);
  if (!incident.snapshot || incident.snapshot.status !== 'available') return { kind: 'wait_for_snapshot' };

  // Nothing touches the database without a verified snapshot (issue 2, runbook 003 checklist).
  if (incident.snapshot.provider !== 'none') {
    try {
      await deps.snapshotProvider(service).verify(incident.snapshot);
    } catch (err) {
      if (isAppError(err) && err.retryable) throw err;
      return fail(deps, incident, failureOf(err), []);
    }
  }

  const tool = deps.migrationTool(service);
  const started = deps.clock.now().getTime();
  try {
    return await tool.withRollbackLock(async () => {
      if (incident!.state === 'awaiting_approval') incident = await deps.repo.transition(incident!.id, 'rollback_started', BOT);
      const current = incident!;
      const stillApplied = new Set((await tool.listApplied()).map((m) => m.name));
      const outcomes: StepOutcome[] = current.plan.map((s) =>
        stillApplied.has(s.migration) ? { migration: s.migration, status: 'not_run' } : { migration: s.migration, status: 'done' },
      );
      const total = current.plan.length;
      for (const [i, step] of current.plan.entries()) {
        if (outcomes[i]!.status === 'done') continue;
        await deps.notifier.progress(current, `:arrow_backward: Step ${i + 1}/${total}: running the down migration of \`${step.migration}\` (lock_timeout ${service.lock_timeout.text})…`);
        try {
          const { durationMs } = await tool.runDown(step, service.lock_timeout);
          outcomes[i] = { migration: step.migration, status: 'done', durationMs };
          await deps.repo.setSteps(current.id, outcomes);
          await deps.repo.log(current.id, 'step_done', BOT, { migration: step.migration, durationMs });
          await deps.notifier.progress(current, `:white_check_mark: Step ${i + 1}/${total}: \`${step.migration}\` reverted in ${durationMs} ms.`);
        } catch (err) {
          outcomes[i] = { migration: step.migration, status: 'failed', error: isAppError(err) && err.userMessage ? err.userMessage : 'failed' };
          if (isAppError(err, 'service_db_unreachable')) {
            await deps.repo.setSteps(current.id, outcomes);
            throw err; // retryable: the job resumes from the tracking table
          }
          return fail(deps, current, failureOf(err), outcomes);
        }
      }

      const after = await tool.listApplied();
      const planned = new Set(current.plan.map((s) => s.migration));
      const left = after.filter((m) => planned.has(m.name)).map((m) => m.name);
      const verification = {
        passed: left.length === 0,
        stillApplied: left,
        head: after.length ? after[after.length - 1]!.name : null,
        durationMs: deps.clock.now().getTime() - started,
      };
      if (!verification.passed) {
        return fail(deps, current, {
          code: 'rollback_verification_failed',
          message: `The tracking table still lists ${left.map((m) => `\`${m}\``).join(', ')} after the down migrations ran.`,
        }, outcomes);
      }
      const resolved = await deps.repo.transition(current.id, 'rollback_succeeded', BOT, { head: verification.head });
      await deps.jobs.stopStatusUpdates(current.id);
      await deps.notifier.resolution({ ...resolved, steps: outcomes }, verification);
      return { kind: 'resolved' } as const;
    });
  } finally {
    await tool.close().catch(() => undefined);
  }
}

/**
 * The approved restore (issue 3): restores to the NEW target named when the incident
 * opened (a retried job reuses it), posts progress, then the endpoint and runbook 003's
 * cut-over steps. The cut-over itself is left to people.
 */
async function runRestore(deps: IncidentDeps, incident: Incident): Promise<RollbackRun> {
  const service = resolveService(deps.services, incident.service);
  const spec = incident.restore;
  if (!spec) return { kind: 'skipped', reason: 'restore incident without a restore spec' };
  let current = incident;
  if (current.state === 'awaiting_approval') current = await deps.repo.transition(current.id, 'rollback_started', BOT, { restore: true });
  try {
    const outcome = await deps.restorer(service).restore(
      {
        incidentId: current.id,
        requestedBy: current.requestedBy,
        snapshotId: spec.snapshotId,
        to: spec.to ? new Date(spec.to) : undefined,
        target: spec.target,
      },
      (text) => deps.notifier.progress(current, text),
    );
    const restore = { ...spec, result: { identifier: outcome.identifier, endpoint: outcome.endpoint, elapsedMs: outcome.elapsedMs } };
    await deps.repo.setRestore(current.id, restore);
    const resolved = await deps.repo.transition(current.id, 'rollback_succeeded', BOT, { restored: outcome.identifier });
    await deps.jobs.stopStatusUpdates(current.id);
    await deps.notifier.restoreComplete({ ...resolved, restore }, outcome.note);
    return { kind: 'resolved' };
  } catch (err) {
    if (isAppError(err) && err.retryable) throw err;
    return fail(deps, current, failureOf(err), []);
  }
}

function failureOf(err: unknown): IncidentFailure {
  if (err instanceof AppError) return { code: err.code, message: err.userMessage ?? err.message };
  return { code: 'rollback_step_failed', message: 'An unexpected error stopped the rollback. The bot logs have the details.' };
}

async function fail(deps: IncidentDeps, incident: Incident, failure: IncidentFailure, steps: StepOutcome[]): Promise<RollbackRun> {
  deps.logger.error({ incidentId: incident.id, failure }, 'rollback failed');
  await deps.repo.setSteps(incident.id, steps);
  const event = incident.state === 'rolling_back' ? 'rollback_failed' : 'failed';
  const failed = await deps.repo.transition(incident.id, event, BOT, { failure });
  await deps.notifier.failure({ ...failed, steps }, failure, steps);
  return { kind: 'failed', failure };
}
