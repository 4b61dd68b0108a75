import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import { code, strong, type Words, words } from '../../../shared/words.js';
import { objectWords } from '../../rollback/archive.js';
import { planBasis, planDigest } from '../../rollback/plan-digest.js';
import type { PlanStep } from '../../rollback/plan.js';
import { type OnConflict, unarchivePlanStep, unarchiveProblems, unarchiveRefusal } from '../../rollback/unarchive.js';
import type { VerificationReport } from '../../verify/verification.js';
import { INCIDENT_REF, shortId, type Incident, type StepOutcome } from '../model/incident.js';
import { expectedSnapshotId } from '../model/plan-basis.js';
import type { RollbackRun } from '../model/rollback-run.js';
import { parseSeverity } from '../process/severity.js';
import type { IncidentDeps } from '../ports/deps.js';
import { requireAccess } from './access.js';
import { archiveSettingsOf } from './archive-retention.js';
import { failIncident } from './fail-incident.js';
import { assertNoOpenIncident, queuePreparation, startIncident } from './open-incident.js';
import { resolveService } from './resolve-service.js';
import { resolveRollback, startRollback } from './rollback-milestones.js';

const BOT = 'migrate-bot';

/** What `/migrate unarchive <incident> [--table NAME] [--on-conflict skip|overwrite] [--service NAME]` asks for. */
export interface OpenUnarchiveInput {
  service?: string;
  /** The incident whose downs archived the data: its id or its 8-hex short id. */
  incident: string;
  /** One archive table of that incident; default: all of them. */
  table?: string;
  onConflict?: Exclude<OnConflict, 'refuse'>;
  requestedBy: string;
  responseUrl?: string;
}

const refuse = (message: string, why: Words): never => {
  throw new AppError({ code: 'unarchive_refused', message, userMessage: words`${why} Nothing was recorded.` });
};

/**
 * The plan that writes archives back, from the archive tables and their target tables as they are
 * now: one step per archive table, the newest copy first (a table a down dropped after its children
 * goes back before them).
 * @throws AppError `unarchive_refused` naming what is missing or conflicting (nothing recorded)
 */
async function unarchivePlan(
  deps: IncidentDeps,
  service: ServiceConfig,
  schema: string,
  tables: readonly string[],
  onConflict: OnConflict,
): Promise<PlanStep[]> {
  const inspected = await deps.archive.inspectUnarchive(service, schema, tables);
  const refusals = inspected.map((x) => unarchiveRefusal(x.source, x.target, onConflict)).filter((r) => r !== null);
  if (refusals.length)
    refuse(`unarchive refused: ${refusals.join('; ')}`, words`Cannot unarchive: ${refusals.join('; ')}.`);
  return inspected.map((x, i) => unarchivePlanStep(x.source, x.target, onConflict, i + 1));
}

/**
 * Opens an unarchive incident: writes back what a rollback archived before its downs destroyed it,
 * once the schema has the column or table again (after a fix-forward or a re-applied migration).
 * Like a rollback: a channel, a plan card with the SQL, the service's approvals (its destructive
 * tier with `--on-conflict overwrite`), a snapshot before anything is written; then the write in
 * one transaction with `lock_timeout`, and a row-by-row comparison with the archive.
 * Refused before anything is recorded when the incident left no archive here, the table or
 * column is missing (named), or archived keys now exist with other values and no `--on-conflict`
 * was given (the count is shown).
 * @throws AppError `access_refused`, `command_invalid`, `archive_off`, `unarchive_refused`,
 *   `incident_already_open`, `service_db_unreachable`, `job_queue_unreachable` (nothing kept)
 */
export async function openUnarchive(deps: IncidentDeps, input: OpenUnarchiveInput): Promise<Incident> {
  const service = resolveService(deps.services, input.service);
  await requireAccess(deps, service, input.requestedBy, 'request', 'unarchive');
  const ref = input.incident.toLowerCase();
  if (!INCIDENT_REF.test(ref))
    throw new AppError({
      code: 'command_invalid',
      message: 'invalid incident id for unarchive',
      userMessage: words`${code('/migrate unarchive')} takes the incident that archived the data: its short id (8 hex digits, e.g. ${code('3f9a12bc')}) or its full id. ${code('/migrate archive list')} shows them.`,
    });
  const settings = archiveSettingsOf(service);
  const all = (await deps.archive.list(service, settings.schema)).filter(
    (t) => t.incidentId && (t.incidentId === ref || shortId(t.incidentId) === ref),
  );
  if (!all.length)
    refuse(
      `no archive of incident ${ref}`,
      words`Incident ${code(ref)} left no archive table in ${code(settings.schema)} of ${strong(service.name)}; ${code('/migrate archive list')} shows what is kept.`,
    );
  const chosen = input.table ? all.filter((t) => t.table === input.table) : all;
  if (!chosen.length)
    refuse(
      `no archive table ${input.table} of incident ${ref}`,
      words`Incident ${code(ref)} has no archive table ${code(input.table ?? '')}; its tables: ${all.map((t) => t.table).join(', ')}.`,
    );
  await assertNoOpenIncident(deps, service, input.responseUrl);
  // Newest copy first: a parent table a down dropped after its children goes back before them.
  const tables = chosen
    .slice()
    .sort((a, b) => (b.copiedAt ?? '').localeCompare(a.copiedAt ?? '') || b.table.localeCompare(a.table))
    .map((t) => t.table);
  const plan = await unarchivePlan(deps, service, settings.schema, tables, input.onConflict ?? 'refuse');
  const createdAt = deps.clock.now();
  const source = all[0]!.incidentId!;
  return startIncident(
    deps,
    service,
    {
      kind: 'unarchive',
      service: service.name,
      migration: `unarchive of ${shortId(source)}`,
      requestedBy: input.requestedBy,
      plan,
      responseUrl: input.responseUrl,
      createdAt,
      severity: parseSeverity(service.process.defaultSeverity, service.process.severities).name,
      private: service.access.private,
      basis: planBasis(plan, null, expectedSnapshotId({ service: service.name, createdAt, attempt: 1 }, service)),
    },
    (incident) => queuePreparation(deps, service, incident),
  );
}

