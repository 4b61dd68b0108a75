import type { ArchivedTable } from '../ports/archive-catalog.js';
import type { WordsLike } from '../../../shared/words.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { PlanStep } from '../../rollback/plan.js';
import type { PlanBasis } from '../../rollback/plan-digest.js';
import type { PlanRisk } from '../../rollback/risk.js';
import type { PlanSchemaCheck } from '../../rollback/plan-schema-check.js';
import type { Milestones } from '../process/lifecycle.js';
import type { IncidentRoles } from '../process/roles.js';
import type { TicketRef } from '../process/followup.js';

/**
 * Where an incident is (DESIGN.md "The flow, as data"):
 * `opened → snapshotting → awaiting_approval → rolling_back → resolved`,
 * with `failed` and `cancelled` as the other ends, and `resolved_with_warnings` when the down
 * migrations ran but a verification check failed: it ended, and `/migrate status` shows it
 * until someone acknowledges it (`/migrate close`), which makes it `resolved`. A `failed` incident stays
 * open (runbook 003 "Partial down failure": stop, capture diagnostics) until a
 * human closes it.
 */
export type IncidentState =
  | 'opened'
  | 'snapshotting'
  | 'awaiting_approval'
  | 'rolling_back'
  | 'resolved'
  | 'resolved_with_warnings'
  | 'failed'
  | 'cancelled';

/** States in which the incident still needs people; one such incident per service at a time. */
export const OPEN_STATES: readonly IncidentState[] = [
  'opened',
  'snapshotting',
  'awaiting_approval',
  'rolling_back',
  'failed',
];

/** States in which an approval may still be given or the plan rejected. */
export const APPROVABLE_STATES: readonly IncidentState[] = ['opened', 'snapshotting', 'awaiting_approval'];

/** A step of the rollback that ran (or did not), as posted in progress and failure messages. */
export interface StepOutcome {
  migration: string;
  /** `running` while its down runs (status updates say for how long). */
  status: 'done' | 'failed' | 'not_run' | 'running';
  /** Wall time of the down migration, ms. */
  durationMs?: number;
  /** When a `running` step started, ISO 8601. */
  startedAt?: string;
  /** Why it failed, as words for people. */
  error?: WordsLike;
  /** The archive tables its down filled first, with their rows and bytes once it committed. */
  archived?: ArchivedTable[];
}

/** Why an incident failed, in words a reader understands. */
export interface IncidentFailure {
  /** The AppError code, e.g. `rollback_lock_timeout`, `service_db_unreachable`. */
  code: string;
  /** What went wrong, words for people, safe to post (a string from before words were data is plain text). */
  message: WordsLike;
  /** A half-made copy a failed restore left behind (its identifier), which approvers may have the bot delete. */
  leftover?: string;
  /** What to do about it, e.g. the read-only query that finds the rows violating a re-added constraint (runbook 000). */
  hint?: WordsLike;
}

/**
 * What a restore incident restores (runbook 003 "Restore from backup": always to
 * a NEW instance or database, never over the source).
 */
export interface RestoreSpec {
  /** Snapshot to restore; absent for a point-in-time restore. */
  snapshotId?: string;
  /** Point in time, ISO-8601 UTC; absent for a snapshot restore. */
  to?: string;
  /** The new instance, cluster or database, named when the incident opened so retries reuse it. */
  target: string;
  /** Filled in when the restore completes. */
  result?: { identifier: string; endpoint: string; elapsedMs: number; created?: string[] };
}

/**
 * The conversation an incident is followed in: the chat surface's id for it (a Slack channel id,
 * opaque here) and the name people see.
 */
export interface IncidentConversation {
  id: string;
  name: string;
}

/** What an incident does: see {@link Incident.kind}. */
export type IncidentKind = 'rollback' | 'restore' | 'unarchive';

