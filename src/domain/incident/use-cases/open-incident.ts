import { readApproverRoster } from '../ports/approvers.js';
import { code, conversation, strong, words, type Words } from '../../../shared/words.js';
import { announceStatus } from './announce.js';
import { assertMigrationInput, type AppliedMigration, type PlanStep } from '../../rollback/plan.js';
import { describeRollback } from './describe-rollback.js';
import { utcMinuteStamp } from '../../../shared/clock.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import { requireAccess } from './access.js';
import { BREAK_GLASS_MIN_REASON, shortId, type BreakGlass, type Incident } from '../model/incident.js';
import { planBasis, type TrackingHead } from '../../rollback/plan-digest.js';
import { expectedSnapshotId } from '../model/plan-basis.js';
import type { NewIncident } from '../ports/incident-repository.js';
import type { ServiceConfig } from '../../../config/services.js';
import { resolveService } from './resolve-service.js';
import { failIncident, failureFrom } from './fail-incident.js';
import { parseSeverity, statusUpdateMinutes } from '../process/severity.js';
import { pageIfSevere } from './paging.js';
import { scheduleCommsReminder } from './severity-and-roles.js';

/** What `/migrate rollback <migration> [--service NAME]` asks for. */
export interface OpenIncidentInput {
  service?: string;
  /** Version (`007`) or file name, as typed. */
  migration: string;
  /** Slack user ID. */
  requestedBy: string;
  /** The command's response_url: the requester gets the channel link there once it exists. */
  responseUrl?: string;
  /** `--break-glass "reason"`: approvers cannot be reached; one approval suffices (at least {@link BREAK_GLASS_MIN_REASON} characters). */
  breakGlass?: string;
  /** `--sev 2`: a severity as typed (a level or a name); default the service's `incident.default_severity`. */
  severity?: string;
  /** `--private`: a private channel, nothing in the announce channel, confidential pages and tickets. */
  private?: boolean;
  /** `--impact-started`: when customers started to feel it; default when the migration was applied. */
  impactStarted?: Date;
}

/**
 * Channel name of an incident: runbook 003's `#incident-db-migration-<ts>` (ts = UTC
 * yyyymmdd-hhmm) followed by the service and the incident's short id, so it is unique by
 * construction and one `conversations.create` opens it (Slack's Tier 2 allows about 20 a
 * minute). The service part is cut so the name fits Slack's 80 characters; the id is kept whole.
 */
export function incidentChannelName(incident: Pick<Incident, 'createdAt' | 'service' | 'id'>): string {
  const head = `incident-db-migration-${utcMinuteStamp(incident.createdAt)}-`;
  const tail = `-${shortId(incident.id)}`;
  const service = incident.service.slice(0, 80 - head.length - tail.length).replace(/-+$/, '');
  return `${head}${service}${tail}`;
}

/**
 * Opens a rollback incident (runbook 003 "Initial triage" 1–2): validates the request
 * against the service's tracking table, records the incident with its channel and first
 * message in the outbox, and queues triage, plan and snapshot. Bad input throws before
 * anything is recorded; a job queue that does not answer undoes the incident, so nothing
 * half-made is left behind.
 *
 * When the service database is unreachable, the incident still opens, says so, and ends
 * as failed: nothing runs.
 *
 * An irreversible step does not stop it: the incident opens and its plan card offers a
 * restore instead of approval buttons. Break glass (`breakGlass`, a reason of at least 20
 * characters) is refused for such a plan, and otherwise announced loudly.
 * Who may ask is services.yaml's `access.requesters`; break glass also needs `access.break_glass`.
 * @throws AppError `access_refused`, `command_*` (bad service, migration or break-glass reason), `incident_already_open`,
 *   `break_glass_refused`, `rollback_missing_file`, `job_queue_unreachable` (nothing kept)
 */
