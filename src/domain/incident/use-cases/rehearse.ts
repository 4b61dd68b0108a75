import { conversation, strong, type Words, type WordsLike, user, words, wordsPlain } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { StepOutcome } from '../model/incident.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import { redactSecrets } from '../../../shared/redact.js';
import { approvalProgress } from './approvals.js';
import { isApprover } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import { APPROVABLE_STATES, type Incident } from '../model/incident.js';
import { resolveService } from './resolve-service.js';
import { rehearsalRefusal, type RehearsalResult } from '../model/rehearsal-policy.js';
import { runPlanStep } from '../../rollback/migration-tool.js';

export { rehearsalRefusal, type RehearsalResult } from '../model/rehearsal-policy.js';
import type { Restorer } from '../../snapshots/restorer.js';

const BOT = 'migrate-bot';

/**
 * `/migrate rehearse` and the plan card's *Rehearse* (runbook 003 scenario 3: "reproduce on a
 * restored test copy"): by the requester or an approver, once the incident's snapshot is
 * available, one rehearsal at a time. Queues the rehearsal job; production is never touched.
 * @returns what to tell the person
 * @throws AppError `incident_not_found`, `rehearsal_refused`, `job_queue_unreachable`
 */
export async function requestRehearsal(deps: IncidentDeps, incident: Incident, userId: string): Promise<Words> {
  const service = resolveService(deps.services, incident.service);
  const refuse = (why: WordsLike): never => {
    throw new AppError({
      code: 'rehearsal_refused',
      message: wordsPlain(why),
      userMessage: words`${why} Nothing changed.`,
    });
  };
  if (incident.kind !== 'rollback' || !APPROVABLE_STATES.includes(incident.state))
    refuse(`The incident is ${incident.state.replace(/_/g, ' ')}; only a plan awaiting approval is rehearsed.`);
  if (userId !== incident.requestedBy && !(await isApprover(deps.directory, service, userId, incident)))
    refuse(words`Only the requester or an approver for ${strong(service.name)} can start a rehearsal.`);
  const why = rehearsalRefusal(service);
  if (why) refuse(why);
  if (incident.snapshot?.status !== 'available')
    refuse("The incident's snapshot is not available yet; rehearse once the initial notice says it is saved.");
  const last = await deps.repo.lastEvent(incident.id, ['rehearsal_requested', 'rehearsal_done']);
  // A request with no result for an hour is a lost job, not a running one.
  if (last?.type === 'rehearsal_requested' && deps.clock.now().getTime() - last.at.getTime() < 60 * 60_000)
    refuse(words`A rehearsal is already running (asked by ${user(String(last.data.by))}).`);
  await deps.repo.log(incident.id, 'rehearsal_requested', userId, {
    by: userId,
    digest: incident.basis?.digest ?? null,
  });
  try {
    await deps.jobs.rehearse(incident);
  } catch (err) {
    await deps.repo.log(incident.id, 'rehearsal_done', BOT, {
      passed: false,
      error: 'the job queue did not answer',
      digest: incident.basis?.digest ?? null,
      steps: [],
    });
    throw err;
  }
  await deps.notifier.progress(incident, {
    kind: 'rehearsal_started',
    by: userId,
    snapshotId: incident.snapshot!.id,
    lockTimeout: service.lock_timeout.text,
  });
  return incident.conversation
    ? words`Rehearsal queued; results follow in ${conversation(incident.conversation.id)}.`
    : words`Rehearsal queued; results follow in the incident channel.`;
}

/**
 * The rehearsal job: restores the incident's snapshot to a scratch copy (`<db>_rehearsal_<ts>`
 * or `<instance>-rehearsal-<ts>`), runs the plan there step by step with the service's
 * `lock_timeout` (stopping at the first failure, as production would), posts each step's
 * duration and error, records the result for the plan card, and always drops the copy.
 * Production is never connected to.
 */
