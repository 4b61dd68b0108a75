import type { Incident } from '../model/incident.js';
import type { FollowUp, FollowUpState, TicketRef } from '../process/followup.js';
import type { Milestone } from '../process/lifecycle.js';
import type { RoleName } from '../process/roles.js';

/** What a new follow-up starts with. */
export interface NewFollowUp {
  incidentId: string;
  text: string;
  owner: string | null;
  createdBy: string;
  /** A runbook proposal's key; at most one per incident and key. */
  slug?: string;
  state: FollowUpState;
}

/**
 * The incident process's part of the state database: severity, roles, lifecycle times, the
 * incident's ticket and its follow-ups. Each change is logged in the incident's event log in the
 * same transaction (`severity_changed`, `role_assigned`, `impact_started_set`, `followup_*`).
 * Adapter: `adapters/postgres/postgres-process-repository.ts`.
 * @throws AppError `incident_not_found` from the methods that change an incident
 */
export interface ProcessRepository {
  /** Sets the severity; logs `severity_changed` (`from`, `to`, `reason`). Returns the incident and the old severity. */
  setSeverity(
    id: string,
    severity: string,
    actor: string,
    reason: string | null,
  ): Promise<{ incident: Incident; from: string | null }>;
  /** Gives `role` to `userId`; logs `role_assigned` (`role`, `user`, `previous`). */
  setRole(
    id: string,
    role: RoleName,
    userId: string,
    actor: string,
  ): Promise<{ incident: Incident; previous: string | null }>;
  /** Records a lifecycle time unless it is already set. @returns true when it was set now */
  markMilestone(id: string, milestone: Milestone, at: Date): Promise<boolean>;
  /** Sets (or corrects) when the impact started; logs `impact_started_set` (`at`). */
  setImpactStarted(id: string, at: Date, actor: string): Promise<Incident>;
  /** Sets the incident's ticket unless it has one. @returns true when set now */
  setTicket(id: string, ticket: TicketRef): Promise<boolean>;
  /** Records a follow-up and logs `followup_added`. @returns null when the incident already has the proposal `slug` */
  addFollowUp(input: NewFollowUp): Promise<FollowUp | null>;
  listFollowUps(incidentId: string): Promise<FollowUp[]>;
  getFollowUp(id: number): Promise<FollowUp | null>;
  /**
   * Moves a follow-up to `state` with its ticket or the tracker's error, only from one of
   * `from`; logs `followup_created` (exported), `followup_export_failed` or `followup_taken`.
   * @returns the follow-up after the change, or null when it was not in one of `from` (a repeated press)
   */
  updateFollowUp(
    id: number,
    from: FollowUpState[],
    patch: { state: FollowUpState; ticket?: TicketRef; error?: string },
    actor: string,
  ): Promise<FollowUp | null>;
  /** Open incidents by severity (`none` for incidents without one), e.g. `{ SEV2: 1 }` (the metrics gauge). */
  openBySeverity(): Promise<Record<string, number>>;
  /** Incidents opened at or after `since`, oldest first (for `migrate-bot report`). */
  openedSince(since: Date): Promise<Incident[]>;
}
