import { isAppError } from '../../../shared/errors.js';
import { wordsPlain } from '../../../shared/words.js';
import { unrunSchemaCheck } from '../../rollback/plan-schema-check.js';
import type { ServiceConfig } from '../../../config/services.js';
import { classifyPlan, isDestructive } from '../../rollback/risk.js';
import type { Incident } from '../model/incident.js';
import type { IncidentDeps } from '../ports/deps.js';

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
