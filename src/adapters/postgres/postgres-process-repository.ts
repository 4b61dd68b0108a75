import type pg from 'pg';
import type { Incident } from '../../domain/incident/model/incident.js';
import type { FollowUp, FollowUpState, TicketRef } from '../../domain/incident/process/followup.js';
import type { Milestone } from '../../domain/incident/process/lifecycle.js';
import type { RoleName } from '../../domain/incident/process/roles.js';
import type { NewFollowUp, ProcessRepository } from '../../domain/incident/ports/process-repository.js';
import { AppError } from '../../shared/errors.js';
import { inTransaction } from './transaction.js';
import { INCIDENTS, type IncidentRow, toIncident, withConversation } from './incident-rows.js';

interface FollowUpRow {
  id: string;
  incident_id: string;
  text: string;
  owner: string | null;
  created_by: string;
  slug: string | null;
  state: FollowUpState;
  ticket: TicketRef | null;
  error: string | null;
  created_at: Date;
}

const toFollowUp = (r: FollowUpRow): FollowUp => ({
  id: Number(r.id),
  incidentId: r.incident_id,
  text: r.text,
  owner: r.owner,
  createdBy: r.created_by,
  slug: r.slug,
  state: r.state,
  ticket: r.ticket,
  error: r.error,
  createdAt: r.created_at,
});

const notFound = (id: string): AppError =>
  new AppError({ code: 'incident_not_found', message: `incident ${id} not found` });

/** Event type logged when a follow-up reaches a state. */
const FOLLOWUP_EVENT: Record<FollowUpState, string> = {
  exported: 'followup_created',
  export_failed: 'followup_export_failed',
  open: 'followup_taken',
  proposed: 'followup_proposed',
};

/** ProcessRepository on the bot's state database (schema `0010_incident_process`). */
export class PostgresProcessRepository implements ProcessRepository {
  constructor(private readonly pool: pg.Pool) {}

  private static async log(c: pg.PoolClient, id: string, type: string, actor: string, data: object): Promise<void> {
    await c.query('INSERT INTO incident_events (incident_id, type, actor, data) VALUES ($1, $2, $3, $4)', [
      id,
      type,
      actor,
      data,
    ]);
  }

