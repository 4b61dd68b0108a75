import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { PlanStep } from '../../rollback/plan.js';
import type { PlanBasis } from '../../rollback/plan-digest.js';
import type { PlanRisk } from '../../rollback/risk.js';
import type { PlanSchemaCheck } from '../../rollback/plan-schema-check.js';
import type {
  ApproverRoster,
  Approval,
  BreakGlass,
  Incident,
  IncidentFailure,
  RecordedBy,
  RestoreSpec,
  StepOutcome,
} from '../model/incident.js';
import type { IncidentEvent } from '../model/state-machine.js';

/** One row of the append-only event log. */
export interface IncidentEventRecord {
  /** Position in the append-only log (grows with every event of every incident). */
  id: number;
  at: Date;
  type: string;
  /** Slack user ID, or `migrate-bot`. */
  actor: string;
  fromState: string | null;
  toState: string | null;
  data: Record<string, unknown>;
}

/** What a new incident starts with. */
export interface NewIncident {
  /** Default `rollback`. */
  kind?: Incident['kind'];
  restore?: RestoreSpec;
  service: string;
  migration: string;
  requestedBy: string;
  plan: PlanStep[];
  /** The plan's digest and what went into it (rollbacks). */
  basis?: PlanBasis;
  breakGlass?: BreakGlass;
  /** Approvers read when it opens (users and group members). */
  approvers?: ApproverRoster;
  /** When it opened (default: now); the plan basis names the snapshot after it. */
  createdAt?: Date;
  /** Severity name (default: none recorded). */
  severity?: string;
  /** A private incident (`--private` or `access.private`). */
  private?: boolean;
  /** When the impact started, ISO-8601 UTC (`--impact-started`, or when the migration was applied). */
  impactStarted?: string;
}

/**
 * The incident repository port (DESIGN.md "incident/ … repository port").
 * Adapter: `adapters/postgres/postgres-incident-repository.ts`.
 */
export interface IncidentRepository {
  /**
   * Inserts an incident in state `opened` and logs `opened`.
   * @throws AppError `incident_already_open` (details.incidentId) when the service has an open incident
   */
  create(input: NewIncident): Promise<Incident>;
  get(id: string): Promise<Incident | null>;
  findOpenByService(service: string): Promise<Incident | null>;
  /** The service's newest incident, optionally only among `states` (e.g. `resolved_with_warnings`), or null. */
  latestByService(service: string, states?: Incident['state'][]): Promise<Incident | null>;
  /** Every open incident (any service), oldest first. */
  listOpen(): Promise<Incident[]>;
  /** Number of incidents in each state, e.g. `{ resolved: 12, awaiting_approval: 1 }` (the metrics gauge). */
  countByState(): Promise<Record<string, number>>;
  /**
   * Removes an incident that never got a conversation (nothing happened yet) and its undelivered
   * notices, so a failed open leaves nothing behind; logs `discarded` with `reason`.
   */
  discard(id: string, reason?: string): Promise<void>;
  setSnapshot(id: string, snapshot: SnapshotRecord): Promise<void>;
  setSteps(id: string, steps: StepOutcome[]): Promise<void>;
  setRestore(id: string, restore: RestoreSpec): Promise<void>;
  /**
   * Applies `event` through the state machine under a row lock and logs it.
   * @throws AppError `incident_not_found`, `incident_invalid_transition`
   */
  transition(
    id: string,
    event: IncidentEvent,
    actor: string,
    data?: { failure?: IncidentFailure } & Record<string, unknown>,
  ): Promise<Incident>;
  /**
   * Records an approval once per user, bound to `planDigest`; `inserted` is false for a repeat
   * press. Logs `approval_given` (actor: the approver), or, for an approval `recorded` from the
   * CLI on the approver's behalf, `approval_recorded` (actor: the operator; data: `via`,
   * `operator`, `approver`, `reason`).
   */
  addApproval(
    id: string,
    userId: string,
    planDigest?: string | null,
    recorded?: RecordedBy,
  ): Promise<{ inserted: boolean; approvals: Approval[] }>;
  /** Replaces the incident's approver roster (`/migrate refresh-approvers`). */
  setApprovers(id: string, approvers: ApproverRoster): Promise<void>;
  /** Stores the plan's measured risk (the plan card and the approval tier read it). */
  setRisk(id: string, risk: PlanRisk): Promise<void>;
  /** Stores the plan's schema check (the column `schema_check`); a new round clears it. */
  setSchemaCheck(id: string, check: PlanSchemaCheck): Promise<void>;
  /**
   * The plan changed after it was shown (a file edited, the tracking table moved): in one
   * transaction, the new plan and basis replace the old, every approval is voided, the risk is
   * cleared for re-measuring, and `plan_superseded` is logged with `data`. The plan card's ts is
   * kept until the new card is posted, so the old card can be marked superseded first.
   * @throws AppError `incident_not_found`
   */
  supersedePlan(id: string, plan: PlanStep[], basis: PlanBasis, data: Record<string, unknown>): Promise<Incident>;
  /**
   * Replaces the plan and its basis while no approval exists (the prepare job attaching the
   * archive copies before the card is posted); with an approval recorded it changes nothing.
   * @returns true when the plan was replaced
   */
  refinePlan(id: string, plan: PlanStep[], basis: PlanBasis): Promise<boolean>;
  listApprovals(id: string): Promise<Approval[]>;
  /** The incident's event log, oldest first; with `afterId`, only the events appended after that one. */
  listEvents(id: string, options?: { afterId?: number }): Promise<IncidentEventRecord[]>;
  /** Appends a fact to the event log. */
  log(id: string, type: string, actor: string, data?: Record<string, unknown>): Promise<void>;
  /** Time of the newest event of one of `types`, or null when there is none. */
  lastEventAt(id: string, types: string[]): Promise<Date | null>;
  /** The newest event of one of `types` (its type, time and data), or null when there is none. */
  lastEvent(id: string, types: string[]): Promise<{ type: string; at: Date; data: Record<string, unknown> } | null>;
  /** Distinct actors of the incident's events of `type`, in the order they first acted (e.g. who approved a deletion). */
  eventActors(id: string, type: string): Promise<string[]>;
  /**
   * `/migrate retry` of a failed incident, in one transaction: `failed → opened` (event
   * `retried`), the new plan, `attempt + 1`, and everything of the old round cleared —
   * approvals (they never carry over), steps, failure, snapshot, plan card, risk and break glass;
   * `basis` is the new plan's.
   * @throws AppError `incident_not_found`, `incident_invalid_transition`
   */
  startNewRound(
    id: string,
    plan: PlanStep[],
    actor: string,
    data?: Record<string, unknown>,
    basis?: PlanBasis | null,
  ): Promise<Incident>;
}
