import { assertMigrationInput, migrationsToRevert, resolveMigration, type AppliedMigration, type PlanStep } from '../rollback/plan.js';
import { utcMinuteStamp } from '../shared/clock.js';
import { AppError, isAppError } from '../shared/errors.js';
import type { IncidentDeps } from './deps.js';
import type { Incident } from './incident.js';
import type { NewIncident } from './incident-repository.js';
import type { ServiceConfig } from '../config/services.js';
import { resolveService } from './resolve-service.js';

/** What `/migrate rollback <migration> [--service NAME]` asks for. */
export interface OpenIncidentInput {
  service?: string;
  /** Version (`007`) or file name, as typed. */
  migration: string;
  /** Slack user ID. */
  requestedBy: string;
}

/** Channel name for an incident opened at `at` (runbook 003: `#incident-db-migration-<ts>`, ts = UTC yyyymmdd-hhmm). */
export function incidentChannelName(at: Date): string {
  return `incident-db-migration-${utcMinuteStamp(at)}`;
}

/**
 * Opens a rollback incident (issue 2 steps 1–3; runbook 003 "Initial triage" 1–2):
 * validates the request against the service's tracking table, records the
 * incident, creates its channel with the requester and approvers, and queues
 * triage, plan and snapshot. Bad input throws before anything is recorded.
 *
 * When the service database is unreachable, the incident still opens, says so,
 * and ends as failed: nothing runs.
 *
 * @throws AppError `command_*` (bad service or migration), `incident_already_open`,
 *   `rollback_irreversible`, `rollback_missing_file`, `slack_api_error` (channel could not be made;
 *   the incident is discarded)
 */
export async function openIncident(deps: IncidentDeps, input: OpenIncidentInput): Promise<Incident> {
  const service = resolveService(deps.services, input.service);
  // Checked first, so text we refuse is never recorded, even when the database is down.
  assertMigrationInput(input.migration);
  await assertNoOpenIncident(deps, service);

  let plan: PlanStep[] = [];
  let target: AppliedMigration | null = null;
  let unreachable: AppError | null = null;
  const tool = deps.migrationTool(service);
  try {
    const applied = await tool.listApplied();
    target = resolveMigration(applied, input.migration, await tool.listFiles());
    plan = await tool.describeDown(migrationsToRevert(applied, target));
  } catch (err) {
    if (isAppError(err, 'service_db_unreachable')) unreachable = err;
    else throw err;
  } finally {
    await tool.close().catch(() => undefined);
  }
  const opened = await startIncident(deps, service, { service: service.name, migration: target?.name ?? input.migration, requestedBy: input.requestedBy, plan });
  if (unreachable) {
    const failure = { code: unreachable.code, message: unreachable.userMessage ?? unreachable.message };
    const failed = await deps.repo.transition(opened.id, 'failed', 'migrate-bot', { failure });
    await deps.notifier.failure(failed, failure, []);
    return failed;
  }
  await queuePreparation(deps, service, opened);
  return opened;
}

/**
 * Refuses a second incident for a service that has one open (issue 2: "a second rollback
 * while one is open … ephemeral pointer to the open incident").
 * @throws AppError `incident_already_open`
 */
export async function assertNoOpenIncident(deps: IncidentDeps, service: ServiceConfig): Promise<void> {
  const already = await deps.repo.findOpenByService(service.name);
  if (already) {
    throw new AppError({
      code: 'incident_already_open',
      message: `service ${service.name} already has open incident ${already.id}`,
      details: { incidentId: already.id },
      userMessage: `A${already.kind === 'restore' ? ' restore' : ' rollback'} of *${service.name}* is already open${already.channelId ? ` in <#${already.channelId}>` : ''} (\`${already.migration}\`, ${already.state.replace('_', ' ')}). Follow it there.`,
    });
  }
}

/**
 * Records the incident, creates its channel with the requester, approvers and `invite:`,
 * and posts the first message. A channel that cannot be created discards the incident, so
 * nothing half-made is left behind.
 */
export async function startIncident(deps: IncidentDeps, service: ServiceConfig, input: NewIncident): Promise<Incident> {
  const incident = await deps.repo.create(input);
  let channel: { id: string; name: string };
  try {
    const invitees = [...new Set([input.requestedBy, ...service.approvals.approvers, ...service.invite])];
    channel = await deps.notifier.createIncidentChannel(incidentChannelName(incident.createdAt), invitees);
  } catch (err) {
    await deps.repo.discard(incident.id);
    throw err;
  }
  await deps.repo.setChannel(incident.id, channel.id, channel.name);
  const opened: Incident = { ...incident, channelId: channel.id, channelName: channel.name };
  await deps.notifier.opened(opened, service);
  return opened;
}

/** Starts status updates and queues the prepare job (triage, plan card, snapshot). */
export async function queuePreparation(deps: IncidentDeps, service: ServiceConfig, incident: Incident): Promise<void> {
  await deps.jobs.startStatusUpdates(incident.id, service.status_update_minutes);
  await deps.jobs.prepare(incident.id);
}
