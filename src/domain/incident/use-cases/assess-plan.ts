import { isAppError } from '../../../shared/errors.js';
import { wordsPlain } from '../../../shared/words.js';
import { unrunSchemaCheck } from '../../rollback/plan-schema-check.js';
import type { ServiceConfig } from '../../../config/services.js';
import { classifyPlan, isDestructive } from '../../rollback/risk.js';
import { type Incident, shortId } from '../model/incident.js';
import { annotateFindings, archivePlan, archiveTargets, withArchive } from '../../rollback/archive.js';
import { planBasis } from '../../rollback/plan-digest.js';
import type { IncidentDeps } from '../ports/deps.js';
import { renameTargets, type UsageTarget } from '../../rollback/usage.js';

const BOT = 'migrate-bot';

/**
 * Classifies the plan's SQL and measures what it would destroy (read-only, triage limits),
 * storing the result on the incident before the plan card is posted, so the card and the
 * approval tier read the same risk. Figures that cannot be taken say why; classification
 * itself never fails on bad SQL (it is "unknown risk").
 */
export async function assessRisk(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<Incident> {
  const risk = await deps.measureRisk(service, await classifyPlan(incident.plan));
  await deps.repo.setRisk(incident.id, risk);
  await deps.repo.log(incident.id, 'risk_assessed', BOT, {
    destructive: isDestructive(risk),
    findings: risk.steps.flatMap((s) =>
      s.findings.map((f) => ({ migration: s.migration, class: f.class, what: f.what, count: f.figure?.count ?? null })),
    ),
  });
  return { ...incident, risk };
}

/**
 * Checks the incident's plan against the schemas (see `IncidentDeps.checkPlanSchema`) and keeps
 * the result on the incident for the plan card, logging it and every scratch database made and
 * dropped for it. Never fails the prepare job: a check that cannot run is kept with its reason.
 * @returns the incident with its `schemaCheck` (unchanged when the tool cannot build a scratch database)
 */
export async function assessSchema(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<Incident> {
  try {
    const check = await deps.checkPlanSchema(service, incident.plan, {
      onScratch: (event, database) => deps.repo.log(incident.id, event, BOT, { database }),
    });
    if (!check) return incident;
    await deps.repo.setSchemaCheck(incident.id, check);
    await deps.repo.log(incident.id, 'schema_checked', BOT, {
      downs: check.downs.state,
      live: check.live.matches,
      computed: check.computed.step !== null,
      ms: check.ms,
      error: check.error,
    });
    return { ...incident, schemaCheck: check };
  } catch (err) {
    deps.logger.warn({ err, incidentId: incident.id }, 'the plan could not be checked against the schemas');
    const check = unrunSchemaCheck(
      { checkedAt: deps.clock.now().toISOString(), target: null, tested: [] },
      isAppError(err) && err.userMessage
        ? wordsPlain(err.userMessage)
        : 'the check failed; the bot logs have the details',
    );
    await deps.repo.setSchemaCheck(incident.id, check).catch(() => undefined);
    return { ...incident, schemaCheck: check };
  }
}

/**
 * Archive before destroy: for every data-loss finding of the plan's downs, what the catalogs say
 * of the table or column (schema, primary key, estimated size) and whether the role may create
 * the archive; the copies go on the plan's steps (the digest covers them), the findings say
 * "archived first to …" or why not, and the plan is stored again with its basis — only while no
 * approval exists (before the card). With `archive: off`, or nothing to lose, nothing changes.
 * Never fails the prepare job: a catalog that cannot be read leaves the plan without archive.
 */
export async function assessArchive(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<Incident> {
  const settings = service.archive;
  if (settings === 'off' || incident.kind !== 'rollback' || !incident.risk || !incident.basis) return incident;
  const targets = archiveTargets(incident.plan, incident.risk);
  if (!targets.length) return incident;
  try {
    const { resolved, privilegeProblem } = await deps.archive.resolve(service, targets, settings.schema);
    const archive = archivePlan(
      incident.id,
      shortId(incident.id),
      incident.plan,
      targets,
      resolved,
      settings,
      privilegeProblem,
    );
    const plan = withArchive(incident.plan, archive);
    const basis = planBasis(plan, incident.basis.head, incident.basis.snapshotId);
    const risk = annotateFindings(incident.risk, incident.plan, archive);
    if (!(await deps.repo.refinePlan(incident.id, plan, basis))) return incident;
    await deps.repo.setRisk(incident.id, risk);
    await deps.repo.log(incident.id, 'archive_planned', BOT, {
      copies: archive.copies.map((c) => ({
        table: `${c.schema}.${c.table}`,
        object: c.object,
        estimatedBytes: c.estimatedBytes,
        estimatedRows: c.estimatedRows,
      })),
      refused: archive.refused,
      totalBytes: archive.totalBytes,
    });
    return { ...incident, plan, basis, risk };
  } catch (err) {
    deps.logger.warn({ err, incidentId: incident.id }, 'the archive could not be planned; the data-loss lines stay');
    return incident;
  }
}

/**
 * Who still uses what the downs drop (runbook 003: deploy the application version that no longer
 * uses it first): statements in pg_stat_statements, sessions in pg_stat_activity and dependent
 * views, kept with the risk for the card. Read-only; never fails the prepare job.
 */
export async function assessUsage(deps: IncidentDeps, incident: Incident, service: ServiceConfig): Promise<Incident> {
  if (incident.kind !== 'rollback' || !incident.risk) return incident;
  // What the downs drop or rename: a statement still using it breaks once they run.
  const targets: UsageTarget[] = archiveTargets(incident.plan, incident.risk);
  const seen = new Set(targets.map((t) => `${t.table.schema}.${t.table.name}.${t.column ?? ''}`));
  for (const t of await renameTargets(incident.plan))
    if (!seen.has(`${t.table.schema}.${t.table.name}.${t.column ?? ''}`)) targets.push(t);
  if (!targets.length) return incident;
  try {
    const usage = await deps.archive.usage(service, targets);
    const risk = { ...incident.risk, usage };
    await deps.repo.setRisk(incident.id, risk);
    await deps.repo.log(incident.id, 'usage_checked', BOT, {
      objects: usage.objects.map((o) => ({
        object: o.object,
        statements: o.statements,
        calls: o.calls,
        lastSeen: o.lastSeen,
      })),
      dependents: usage.dependents,
      statementsUnavailable: usage.statementsUnavailable,
    });
    return { ...incident, risk };
  } catch (err) {
    deps.logger.warn({ err, incidentId: incident.id }, 'who still uses what the downs drop could not be looked at');
    return incident;
  }
}