/** The comparison of every archive with its table, as the resolution's one check. */
async function compareWithArchive(
  deps: IncidentDeps,
  service: ServiceConfig,
  plan: readonly PlanStep[],
): Promise<VerificationReport> {
  const t0 = performance.now();
  const steps = plan.flatMap((s) => (s.unarchive ? [s.unarchive] : []));
  const compared = await deps.archive.compareWriteBack(service, steps);
  const problems = steps.flatMap((s, i) => unarchiveProblems(s, compared[i]!));
  const rows = compared.reduce((n, c) => n + c.rows, 0);
  const equal = compared.reduce((n, c) => n + c.equal, 0);
  const sums = compared.every((c) => c.checksums.archive === c.checksums.table);
  const durationMs = Math.round(performance.now() - t0);
  return {
    passed: problems.length === 0,
    stillApplied: [],
    head: null,
    durationMs,
    checks: [
      {
        name: 'archived_data',
        title: 'Archived data written back (row by row, and by checksum)',
        status: problems.length ? 'failed' : 'passed',
        detail: `${equal.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')} archived rows are in the tables with equal values; checksums ${sums ? 'match' : 'differ'}`,
        problems,
        durationMs,
      },
    ],
  };
}

/**
 * The approved unarchive (under the service's rollback lock, so no migration runs meanwhile): the
 * plan made again from the archive and the tables as they are now must be the plan approved (a
 * conflict or a column that appeared or went since fails it, nothing written); then every archive
 * is written back in one transaction with `lock_timeout`, each table logged as `unarchive_written`,
 * compared with its archive, and the resolution posted.
 * @throws AppError retryable ones (the job retries); others fail the incident in the caller
 */
export async function runUnarchive(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
): Promise<RollbackRun> {
  const settings = archiveSettingsOf(service);
  const tool = deps.migrationTool(service);
  const started = deps.clock.now().getTime();
  try {
    const done = await tool.withRollbackLock(async () => {
      let current = incident;
      if (current.state === 'awaiting_approval') {
        const tables = current.plan.map((s) => s.unarchive!.archive.table);
        const mode = current.plan[0]?.unarchive?.onConflict ?? 'refuse';
        const now = await unarchivePlan(deps, service, settings.schema, tables, mode);
        if (planDigest(now, null, '') !== planDigest(current.plan, null, '')) {
          const failure = {
            code: 'unarchive_plan_changed',
            message: words`The archive or its tables changed after the plan was approved (${current.plan.map((s) => objectWords(s.unarchive!.target)).join(', ')}); nothing was written. Run ${code('/migrate unarchive')} again for a new plan.`,
          };
          await failIncident(deps, current.id, failure);
          return { kind: 'failed', failure } as const;
        }
        current = await startRollback(deps, current);
      }
      const t0 = deps.clock.now();
      const running: StepOutcome[] = current.plan.map((s) => ({
        migration: s.migration,
        status: 'running',
        startedAt: t0.toISOString(),
      }));
      await deps.repo.setSteps(current.id, running);
      const written = await deps.archive.writeBack(service, current.plan, {
        lockTimeout: service.lock_timeout,
        stepTimeout: service.step_timeout,
      });
      const durationMs = deps.clock.now().getTime() - t0.getTime();
      const outcomes: StepOutcome[] = current.plan.map((s) => ({ migration: s.migration, status: 'done', durationMs }));
      await deps.repo.setSteps(current.id, outcomes);
      for (const [i, s] of current.plan.entries())
        await deps.repo.log(current.id, 'unarchive_written', BOT, {
          archive: s.migration,
          object: objectWords(s.unarchive!.target),
          rows: written[i],
        });
      return {
        kind: 'verified',
        incident: current,
        outcomes,
        verification: await compareWithArchive(deps, service, current.plan),
      } as const;
    });
    return done.kind === 'verified' ? await resolveRollback(deps, done, service, started) : done;
  } finally {
    await tool.close().catch(() => undefined);
  }
}