/** One incident, as stored in the bot's state database. */
export interface Incident {
  /** UUID. */
  id: string;
  /**
   * `rollback` runs down migrations; `restore` restores a snapshot to a new instance; `unarchive`
   * writes archived data back (its plan steps carry `unarchive`).
   */
  kind: IncidentKind;
  /** Set for restore incidents. */
  restore: RestoreSpec | null;
  service: string;
  /** The migration the user asked to roll back, as named in the tracking table (e.g. `007_add_security_tables.ts`). */
  migration: string;
  state: IncidentState;
  /** Slack user ID of the requester. */
  requestedBy: string;
  /**
   * Where people follow the incident (`#incident-db-migration-<ts>`), once it exists; null until
   * then. The chat surface keeps its own bookkeeping of it (messages, topic) elsewhere.
   */
  conversation: IncidentConversation | null;
  /** Down migrations to run, newest first. */
  plan: PlanStep[];
  snapshot: SnapshotRecord | null;
  /** Outcome of each step once the rollback ran. */
  steps: StepOutcome[];
  /** 1, then +1 for each `/migrate retry` (each round has its own snapshot, plan card and approvals). */
  attempt: number;
  /** Approvers as read when the incident opened (null for incidents opened before rosters existed: read at each press). */
  approvers: ApproverRoster | null;
  failure: IncidentFailure | null;
  /** What approvals of this round are bound to (plan digest, tracking head, snapshot id); null for restores. */
  basis: PlanBasis | null;
  /** The plan's risk with its figures, once the prepare job measured it; null before. */
  risk: PlanRisk | null;
  /**
   * The plan checked against the schemas before approval (the downs on a fresh build, the live
   * schema, the computed plan); null before the prepare job ran it or when the tool cannot build
   * a scratch database.
   */
  schemaCheck: PlanSchemaCheck | null;
  /** Set when the requester invoked break glass (`--break-glass "reason"`): one approval suffices. */
  breakGlass: BreakGlass | null;
  /** Severity name from services.yaml's `severities` (e.g. `SEV2`); null for incidents from before severities. */
  severity: string | null;
  /** Incident commander (the requester until someone takes it) and comms lead. */
  roles: IncidentRoles;
  /** Lifecycle times, each set once (docs/incident-process.md). */
  milestones: Milestones;
  /** A private incident: private channel, nothing in the announce channel, pages and tickets marked confidential. */
  private: boolean;
  /** The incident's ticket: the first follow-up exported to the tracker (runbook 002's `Ticket:` field). */
  ticket: TicketRef | null;
  createdAt: Date;
  updatedAt: Date;
  endedAt: Date | null;
}

/** An approval given by one approver (runbook 003: two approvals, SRE + migration owner). */
/**
 * Who may approve this incident, read once when it opened: the users listed in services.yaml and
 * the members of the listed user groups at that time. A later change of a group does not make
 * anyone an approver of this incident; `/migrate refresh-approvers` (by an approver) reads them
 * again. Groups Slack could not list then are asked at each press (`unresolvedGroups`).
 */
export interface ApproverRoster {
  /** ISO-8601 UTC time the groups were read. */
  asOf: string;
  users: string[];
  unresolvedGroups: string[];
}

/**
 * An approval recorded on someone's behalf from the CLI while Slack was unavailable: who typed
 * it (`operator`, the validated `MIGRATE_BOT_CLI_USER`) and why. Such an approval is logged as
 * `approval_recorded`, never as `approval_given`, and every surface says it was recorded.
 */
export interface RecordedBy {
  operator: string;
  reason: string;
  via: 'cli';
}

export interface Approval {
  incidentId: string;
  userId: string;
  createdAt: Date;
  /** The {@link PlanBasis.digest} the approver saw; an approval of another digest does not count. */
  planDigest: string | null;
}

/**
 * Break glass: approvers cannot be reached, so the requester takes responsibility in writing.
 * One approval from a listed approver suffices; never allowed for irreversible steps.
 */
export interface BreakGlass {
  /** Slack user ID of the requester who invoked it. */
  by: string;
  /** Why, at least {@link BREAK_GLASS_MIN_REASON} characters; posted in the channel and recorded. */
  reason: string;
  /** ISO-8601 UTC. */
  at: string;
}

/** Shortest break-glass reason, characters. */
export const BREAK_GLASS_MIN_REASON = 20;

/** The migration under suspicion for triage: the incident's target and every down statement its plan runs. */
export function offendingOf(incident: Pick<Incident, 'migration' | 'plan'>): { name: string; sql: string[] } {
  return { name: incident.migration, sql: incident.plan.flatMap((s) => s.sql) };
}

/** What the incident does, in the words people use: `restore`, `rollback` (runbook 003) or `unarchive`. */
export function actionNoun(incident: Pick<Incident, 'kind'>): IncidentKind {
  return incident.kind;
}

/** What a person may type for an incident (lowercase): its {@link shortId} or its full UUID. */
export const INCIDENT_REF = /^([0-9a-f]{8}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Short, human form of an incident id for messages: first 8 hex digits. */
export function shortId(incidentId: string): string {
  return incidentId.replace(/-/g, '').slice(0, 8);
}

export function isOpen(state: IncidentState): boolean {
  return OPEN_STATES.includes(state);
}