  async setSeverity(id: string, severity: string, actor: string, reason: string | null) {
    return inTransaction(this.pool, async (c) => {
      const before = await c.query<{ severity: string | null }>(
        'SELECT severity FROM incidents WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!before.rows[0]) throw notFound(id);
      const { rows } = await c.query<IncidentRow>(
        withConversation(
          'UPDATE incidents SET severity = $2, updated_at = clock_timestamp() WHERE id = $1 RETURNING *',
        ),
        [id, severity],
      );
      const from = before.rows[0].severity;
      await PostgresProcessRepository.log(c, id, 'severity_changed', actor, { from, to: severity, reason });
      return { incident: toIncident(rows[0]!), from };
    });
  }

  async setRole(id: string, role: RoleName, userId: string, actor: string) {
    return inTransaction(this.pool, async (c) => {
      const before = await c.query<{ roles: Incident['roles'] | null; requested_by: string }>(
        'SELECT roles, requested_by FROM incidents WHERE id = $1 FOR UPDATE',
        [id],
      );
      const row = before.rows[0];
      if (!row) throw notFound(id);
      const roles = row.roles ?? { commander: row.requested_by, comms: null };
      const previous = roles[role];
      const { rows } = await c.query<IncidentRow>(
        withConversation('UPDATE incidents SET roles = $2, updated_at = clock_timestamp() WHERE id = $1 RETURNING *'),
        [id, JSON.stringify({ ...roles, [role]: userId })],
      );
      await PostgresProcessRepository.log(c, id, 'role_assigned', actor, { role, user: userId, previous });
      return { incident: toIncident(rows[0]!), previous };
    });
  }

  async markMilestone(id: string, milestone: Milestone, at: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE incidents SET milestones = milestones || jsonb_build_object($2::text, $3::text)
       WHERE id = $1 AND NOT milestones ? $2`,
      [id, milestone, at.toISOString()],
    );
    return (rowCount ?? 0) > 0;
  }

  async setImpactStarted(id: string, at: Date, actor: string): Promise<Incident> {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<IncidentRow>(
        withConversation(
          `UPDATE incidents SET milestones = milestones || jsonb_build_object('impactStarted', $2::text),
           updated_at = clock_timestamp() WHERE id = $1 RETURNING *`,
        ),
        [id, at.toISOString()],
      );
      if (!rows[0]) throw notFound(id);
      await PostgresProcessRepository.log(c, id, 'impact_started_set', actor, { at: at.toISOString() });
      return toIncident(rows[0]);
    });
  }

  async setTicket(id: string, ticket: TicketRef): Promise<boolean> {
    const { rowCount } = await this.pool.query('UPDATE incidents SET ticket = $2 WHERE id = $1 AND ticket IS NULL', [
      id,
      JSON.stringify(ticket),
    ]);
    return (rowCount ?? 0) > 0;
  }

  async addFollowUp(input: NewFollowUp): Promise<FollowUp | null> {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<FollowUpRow>(
        `INSERT INTO followups (incident_id, text, owner, created_by, slug, state) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (incident_id, slug) WHERE slug IS NOT NULL DO NOTHING RETURNING *`,
        [input.incidentId, input.text, input.owner, input.createdBy, input.slug ?? null, input.state],
      );
      if (!rows[0]) return null;
      await PostgresProcessRepository.log(
        c,
        input.incidentId,
        input.state === 'proposed' ? 'followup_proposed' : 'followup_added',
        input.createdBy,
        {
          followUp: Number(rows[0].id),
          text: input.text,
          owner: input.owner,
        },
      );
      return toFollowUp(rows[0]);
    });
  }

  async listFollowUps(incidentId: string): Promise<FollowUp[]> {
    const { rows } = await this.pool.query<FollowUpRow>('SELECT * FROM followups WHERE incident_id = $1 ORDER BY id', [
      incidentId,
    ]);
    return rows.map(toFollowUp);
  }

  async getFollowUp(id: number): Promise<FollowUp | null> {
    const { rows } = await this.pool.query<FollowUpRow>('SELECT * FROM followups WHERE id = $1', [id]);
    return rows[0] ? toFollowUp(rows[0]) : null;
  }

  async updateFollowUp(
    id: number,
    from: FollowUpState[],
    patch: { state: FollowUpState; ticket?: TicketRef; error?: string },
    actor: string,
  ): Promise<FollowUp | null> {
    return inTransaction(this.pool, async (c) => {
      const { rows } = await c.query<FollowUpRow>(
        `UPDATE followups SET state = $3, ticket = COALESCE($4, ticket), error = $5
         WHERE id = $1 AND state = ANY($2) RETURNING *`,
        [id, from, patch.state, patch.ticket ? JSON.stringify(patch.ticket) : null, patch.error ?? null],
      );
      const row = rows[0];
      if (!row) return null;
      await PostgresProcessRepository.log(c, row.incident_id, FOLLOWUP_EVENT[patch.state], actor, {
        followUp: id,
        text: row.text,
        ...(patch.ticket ? { ticket: patch.ticket } : {}),
        ...(patch.error ? { error: patch.error } : {}),
      });
      return toFollowUp(row);
    });
  }

  async openBySeverity(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ severity: string; n: number }>(
      `SELECT coalesce(severity, 'none') AS severity, count(*)::int AS n FROM incidents
       WHERE state IN ('opened','snapshotting','awaiting_approval','rolling_back','failed') GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.severity, r.n]));
  }

  async openedSince(since: Date): Promise<Incident[]> {
    const { rows } = await this.pool.query<IncidentRow>(`${INCIDENTS} WHERE i.created_at >= $1 ORDER BY i.created_at`, [
      since,
    ]);
    return rows.map(toIncident);
  }
}
