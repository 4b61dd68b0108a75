import type {
  ApproverRoster,
  BreakGlass,
  Incident,
  IncidentFailure,
  RestoreSpec,
  StepOutcome,
} from '../../domain/incident/model/incident.js';
import type { PlanStep } from '../../domain/rollback/plan.js';
import type { PlanBasis } from '../../domain/rollback/plan-digest.js';
import type { PlanRisk } from '../../domain/rollback/risk.js';
import type { PlanSchemaCheck } from '../../domain/rollback/plan-schema-check.js';
import type { SnapshotRecord } from '../../domain/snapshots/snapshot-provider.js';
import type { Milestones } from '../../domain/incident/process/lifecycle.js';
import type { IncidentRoles } from '../../domain/incident/process/roles.js';
import type { TicketRef } from '../../domain/incident/process/followup.js';

/** How incidents are read from the state database: the row, its mapping, and the queries that join the conversation. */

/**
 * A plan step as stored before the migration-tool registry (knex only: `trackingId`, `batch`),
 * made readable as a {@link PlanStep}. Steps already in the new shape pass through.
 */
export function planStepFromStored(stored: Record<string, unknown>): PlanStep {
  const s = stored as Partial<PlanStep> & { trackingId?: number; batch?: number };
  const { trackingId, batch, ...rest } = s;
  return {
    ...rest,
    migration: String(s.migration),
    order: Number(s.order ?? trackingId ?? 0),
    group: s.group ?? (batch !== undefined ? `batch ${batch}` : undefined),
    transactional: s.transactional !== false,
    sql: Array.isArray(s.sql) ? s.sql : [],
  };
}

/** A row of `incidents`, with the conversation joined from `incident_slack`. */
export interface IncidentRow {
  id: string;
  kind: Incident['kind'];
  restore: RestoreSpec | null;
  service: string;
  migration: string;
  state: Incident['state'];
  requested_by: string;
  /** From the Slack adapter's `incident_slack`, joined: the conversation, once it exists. */
  channel_id?: string | null;
  channel_name?: string | null;
  plan: Incident['plan'];
  snapshot: SnapshotRecord | null;
  steps: StepOutcome[];
  failure: IncidentFailure | null;
  attempt: number;
  basis: PlanBasis | null;
  risk: PlanRisk | null;
  schema_check?: PlanSchemaCheck | null;
  break_glass: BreakGlass | null;
  approvers?: ApproverRoster | null;
  severity?: string | null;
  roles?: IncidentRoles | null;
  milestones?: Milestones | null;
  private?: boolean | null;
  ticket?: TicketRef | null;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
}

/** A row as the domain's {@link Incident}. */
export const toIncident = (r: IncidentRow): Incident => ({
  id: r.id,
  kind: r.kind,
  restore: r.restore,
  service: r.service,
  migration: r.migration,
  state: r.state,
  requestedBy: r.requested_by,
  conversation: r.channel_id ? { id: r.channel_id, name: r.channel_name ?? r.channel_id } : null,
  // Plans stored before the migration-tool registry carry knex's trackingId/batch: read them as today's steps.
  plan: (r.plan as unknown as Array<Record<string, unknown>>).map(planStepFromStored),
  snapshot: r.snapshot,
  steps: r.steps,
  failure: r.failure,
  attempt: r.attempt,
  basis: r.basis ?? null,
  risk: r.risk ?? null,
  schemaCheck: r.schema_check ?? null,
  breakGlass: r.break_glass ?? null,
  approvers: r.approvers ?? null,
  severity: r.severity ?? null,
  roles: r.roles ?? { commander: r.requested_by, comms: null },
  milestones: r.milestones ?? {},
  private: r.private === true,
  ticket: r.ticket ?? null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  endedAt: r.ended_at,
});

/** Incidents with their conversation (the channel the Slack adapter recorded in `incident_slack`). */
export const INCIDENTS =
  'SELECT i.*, s.channel_id, s.channel_name FROM incidents i LEFT JOIN incident_slack s ON s.incident_id = i.id';

/** `update` (an `UPDATE incidents … RETURNING *`) with the conversation joined, as {@link INCIDENTS} reads it. */
export const withConversation = (update: string): string =>
  `WITH u AS (${update}) SELECT u.*, s.channel_id, s.channel_name FROM u LEFT JOIN incident_slack s ON s.incident_id = u.id`;
