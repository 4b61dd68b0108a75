import type { ServiceConfig } from '../../../config/services.js';
import { actionNoun, isOpen, shortId, type Incident } from '../model/incident.js';
import { APPROVABLE_STATES } from '../model/incident.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { PageEvent, PageReason } from '../ports/paging.js';
import { pagesOnOpen, severityLevel } from '../process/severity.js';
import { approvalProgress } from './approval-progress.js';
import { resolveService } from './resolve-service.js';

/** The two alerts an incident may raise: the incident itself, and the plan waiting for approvals. */
export type PageKind = 'incident' | 'approvals';

/** PagerDuty's `dedup_key` of each alert: the incident id, and `<incident id>-approvals`. */
export const pageKey = (incident: Pick<Incident, 'id'>, kind: PageKind): string =>
  kind === 'approvals' ? `${incident.id}-approvals` : incident.id;

const EVENT_SEVERITY: PageEvent['severity'][] = ['critical', 'error', 'warning', 'info'];

/** The alert's severity: SEV1 → critical, SEV2 → error, SEV3 → warning, the rest info. */
function eventSeverity(incident: Incident, service: ServiceConfig): PageEvent['severity'] {
  const level = severityLevel(incident.severity, service.process.severities);
  return EVENT_SEVERITY[Math.min(Math.max(level, 1), 4) - 1]!;
}

/** What the paged person reads: plain text. A private incident names only the service. */
function pageSummary(incident: Incident, kind: PageKind, missing: number): string {
  const sev = incident.severity ? `${incident.severity} · ` : '';
  const what = incident.private
    ? `private ${actionNoun(incident)} incident on ${incident.service}`
    : `${actionNoun(incident) === 'restore' ? 'Restore' : 'Rollback'} of ${incident.migration} on ${incident.service}`;
  if (kind === 'approvals')
    return `${sev}${what.replace(/^./, (c) => c.toUpperCase())} waits for ${missing} more approval${missing === 1 ? '' : 's'}`;
  return `${sev}${what.replace(/^./, (c) => c.toUpperCase())}: incident ${shortId(incident.id)} opened by ${incident.requestedBy}`;
}

/**
 * Stores a page event for the service's pager (nothing when the service has no `paging:`), and
 * logs `page_requested`; the delivery logs `page_sent`, `page_resolved` or `page_failed`.
 * Once per incident, alert and action: asking again stores nothing.
 */
async function requestPage(
  deps: IncidentDeps,
  incident: Incident,
  service: ServiceConfig,
  action: PageEvent['action'],
  kind: PageKind,
  reason: PageReason,
  missing = 0,
): Promise<void> {
  if (!service.process.paging) return;
  const dedupKey = pageKey(incident, kind);
  const round = kind === 'approvals' ? `:${incident.attempt}:${incident.basis?.digest.slice(0, 12) ?? ''}` : '';
  const event: PageEvent = {
    action,
    dedupKey,
    summary: pageSummary(incident, kind, missing),
    severity: eventSeverity(incident, service),
    source: incident.service,
    links: [],
    details: incident.private
      ? { incident: incident.id, severity: incident.severity ?? 'none', confidential: 'true' }
      : {
          incident: incident.id,
          severity: incident.severity ?? 'none',
          migration: incident.migration,
          plan_digest: incident.basis?.digest ?? 'none',
          commander: incident.roles.commander,
          state: incident.state,
        },
  };
  await deps.integrations.page(incident, event, `${action}:${dedupKey}${round}`, reason);
  await deps.repo.log(incident.id, 'page_requested', 'migrate-bot', { action, dedupKey, kind });
}

/** Pages the service's rotation when the incident's severity pages (SEV1/SEV2 by default): on open, or when raised (`reason`). */
export async function pageIfSevere(
  deps: IncidentDeps,
  incident: Incident,
  reason: Exclude<PageReason, 'approvals'> = 'opened',
): Promise<void> {
  const service = resolveService(deps.services, incident.service);
  if (!pagesOnOpen(service, incident.severity) || !isOpen(incident.state)) return;
  await requestPage(deps, incident, service, 'trigger', 'incident', reason);
}

/** Asks for the approvals page `approvals.page_after_minutes` after a plan card was posted (the job checks then whether it is still needed). */
export async function scheduleApprovalsPage(deps: IncidentDeps, incident: Incident): Promise<void> {
  const service = resolveService(deps.services, incident.service);
  if (!service.process.paging) return;
  await deps.jobs
    .approvalsPage(incident, service.process.pageAfterMinutes * 60_000)
    .catch((err: unknown) => deps.logger.warn({ err, incidentId: incident.id }, 'approvals page not scheduled'));
}

/**
 * The approvals-page job: when the plan still waits for approvals, pages the approvers'
 * rotation ("Rollback of 007 on ticket-service waits for 1 more approval"), once per plan.
 * @returns whether a page was asked for
 */
export async function pageWaitingApprovals(deps: IncidentDeps, incidentId: string): Promise<boolean> {
  const incident = await deps.repo.get(incidentId);
  if (!incident || !APPROVABLE_STATES.includes(incident.state)) return false;
  const service = resolveService(deps.services, incident.service);
  const progress = await approvalProgress(deps, incident, service);
  const missing = progress.required - progress.approvals.length;
  if (missing <= 0 || progress.unapprovable) return false;
  await requestPage(deps, incident, service, 'trigger', 'approvals', 'approvals', missing);
  return true;
}

/**
 * Resolves the alerts the incident raised: `approvals` once the approvals are complete, `all`
 * when the incident ends. Only alerts that were asked for are resolved.
 */
export async function resolvePages(deps: IncidentDeps, incident: Incident, which: 'approvals' | 'all'): Promise<void> {
  const service = resolveService(deps.services, incident.service);
  if (!service.process.paging) return;
  const requested = (await deps.repo.listEvents(incident.id)).filter((e) => e.type === 'page_requested');
  for (const kind of which === 'all' ? (['approvals', 'incident'] as const) : (['approvals'] as const)) {
    const key = pageKey(incident, kind);
    const triggered = requested.filter((e) => e.data.dedupKey === key && e.data.action === 'trigger').length;
    const resolved = requested.filter((e) => e.data.dedupKey === key && e.data.action === 'resolve').length;
    if (triggered > resolved)
      await requestPage(deps, incident, service, 'resolve', kind, kind === 'approvals' ? 'approvals' : 'opened');
  }
}