export async function openIncident(deps: IncidentDeps, input: OpenIncidentInput): Promise<Incident> {
  const service = resolveService(deps.services, input.service);
  // Who may ask comes first: a refused user learns nothing of the service and nothing is recorded.
  await requireAccess(deps, service, input.requestedBy, 'request', 'rollback');
  if (input.breakGlass !== undefined)
    await requireAccess(deps, service, input.requestedBy, 'break_glass', 'rollback --break-glass');
  // Checked first, so text we refuse is never recorded, even when the database is down.
  assertMigrationInput(input.migration);
  await assertNoOpenIncident(deps, service, input.responseUrl);

  if (input.breakGlass !== undefined) assertBreakGlassReason(input.breakGlass);
  const severity = parseSeverity(input.severity ?? service.process.defaultSeverity, service.process.severities).name;
  if (input.impactStarted && input.impactStarted.getTime() > deps.clock.now().getTime())
    throw new AppError({
      code: 'command_invalid',
      message: 'impact started in the future',
      userMessage: words`${code('--impact-started')} ${code(input.impactStarted.toISOString())} is in the future; the impact started before now. Nothing was recorded.`,
    });

  let plan: PlanStep[] = [];
  let target: AppliedMigration | null = null;
  let unreachable: AppError | null = null;
  let head: TrackingHead | null = null;
  try {
    ({ target, plan, head } = await describeRollback(deps, service, input.migration));
  } catch (err) {
    if (isAppError(err, 'service_db_unreachable')) unreachable = err;
    else throw err;
  }
  const irreversible = plan.filter((s) => s.irreversible);
  if (input.breakGlass !== undefined && irreversible.length) {
    throw new AppError({
      code: 'break_glass_refused',
      message: `break glass refused: ${irreversible.map((s) => s.migration).join(', ')} irreversible`,
      userMessage: `Break glass is never allowed for an irreversible step: ${irreversible.map((s) => s.irreversible).join('; ')}. Nothing was recorded. Restore from a snapshot instead (\`/migrate restore <snapshot-id>\`, runbook 003 Option B).`,
    });
  }
  const createdAt = deps.clock.now();
  const breakGlass =
    input.breakGlass !== undefined
      ? { by: input.requestedBy, reason: input.breakGlass.trim(), at: createdAt.toISOString() }
      : undefined;
  const impactStarted = input.impactStarted?.toISOString() ?? appliedAt(target);
  const incident = {
    service: service.name,
    migration: target?.name ?? input.migration,
    requestedBy: input.requestedBy,
    plan,
    responseUrl: input.responseUrl,
    createdAt,
    severity,
    private: input.private === true || service.access.private,
    ...(impactStarted ? { impactStarted } : {}),
    ...(unreachable
      ? {}
      : {
          basis: planBasis(plan, head, expectedSnapshotId({ service: service.name, createdAt, attempt: 1 }, service)),
        }),
    ...(breakGlass ? { breakGlass } : {}),
  };
  if (unreachable) {
    const opened = await startIncident(deps, service, incident, async () => undefined);
    const failed = await failIncident(
      deps,
      opened.id,
      failureFrom(unreachable, { code: unreachable.code, message: unreachable.message }),
    );
    return failed ?? opened;
  }
  const opened = await startIncident(deps, service, incident, (o) => queuePreparation(deps, service, o));
  await announceStatus(deps, opened, { kind: 'opened', by: opened.requestedBy, steps: opened.plan.length });
  await pageIfSevere(deps, opened);
  await scheduleCommsReminder(deps, opened);
  if (breakGlass) await announceBreakGlass(deps, opened, breakGlass);
  return opened;
}

/**
 * Refuses a break-glass reason shorter than {@link BREAK_GLASS_MIN_REASON} characters.
 * @throws AppError `command_invalid`
 */
export function assertBreakGlassReason(reason: string): void {
  if (reason.trim().length < BREAK_GLASS_MIN_REASON) {
    throw new AppError({
      code: 'command_invalid',
      message: 'break-glass reason too short',
      userMessage: `\`--break-glass\` needs a reason of at least ${BREAK_GLASS_MIN_REASON} characters saying why approvers cannot be reached (you gave ${reason.trim().length}). Nothing was recorded.`,
    });
  }
}

/** Break glass is loud: logged, posted in the incident channel and to the stakeholder channel when one is configured. */
async function announceBreakGlass(deps: IncidentDeps, incident: Incident, breakGlass: BreakGlass): Promise<void> {
  await deps.repo.log(incident.id, 'break_glass', breakGlass.by, { reason: breakGlass.reason });
  const notice = {
    kind: 'break_glass',
    by: breakGlass.by,
    reason: breakGlass.reason,
    migration: incident.migration,
    service: incident.service,
  } as const;
  await deps.notifier.progress(incident, notice);
  await announceStatus(deps, incident, notice);
}

/**
 * Refuses a second incident for a service that has one open (runbook 003: one incident
 * channel per rollback; the answer points to the open incident). When that incident's channel
 * does not exist yet (it is being opened), the answer names the incident and, given the
 * command's `responseUrl`, the channel link follows there once the channel exists.
 * @throws AppError `incident_already_open` (`details.incidentId`)
 */