export async function runRehearsal(deps: IncidentDeps, incidentId: string): Promise<RehearsalResult | null> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) return null;
  const service = resolveService(deps.services, incident.service);
  const started = deps.clock.now();
  const digest = incident.basis?.digest ?? null;
  const finish = async (result: Omit<RehearsalResult, 'at' | 'elapsedMs' | 'digest'>): Promise<RehearsalResult> => {
    const done: RehearsalResult = {
      ...result,
      digest,
      at: started.toISOString(),
      elapsedMs: deps.clock.now().getTime() - started.getTime(),
    };
    await deps.repo.log(incident.id, 'rehearsal_done', BOT, { ...done });
    await deps.notifier.progress(incident, { kind: 'rehearsal_done', result: done });
    const current = await deps.repo.get(incident.id);
    if (current && APPROVABLE_STATES.includes(current.state))
      await deps.notifier.updatePlanCard(current, await approvalProgress(deps, current, service));
    return done;
  };
  const why = rehearsalRefusal(service);
  if (why || !incident.snapshot || incident.snapshot.status !== 'available')
    return finish({ passed: false, steps: [], error: why ?? 'the snapshot is not available' });

  const pgDump = service.snapshot.provider === 'pg_dump';
  const sourceUrl = pgDump ? service.rehearsal.database_url : service.database_url;
  const restorer = deps.restorer(pgDump ? { ...service, database_url: sourceUrl } : service);
  const target = restorer.targetName(started, 'rehearsal');
  let created: string | null = null;
  let result: Omit<RehearsalResult, 'at' | 'elapsedMs' | 'digest'>;
  try {
    const outcome = await restorer.restore(
      { incidentId: incident.id, requestedBy: incident.requestedBy, snapshotId: incident.snapshot.id, target },
      {
        ownsTarget: false,
        targetCreated: async (t) => {
          created = t;
          await deps.repo.log(incident.id, 'rehearsal_target_created', BOT, { target: t });
        },
      },
      (text) => deps.notifier.progress(incident, { kind: 'provider_progress', text, rehearsal: true }),
    );
    created = outcome.identifier;
    const steps = await runPlanOn(deps, incident, service, restorer.connectionUrl(outcome, sourceUrl));
    result = { passed: steps.every((s) => s.status === 'done'), steps };
  } catch (err) {
    deps.logger.warn({ err, incidentId }, 'rehearsal could not run');
    result = {
      passed: false,
      steps: [],
      error:
        isAppError(err) && err.userMessage ? err.userMessage : redactSecrets((err as Error).message ?? String(err)),
    };
  }
  // The copy goes before the result is told, so "dropped" is true when people read it.
  if (created) await dropCopy(deps, restorer, incident, created);
  return finish(result);
}

/** Drops the scratch copy; one that cannot be dropped is said in the channel, to be removed by hand. */
async function dropCopy(deps: IncidentDeps, restorer: Restorer, incident: Incident, copy: string): Promise<void> {
  try {
    await restorer.discard(copy, incident.id);
    await deps.repo.log(incident.id, 'rehearsal_target_removed', BOT, { target: copy });
  } catch (err) {
    deps.logger.error({ err, target: copy }, 'could not drop the rehearsal copy');
    await deps.notifier.progress(incident, { kind: 'rehearsal_copy_left', copy });
  }
}

/** Runs the plan's down migrations on the scratch copy at `url`, under its own rollback lock; stops at the first failure. */
async function runPlanOn(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  url: string,
): Promise<StepOutcome[]> {
  const tool = deps.migrationTool({ ...service, database_url: url });
  const outcomes: StepOutcome[] = incident.plan.map((s) => ({ migration: s.migration, status: 'not_run' }));
  try {
    await tool.withRollbackLock(async () => {
      for (const [i, step] of incident.plan.entries()) {
        if (step.irreversible) {
          outcomes[i] = { migration: step.migration, status: 'failed', error: step.irreversible };
          return;
        }
        try {
          // The copy's step has the production step's deadline: a down that would hang there hangs here first.
          const { durationMs } = await runPlanStep(tool, step, service.lock_timeout, {
            stepTimeout: service.step_timeout,
          });
          outcomes[i] = { migration: step.migration, status: 'done', durationMs };
        } catch (err) {
          outcomes[i] = {
            migration: step.migration,
            status: 'failed',
            error:
              isAppError(err) && err.userMessage ? err.userMessage : redactSecrets((err as Error).message ?? 'failed'),
          };
          return;
        }
      }
    });
  } finally {
    await tool.close().catch(() => undefined);
  }
  return outcomes;
}
