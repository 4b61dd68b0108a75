import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type {
  ApproverRoster,
  Approval,
  Incident,
  IncidentFailure,
  RecordedBy,
  RestoreSpec,
  StepOutcome,
} from '../../domain/incident/model/incident.js';
import type { PlanBasis } from '../../domain/rollback/plan-digest.js';
import type { PlanRisk } from '../../domain/rollback/risk.js';
import type { PlanSchemaCheck } from '../../domain/rollback/plan-schema-check.js';
import type {
  IncidentEventRecord,
  IncidentRepository,
  NewIncident,
} from '../../domain/incident/ports/incident-repository.js';
import { nextState, type IncidentEvent } from '../../domain/incident/model/state-machine.js';
import { isOpen } from '../../domain/incident/model/incident.js';
import type { SnapshotRecord } from '../../domain/snapshots/snapshot-provider.js';
import { AppError } from '../../shared/errors.js';
import { INCIDENTS, type IncidentRow, toIncident, withConversation } from './incident-rows.js';
import type { Clock } from '../../shared/clock.js';
import { inTransaction } from './transaction.js';

const BOT = 'migrate-bot';

/** IncidentRepository on the bot's state database (`DATABASE_URL`), schema from state-schema.ts. */
export class PostgresIncidentRepository implements IncidentRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
  ) {}

  async create(input: NewIncident): Promise<Incident> {
    const id = randomUUID();
    const now = input.createdAt ?? this.clock.now();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<IncidentRow>(
        `INSERT INTO incidents (id, kind, restore, service, migration, state, requested_by, plan, created_at, updated_at, basis, break_glass, approvers,
           severity, roles, milestones, private)
         VALUES ($1, $7, $8, $2, $3, 'opened', $4, $5, $6, $6, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
        [
          id,
          input.service,
          input.migration,
          input.requestedBy,
          JSON.stringify(input.plan),
          now,
          input.kind ?? 'rollback',
          input.restore ? JSON.stringify(input.restore) : null,
          input.basis ? JSON.stringify(input.basis) : null,
          input.breakGlass ? JSON.stringify(input.breakGlass) : null,
          input.approvers ? JSON.stringify(input.approvers) : null,
          input.severity ?? null,
          JSON.stringify({ commander: input.requestedBy, comms: null }),
          JSON.stringify({
            detected: now.toISOString(),
            ...(input.impactStarted ? { impactStarted: input.impactStarted } : {}),
          }),
          input.private === true,
        ],
      );
      await client.query(
        `INSERT INTO incident_events (incident_id, type, actor, to_state, data) VALUES ($1, 'opened', $2, 'opened', $3)`,
        [
          id,
          input.requestedBy,
          {
            kind: input.kind ?? 'rollback',
            migration: input.migration,
            steps: input.plan.map((s) => s.migration),
            restore: input.restore ?? null,
            digest: input.basis?.digest ?? null,
            breakGlass: input.breakGlass ?? null,
            severity: input.severity ?? null,
            private: input.private === true,
          },
        ],
      );
      await client.query('COMMIT');
      return toIncident(rows[0]!);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((err as { code?: string; constraint?: string }).constraint === 'incidents_one_open_per_service') {
        // On the connection already held: asking the pool for a second one while holding this
        // one deadlocks once every connection is held by a request doing the same.
        const open = await this.openByService(client, input.service);
        throw new AppError({
          code: 'incident_already_open',
          message: `service ${input.service} already has an open incident ${open?.id}`,
          details: { incidentId: open?.id, channelId: open?.conversation?.id },
        });
      }
      throw err;
    } finally {
      client.release();
    }
  }

  async get(id: string): Promise<Incident | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const { rows } = await this.pool.query<IncidentRow>(`${INCIDENTS} WHERE i.id = $1`, [id]);
    return rows[0] ? toIncident(rows[0]) : null;
  }

  findOpenByService(service: string): Promise<Incident | null> {
    return this.openByService(this.pool, service);
  }

  /** The service's open incident, read through `db` (the pool, or a connection already held). */
  private async openByService(db: pg.Pool | pg.PoolClient, service: string): Promise<Incident | null> {
    const { rows } = await db.query<IncidentRow>(
      `${INCIDENTS} WHERE service = $1 AND state IN ('opened','snapshotting','awaiting_approval','rolling_back','failed')`,
      [service],
    );
    return rows[0] ? toIncident(rows[0]) : null;
  }

  async latestByService(service: string, states?: Incident['state'][]): Promise<Incident | null> {
    const { rows } = await this.pool.query<IncidentRow>(
      `${INCIDENTS} WHERE service = $1 AND ($2::text[] IS NULL OR state = ANY($2)) ORDER BY created_at DESC LIMIT 1`,
      [service, states ?? null],
    );
    return rows[0] ? toIncident(rows[0]) : null;
  }

  async listOpen(): Promise<Incident[]> {
    const { rows } = await this.pool.query<IncidentRow>(
      `${INCIDENTS} WHERE state IN ('opened','snapshotting','awaiting_approval','rolling_back','failed') ORDER BY created_at`,
    );
    return rows.map(toIncident);
  }

  async countByState(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM incidents GROUP BY state',
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  async discard(id: string, reason = 'the incident could not be set up'): Promise<void> {
    await this.pool.query(
      'DELETE FROM incidents WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM incident_slack WHERE incident_id = $1 AND channel_id IS NOT NULL)',
      [id],
    );
    await this.pool.query('DELETE FROM notices WHERE incident_id = $1 AND delivered_at IS NULL', [id]);
    await this.pool.query('DELETE FROM integration_calls WHERE incident_id = $1 AND delivered_at IS NULL', [id]);
    await this.log(id, 'discarded', BOT, { reason });
  }

  async setSnapshot(id: string, snapshot: SnapshotRecord): Promise<void> {
    await this.update(id, 'snapshot = $2', [JSON.stringify(snapshot)]);
    await this.log(id, 'snapshot_recorded', BOT, { ...snapshot });
  }

  async setSteps(id: string, steps: StepOutcome[]): Promise<void> {
    await this.update(id, 'steps = $2', [JSON.stringify(steps)]);
  }

  async setRestore(id: string, restore: RestoreSpec): Promise<void> {
    await this.update(id, 'restore = $2', [JSON.stringify(restore)]);
  }

  private async update(id: string, set: string, values: unknown[]): Promise<void> {
    const res = await this.pool.query(`UPDATE incidents SET ${set}, updated_at = $${values.length + 2} WHERE id = $1`, [
      id,
      ...values,
      this.clock.now(),
    ]);
    if (res.rowCount !== 1) throw new AppError({ code: 'incident_not_found', message: `incident ${id} not found` });
  }

  async transition(
    id: string,
    event: IncidentEvent,
    actor: string,
    data: Record<string, unknown> & { failure?: IncidentFailure } = {},
  ): Promise<Incident> {
    return this.transitionWith(id, event, actor, data, 'failure = COALESCE($5, failure)', [
      data.failure ? JSON.stringify(data.failure) : null,
    ]);
  }

  async startNewRound(
    id: string,
    plan: Incident['plan'],
    actor: string,
    data: Record<string, unknown> = {},
    basis: PlanBasis | null = null,
  ): Promise<Incident> {
    return this.transitionWith(
      id,
      'retried',
      actor,
      { ...data, steps: plan.map((s) => s.migration), digest: basis?.digest ?? null },
      `failure = NULL, snapshot = NULL, steps = '[]', plan = $5, attempt = attempt + 1, basis = $6, risk = NULL, schema_check = NULL, break_glass = NULL`,
      [JSON.stringify(plan), basis ? JSON.stringify(basis) : null],
      (client) => client.query('DELETE FROM approvals WHERE incident_id = $1', [id]),
    );
  }

  /**
   * Applies `event` under a row lock: the state machine decides the new state, `set`
   * (SQL with `$5…` for `values`) changes the row with it, `more` runs in the same
   * transaction, and the event is logged.
   */
  private async transitionWith(
    id: string,
    event: IncidentEvent,
    actor: string,
    data: Record<string, unknown>,
    set: string,
    values: unknown[],
    more?: (client: pg.PoolClient) => Promise<unknown>,
  ): Promise<Incident> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<IncidentRow>(`${INCIDENTS} WHERE i.id = $1 FOR UPDATE OF i`, [id]);
      const row = rows[0];
      if (!row)
        throw new AppError({
          code: 'incident_not_found',
          message: `incident ${id} not found`,
          userMessage: 'This incident no longer exists.',
        });
      const to = nextState(row.state, event);
      const now = this.clock.now();
      const updated = await client.query<IncidentRow>(
        withConversation(
          `UPDATE incidents SET state = $2, updated_at = $3, ended_at = $4, ${set} WHERE id = $1 RETURNING *`,
        ),
        [id, to, now, isOpen(to) ? null : now, ...values],
      );
      await more?.(client);
      await client.query(
        'INSERT INTO incident_events (incident_id, type, actor, from_state, to_state, data) VALUES ($1, $2, $3, $4, $5, $6)',
        [id, event, actor, row.state, to, data],
      );
      return toIncident(updated.rows[0]!);
    });
  }

  async addApproval(
    id: string,
    userId: string,
    planDigest: string | null = null,
    recorded?: RecordedBy,
  ): Promise<{ inserted: boolean; approvals: Approval[] }> {
    const res = await this.pool.query(
      'INSERT INTO approvals (incident_id, user_id, created_at, plan_digest) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [id, userId, this.clock.now(), planDigest],
    );
    const inserted = res.rowCount === 1;
    const digest = planDigest ? { digest: planDigest } : {};
    if (inserted && recorded)
      await this.log(id, 'approval_recorded', recorded.operator, { ...recorded, approver: userId, ...digest });
    else if (inserted) await this.log(id, 'approval_given', userId, digest);
    return { inserted, approvals: await this.listApprovals(id) };
  }

  async listApprovals(id: string): Promise<Approval[]> {
    const { rows } = await this.pool.query<{
      incident_id: string;
      user_id: string;
      created_at: Date;
      plan_digest: string | null;
    }>('SELECT * FROM approvals WHERE incident_id = $1 ORDER BY created_at, user_id', [id]);
    return rows.map((r) => ({
      incidentId: r.incident_id,
      userId: r.user_id,
      createdAt: r.created_at,
      planDigest: r.plan_digest,
    }));
  }

  async setApprovers(id: string, approvers: ApproverRoster): Promise<void> {
    await this.pool.query('UPDATE incidents SET approvers = $2, updated_at = $3 WHERE id = $1', [
      id,
      JSON.stringify(approvers),
      this.clock.now(),
    ]);
  }

  async setRisk(id: string, risk: PlanRisk): Promise<void> {
    await this.update(id, 'risk = $2', [JSON.stringify(risk)]);
  }

  async setSchemaCheck(id: string, check: PlanSchemaCheck): Promise<void> {
    await this.update(id, 'schema_check = $2', [JSON.stringify(check)]);
  }

  async refinePlan(id: string, plan: Incident['plan'], basis: PlanBasis): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE incidents SET plan = $2, basis = $3, updated_at = $4
        WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM approvals WHERE incident_id = $1)`,
      [id, JSON.stringify(plan), JSON.stringify(basis), this.clock.now()],
    );
    return rowCount === 1;
  }

  async supersedePlan(
    id: string,
    plan: Incident['plan'],
    basis: PlanBasis,
    data: Record<string, unknown>,
  ): Promise<Incident> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<IncidentRow>(
        withConversation(
          'UPDATE incidents SET plan = $2, basis = $3, risk = NULL, updated_at = $4 WHERE id = $1 RETURNING *',
        ),
        [id, JSON.stringify(plan), JSON.stringify(basis), this.clock.now()],
      );
      if (!rows[0]) throw new AppError({ code: 'incident_not_found', message: `incident ${id} not found` });
      const voided = await client.query<{ user_id: string }>(
        'DELETE FROM approvals WHERE incident_id = $1 RETURNING user_id',
        [id],
      );
      await client.query('INSERT INTO incident_events (incident_id, type, actor, data) VALUES ($1, $2, $3, $4)', [
        id,
        'plan_superseded',
        BOT,
        { ...data, digest: basis.digest, voided: voided.rows.map((r) => r.user_id) },
      ]);
      return toIncident(rows[0]);
    });
  }

  async log(id: string, type: string, actor: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.pool.query('INSERT INTO incident_events (incident_id, type, actor, data) VALUES ($1, $2, $3, $4)', [
      id,
      type,
      actor,
      data,
    ]);
  }

  async listEvents(id: string, options: { afterId?: number } = {}): Promise<IncidentEventRecord[]> {
    const { rows } = await this.pool.query<{
      id: string;
      at: Date;
      type: string;
      actor: string;
      from_state: string | null;
      to_state: string | null;
      data: Record<string, unknown>;
    }>(
      'SELECT id, at, type, actor, from_state, to_state, data FROM incident_events WHERE incident_id = $1 AND id > $2 ORDER BY id',
      [id, options.afterId ?? 0],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      at: r.at,
      type: r.type,
      actor: r.actor,
      fromState: r.from_state,
      toState: r.to_state,
      data: r.data,
    }));
  }

  async lastEvent(
    id: string,
    types: string[],
  ): Promise<{ type: string; at: Date; data: Record<string, unknown> } | null> {
    const { rows } = await this.pool.query<{ type: string; at: Date; data: Record<string, unknown> }>(
      'SELECT type, at, data FROM incident_events WHERE incident_id = $1 AND type = ANY($2) ORDER BY id DESC LIMIT 1',
      [id, types],
    );
    return rows[0] ?? null;
  }

  async lastEventAt(id: string, types: string[]): Promise<Date | null> {
    const { rows } = await this.pool.query<{ at: Date | null }>(
      'SELECT max(at) AS at FROM incident_events WHERE incident_id = $1 AND type = ANY($2)',
      [id, types],
    );
    return rows[0]?.at ?? null;
  }

  async eventActors(id: string, type: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ actor: string }>(
      'SELECT actor FROM incident_events WHERE incident_id = $1 AND type = $2 GROUP BY actor ORDER BY min(id)',
      [id, type],
    );
    return rows.map((r) => r.actor);
  }
}