export async function assertNoOpenIncident(
  deps: IncidentDeps,
  service: ServiceConfig,
  responseUrl?: string,
): Promise<void> {
  const already = await deps.repo.findOpenByService(service.name);
  if (already) throw await alreadyOpen(deps, already, responseUrl);
}

/**
 * The one refusal of a second incident, for `open` (the service's open incident as read):
 * where to follow it, or, while its channel is being made, its id and the promise of a link.
 */
async function alreadyOpen(deps: IncidentDeps, open: Incident, responseUrl?: string): Promise<AppError> {
  const what = words`A ${open.kind} of ${strong(open.service)}`;
  const detail = words`incident ${code(shortId(open.id))}, ${code(open.migration)}, ${open.state.replace(/_/g, ' ')}`;
  let userMessage: Words;
  if (open.conversation) {
    userMessage = words`${what} is already open in ${conversation(open.conversation.id)} (${detail}). Follow it there.`;
  } else if (responseUrl) {
    await deps.notifier.channelLink(open, responseUrl);
    userMessage = words`${what} is already being opened (${detail}). Its channel link follows here as soon as the channel exists.`;
  } else {
    userMessage = words`${what} is already being opened (${detail}). ${code('/migrate status')} shows its channel once it exists.`;
  }
  return new AppError({
    code: 'incident_already_open',
    message: `service ${open.service} already has open incident ${open.id}`,
    details: { incidentId: open.id, channelId: open.conversation?.id ?? null },
    userMessage,
  });
}

/**
 * Records the incident, stores its channel (with the requester, approvers and `invite:`)
 * and first message in the outbox, then runs `queue` (the jobs that carry it on). When
 * `queue` fails — the job queue is unreachable — the incident and its notices are
 * discarded and the error says that nothing was kept. `responseUrl` gets the channel link
 * once the channel exists.
 * @throws AppError `job_queue_unreachable` (the incident was discarded)
 */
export async function startIncident(
  deps: IncidentDeps,
  service: ServiceConfig,
  input: NewIncident & { responseUrl?: string },
  queue: (incident: Incident) => Promise<void>,
): Promise<Incident> {
  const { responseUrl, ...record } = input;
  // Approvers are read once, now: a user-group change later does not make anyone an approver of this incident.
  const approvers = await readApproverRoster(deps.directory, service, deps.clock.now());
  const incident = await deps.repo.create({ ...record, approvers }).catch(async (err: unknown) => {
    // Another command for the service won the race between the check and the insert.
    const open = isAppError(err, 'incident_already_open') ? await deps.repo.findOpenByService(service.name) : null;
    throw open ? await alreadyOpen(deps, open, responseUrl) : err;
  });
  // The roster's members, just read: the Slack adapter then expands only groups Slack could not list.
  const invitees = [
    ...new Set([input.requestedBy, ...approvers.users, ...approvers.unresolvedGroups, ...service.invite]),
  ];
  try {
    await deps.notifier.createIncidentChannel(incident, incidentChannelName(incident), invitees, responseUrl);
    await deps.notifier.opened(incident);
    await queue(incident);
  } catch (err) {
    await deps.repo.discard(incident.id, isAppError(err) ? err.code : 'open failed');
    if (isAppError(err, 'job_queue_unreachable')) {
      throw new AppError({
        code: err.code,
        message: err.message,
        cause: err,
        retryable: true,
        userMessage:
          'The job queue (Redis) is unreachable, so no incident was opened: nothing was recorded, no channel was made and nothing touched the database. ' +
          'Try again in a minute; if Redis stays down, follow runbook 003 by hand.',
      });
    }
    throw err;
  }
  return incident;
}

/** Starts status updates and queues the prepare job (triage, plan card, snapshot). */
export async function queuePreparation(deps: IncidentDeps, service: ServiceConfig, incident: Incident): Promise<void> {
  await deps.jobs.prepare(incident);
  await deps.jobs.startStatusUpdates(incident.id, statusUpdateMinutes(service, incident.severity));
}

/** When the migration being rolled back was applied (ISO-8601 UTC), if its tracking table says: the default start of the impact. */
function appliedAt(target: AppliedMigration | null): string | undefined {
  const at = target?.appliedAt ? Date.parse(target.appliedAt) : Number.NaN;
  return Number.isFinite(at) ? new Date(at).toISOString() : undefined;
}
