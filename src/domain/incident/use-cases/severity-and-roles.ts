import { AppError } from '../../../shared/errors.js';
import { code, strong, user, words } from '../../../shared/words.js';
import type { IncidentDeps } from '../ports/deps.js';
import { isOpen, type Incident } from '../model/incident.js';
import { COMMS_REMINDER_MINUTES, ROLE_WORDS, type RoleName } from '../process/roles.js';
import { isHighSeverity, pagesOnOpen, parseSeverity, statusUpdateMinutes } from '../process/severity.js';
import { announceStatus } from './announce.js';
import { pageIfSevere } from './paging.js';
import { responderIncident } from './process-access.js';
import { resolveService } from './resolve-service.js';

/**
 * `/migrate sev <level> [--reason "…"]`: changes the open incident's severity, logged
 * (`severity_changed`), said in the channel and the announce channel. Raised to a paging level
 * (SEV1/SEV2 by default), the on-call is paged; the status updates follow the new level's
 * interval; a SEV1/SEV2 without a comms lead gets the reminder.
 * @throws AppError `command_invalid` (unknown severity, or the same one), `incident_not_found`, `access_refused`
 */
export async function changeSeverity(
  deps: IncidentDeps,
  input: { service?: string; userId: string; severity: string; reason?: string },
): Promise<Incident> {
  const { incident, service } = await responderIncident(deps, input.service, input.userId, 'sev');
  const level = parseSeverity(input.severity, service.process.severities);
  if (level.name === incident.severity)
    throw new AppError({
      code: 'command_invalid',
      message: `severity already ${level.name}`,
      userMessage: words`The incident is already ${strong(level.name)}. Nothing was changed.`,
    });
  const reason = input.reason?.trim() || null;
  const { incident: changed, from } = await deps.process.setSeverity(incident.id, level.name, input.userId, reason);
  const paged = pagesOnOpen(service, changed.severity) && !pagesOnOpen(service, from);
  const notice = { kind: 'severity_changed', by: input.userId, from, to: level.name, reason, paged } as const;
  await deps.notifier.progress(changed, notice);
  // announceStatus keeps a private incident out of the stakeholders' channel.
  await announceStatus(deps, changed, notice);
  if (paged) await pageIfSevere(deps, changed, 'severity');
  const minutes = statusUpdateMinutes(service, changed.severity);
  if (minutes !== statusUpdateMinutes(service, from) && changed.endedAt === null)
    await deps.jobs
      .startStatusUpdates(changed.id, minutes)
      .catch((err: unknown) => deps.logger.warn({ err, incidentId: changed.id }, 'status update interval not changed'));
  await scheduleCommsReminder(deps, changed);
  return changed;
}

/**
 * `/migrate role commander|comms @user` (or *Take command*): hands a role over, logged
 * (`role_assigned`) and posted. The person must be a known, active member of the workspace.
 * @throws AppError `command_invalid` (unknown user, or already holding it), `incident_not_found`, `access_refused`
 */
export async function assignRole(
  deps: IncidentDeps,
  input: { service?: string; userId: string; role: RoleName; target: string },
): Promise<Incident> {
  const { incident } = await responderIncident(deps, input.service, input.userId, 'role');
  if (!(await deps.directory.isActiveUser(input.target)))
    throw new AppError({
      code: 'command_invalid',
      message: `unknown user ${input.target}`,
      userMessage: words`${code(input.target)} is not an active member of this workspace. Mention the person with @ so Slack sends who they are. Nothing was changed.`,
    });
  if (incident.roles[input.role] === input.target)
    throw new AppError({
      code: 'command_invalid',
      message: `${input.target} already ${input.role}`,
      userMessage: words`${user(input.target)} is already the ${ROLE_WORDS[input.role]}. Nothing was changed.`,
    });
  const { incident: changed, previous } = await deps.process.setRole(
    incident.id,
    input.role,
    input.target,
    input.userId,
  );
  await deps.notifier.progress(changed, {
    kind: 'role_assigned',
    by: input.userId,
    role: input.role,
    user: input.target,
    previous,
  });
  return changed;
}

/**
 * `/migrate impact-started <time>`: when customers started to feel it (incident.io's "impact
 * started"); recovery figures count from it. Never in the future, never after the incident opened
 * by more than a minute (the command is how it was detected).
 * @throws AppError `command_invalid`, `incident_not_found`, `access_refused`
 */
export async function setImpactStarted(
  deps: IncidentDeps,
  input: { service?: string; userId: string; at: Date },
): Promise<Incident> {
  const { incident } = await responderIncident(deps, input.service, input.userId, 'impact-started', { ended: true });
  const now = deps.clock.now();
  if (input.at.getTime() > now.getTime())
    throw new AppError({
      code: 'command_invalid',
      message: 'impact started in the future',
      userMessage: words`${code(input.at.toISOString())} is in the future; the impact started before now. Nothing was changed.`,
    });
  if (input.at.getTime() > incident.createdAt.getTime() + 60_000)
    throw new AppError({
      code: 'command_invalid',
      message: 'impact started after detection',
      userMessage: words`${code(input.at.toISOString())} is after the incident was opened (${code(incident.createdAt.toISOString())}); the impact started before it was detected. Nothing was changed.`,
    });
  const changed = await deps.process.setImpactStarted(incident.id, input.at, input.userId);
  await deps.notifier.progress(changed, { kind: 'impact_started_set', by: input.userId, at: input.at.toISOString() });
  return changed;
}

/** For a SEV1/SEV2 incident without a comms lead: the reminder job, due {@link COMMS_REMINDER_MINUTES} after it opened. */
export async function scheduleCommsReminder(deps: IncidentDeps, incident: Incident): Promise<void> {
  const service = resolveService(deps.services, incident.service);
  if (!isHighSeverity(incident.severity, service.process.severities) || incident.roles.comms) return;
  const due = incident.createdAt.getTime() + COMMS_REMINDER_MINUTES * 60_000 - deps.clock.now().getTime();
  await deps.jobs
    .commsReminder(incident, Math.max(0, due))
    .catch((err: unknown) => deps.logger.warn({ err, incidentId: incident.id }, 'comms reminder not scheduled'));
}

/**
 * The comms-reminder job: when the open SEV1/SEV2 incident still has no comms lead, reminds the
 * commander once (`comms_reminder` in the event log makes it once).
 * @returns whether the reminder was posted
 */
export async function remindComms(deps: IncidentDeps, incidentId: string): Promise<boolean> {
  const incident = await deps.repo.get(incidentId);
  if (!incident || !isOpen(incident.state) || incident.roles.comms) return false;
  const service = resolveService(deps.services, incident.service);
  if (!isHighSeverity(incident.severity, service.process.severities)) return false;
  if (await deps.repo.lastEvent(incident.id, ['comms_reminder'])) return false;
  await deps.repo.log(incident.id, 'comms_reminder', 'migrate-bot', { commander: incident.roles.commander });
  await deps.notifier.progress(incident, {
    kind: 'comms_reminder',
    commander: incident.roles.commander,
    minutes: COMMS_REMINDER_MINUTES,
    severity: incident.severity ?? '',
  });
  return true;
}
