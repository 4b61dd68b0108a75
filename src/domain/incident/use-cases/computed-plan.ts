import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import { code, strong, type Words, type WordsLike, words, wordsPlain } from '../../../shared/words.js';
import { type PlanBasis, planBasis, trackingHead } from '../../rollback/plan-digest.js';
import type { PlanStep } from '../../rollback/plan.js';
import { computedPlanReason, computedPlanReasonWords } from '../../rollback/plan-schema-check.js';
import { APPROVABLE_STATES, type Incident } from '../model/incident.js';
import { expectedSnapshotId } from '../model/plan-basis.js';
import { isApprover } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import { approvalProgress } from './approval-progress.js';
import { scheduleApprovalsPage } from './paging.js';
import { assessArchive, assessRisk, assessSchema, assessUsage } from './assess-plan.js';
import { resolveService } from './resolve-service.js';

/**
 * Replaces an incident's plan (the files changed, or the computed plan was taken): the new plan
 * and basis stored and every approval voided in one transaction, the old card marked superseded,
 * the channel told what changed, the risk measured again (and a plan from the files checked
 * against the schemas again) and a new card posted.
 * @returns the incident with its new plan and risk
 */
export async function replacePlan(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  next: { plan: PlanStep[]; basis: PlanBasis },
  changes: string[],
): Promise<Incident> {
  const oldProgress = await approvalProgress(deps, incident, service);
  const replaced = await deps.repo.supersedePlan(incident.id, next.plan, next.basis, {
    changes,
    previous: incident.basis?.digest ?? null,
  });
  await deps.notifier.updatePlanCard(incident, { ...oldProgress, superseded: true });
  await deps.notifier.progress(replaced, {
    kind: 'plan_superseded',
    voided: oldProgress.approvals.map((a) => a.userId),
    changes,
  });
  // A plan from the files is checked against the schemas again; a computed plan was just computed.
  const checked = next.plan.some((s) => s.computed) ? replaced : await assessSchema(deps, replaced, service);
  const assessed = await assessUsage(
    deps,
    await assessArchive(deps, await assessRisk(deps, checked, service), service),
    service,
  );
  await deps.notifier.planCard(assessed, await approvalProgress(deps, assessed, service));
  await scheduleApprovalsPage(deps, assessed);
  return assessed;
}

/**
 * The plan card's *Use computed plan*: by the requester or an approver, while the plan awaits
 * approval and the files' plan cannot serve (`computedPlanReason`). The plan is computed again
 * from the live schema as it is now (migra's SQL proved on a schema-only copy), becomes the
 * incident's plan with its own digest, and every approval of the files' plan is voided.
 * @returns what to tell the person
 * @throws AppError `computed_plan_refused` (with why; nothing changed), `incident_not_found`
 */
export async function useComputedPlan(deps: IncidentDeps, incidentId: string, userId: string): Promise<Words> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) throw new AppError({ code: 'incident_not_found', message: `incident ${incidentId} not found` });
  const service = resolveService(deps.services, incident.service);
  const refuse = (why: WordsLike): never => {
    throw new AppError({
      code: 'computed_plan_refused',
      message: wordsPlain(why),
      userMessage: words`${why} Nothing changed.`,
    });
  };
  if (incident.kind !== 'rollback' || !APPROVABLE_STATES.includes(incident.state))
    refuse(`The incident is ${incident.state.replace(/_/g, ' ')}; only a plan awaiting approval can be replaced.`);
  if (userId !== incident.requestedBy && !(await isApprover(deps.directory, service, userId, incident)))
    refuse(words`Only the requester or an approver for ${strong(service.name)} can switch to the computed plan.`);
  if (incident.plan.some((s) => s.computed)) refuse('The plan is already the computed plan.');
  const reason = computedPlanReason(incident.plan, incident.schemaCheck);
  if (!reason)
    refuse("The files' downs bring the schema to the target; the computed plan is offered only when they cannot.");

  const fresh = await deps.checkPlanSchema(service, incident.plan, {
    onScratch: (event, database) => deps.repo.log(incident.id, event, userId, { database }),
  });
  const step = fresh?.computed.step;
  if (!fresh || !step)
    refuse(
      `The computed plan could not be made again from the live schema: ${fresh?.error ?? fresh?.computed.error ?? (fresh?.computed.unexpressed.length ? `these objects cannot be brought to the target: ${fresh.computed.unexpressed.join(', ')}` : 'the tool cannot build a scratch database')}.`,
    );
  await deps.repo.setSchemaCheck(incident.id, fresh!);
  const tool = deps.migrationTool(service);
  let head: ReturnType<typeof trackingHead>;
  try {
    head = trackingHead(await tool.listApplied());
  } finally {
    await tool.close().catch(() => undefined);
  }
  const snapshotId = incident.snapshot?.id ?? expectedSnapshotId(incident, service);
  const plan = [step!];
  const because = computedPlanReasonWords(reason!);
  await deps.repo.log(incident.id, 'computed_plan_taken', userId, {
    reason: wordsPlain(because),
    statements: step!.sql.length,
  });
  await replacePlan(
    deps,
    { ...incident, schemaCheck: fresh },
    service,
    { plan, basis: planBasis(plan, head, snapshotId) },
    [
      wordsPlain(
        words`the plan is now the computed plan (${String(step!.sql.length)} statement(s) from the live schema to ${step!.computed!.target ? code(step!.computed!.target.name) : 'an empty schema'}) because ${because}`,
      ),
    ],
  );
  return words`The plan is now the computed plan (${String(step!.sql.length)} statement(s)). Approvals of the files' plan were voided; a new card is posted.`;
}
