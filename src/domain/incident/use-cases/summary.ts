import { statusUpdateMinutes } from '../process/severity.js';
import type { IncidentDeps } from '../ports/deps.js';
import { approvalProgress } from './approvals.js';
import type { Incident } from '../model/incident.js';
import type { ApprovalProgress } from '../ports/notifier.js';
import { resolveService } from './resolve-service.js';
import type { FollowUp } from '../process/followup.js';

/** What the pinned live summary shows, read fresh from the state database when it is drawn. */
export interface IncidentSummary {
  incident: Incident;
  progress: ApprovalProgress;
  /** The latest verification, once the rollback ran: the names of the checks that failed (none: passed). */
  verification: { failed: string[] } | null;
  /** When the next scheduled status update is due, or null once the incident ended. */
  nextStatusUpdateAt: Date | null;
  /** Everyone who acted (requester first), Slack user IDs. */
  involved: string[];
  /** The timeline and postmortem draft has been posted (runbook 003 "Communication/incident documentation completed"). */
  documented: boolean;
  /** Recorded follow-ups (proposals not taken are left out), oldest first. */
  followUps: FollowUp[];
  /** The newest page the provider refused for good, in its words, or null. */
  pageFailed: string | null;
  /** Alerts the pager accepted (triggers). */
  pagesSent: number;
}

/**
 * The live summary of an incident (service, migration, state, snapshot, approvals, step progress,
 * verification, next status update, who is involved), built from the incident row and its event
 * log when the summary is drawn, so one refresh after several notices shows them all.
 * @returns null when the incident no longer exists
 */
export async function incidentSummary(deps: IncidentDeps, incidentId: string): Promise<IncidentSummary | null> {
  const incident = await deps.repo.get(incidentId);
  if (!incident) return null;
  const service = resolveService(deps.services, incident.service);
  const [progress, events, followUps] = await Promise.all([
    approvalProgress(deps, incident, service),
    deps.repo.listEvents(incident.id),
    deps.process.listFollowUps(incident.id),
  ]);
  const pageFailed = [...events].reverse().find((e) => e.type === 'page_failed');
  const verified = [...events]
    .reverse()
    .find((e) => e.type === 'rollback_succeeded' || e.type === 'verified_with_warnings');
  const checks = (verified?.data.checks ?? []) as Array<{ name: string; status: string }>;
  const lastTick = [...events]
    .reverse()
    .find(
      (e) =>
        e.type === 'status_update_posted' ||
        e.type === 'status_update_skipped' ||
        e.type === 'opened' ||
        e.type === 'retried',
    );
  const ended = incident.endedAt !== null;
  const involved = [
    ...new Set([incident.requestedBy, ...events.map((e) => e.actor).filter((a) => /^[UW][A-Z0-9]+$/.test(a))]),
  ];
  return {
    incident,
    progress,
    verification: verified ? { failed: checks.filter((c) => c.status === 'failed').map((c) => c.name) } : null,
    nextStatusUpdateAt:
      ended || !lastTick
        ? null
        : new Date(lastTick.at.getTime() + statusUpdateMinutes(service, incident.severity) * 60_000),
    involved,
    documented: events.some((e) => e.type === 'timeline_posted'),
    followUps: followUps.filter((f) => f.state !== 'proposed'),
    pageFailed: pageFailed ? String(pageFailed.data.error ?? 'refused') : null,
    pagesSent: events.filter((e) => e.type === 'page_sent').length,
  };
}
