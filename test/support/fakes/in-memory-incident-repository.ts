import { randomUUID } from 'node:crypto';
import type {
  Approval,
  ApproverRoster,
  Incident,
  IncidentFailure,
  RecordedBy,
} from '../../../src/domain/incident/model/incident.js';
import { isOpen } from '../../../src/domain/incident/model/incident.js';
import { nextState, type IncidentEvent } from '../../../src/domain/incident/model/state-machine.js';
import type {
  IncidentEventRecord,
  IncidentRepository,
  NewIncident,
} from '../../../src/domain/incident/ports/incident-repository.js';
import { AppError } from '../../../src/shared/errors.js';

/**
 * The IncidentRepository port in memory, for unit tests of the use cases: the same state
 * machine, one open incident per service, approvals once per user, an append-only event log.
 * The PostgreSQL adapter is tested against the real database in test/integration.
 */
export class InMemoryIncidentRepository implements IncidentRepository {
  readonly incidents = new Map<string, Incident>();
  readonly approvals = new Map<string, Approval[]>();
  /** The event log of every incident, oldest first. */
  readonly events: Array<IncidentEventRecord & { incidentId: string }> = [];
  private clock = Date.parse('2026-12-04T03:00:00Z');

  private now(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }

  private must(id: string): Incident {
    const incident = this.incidents.get(id);
    if (!incident) throw new AppError({ code: 'incident_not_found', message: `incident ${id} not found` });
    return incident;
  }

  private put(id: string, patch: Partial<Incident>): Incident {
    const next = { ...this.must(id), ...patch, updatedAt: this.now() };
    this.incidents.set(id, next);
    return next;
  }

  /** An incident as `create` makes it, in `state`, with `patch` on top (a test's starting point). */
  seed(input: NewIncident, patch: Partial<Incident> = {}): Incident {
    const at = input.createdAt ?? this.now();
    const incident: Incident = {
      id: randomUUID(),
      kind: input.kind ?? 'rollback',
      restore: input.restore ?? null,
      service: input.service,
      migration: input.migration,
      state: 'opened',
      requestedBy: input.requestedBy,
      conversation: { id: 'C0FAKE0001', name: 'incident-db-migration-fake' },
      plan: input.plan,
      snapshot: null,
      steps: [],
      attempt: 1,
      failure: null,
      basis: input.basis ?? null,
      risk: null,
      schemaCheck: null,
      breakGlass: input.breakGlass ?? null,
      approvers: input.approvers ?? null,
      severity: input.severity ?? null,
      roles: { commander: input.requestedBy, comms: null },
      milestones: {
        detected: at.toISOString(),
        ...(input.impactStarted ? { impactStarted: input.impactStarted } : {}),
      },
      private: input.private === true,
      ticket: null,
      createdAt: at,
      updatedAt: at,
      endedAt: null,
      ...patch,
    };
    this.incidents.set(incident.id, incident);
    return incident;
  }

  async create(input: NewIncident): Promise<Incident> {
    const open = await this.findOpenByService(input.service);
    if (open) {
      throw new AppError({
        code: 'incident_already_open',
        message: `service ${input.service} already has an open incident ${open.id}`,
        details: { incidentId: open.id },
      });
    }
    const incident = this.seed(input, { conversation: null });
    await this.log(incident.id, 'opened', input.requestedBy);
    return incident;
  }

  async get(id: string): Promise<Incident | null> {
    return this.incidents.get(id) ?? null;
  }

  async findOpenByService(service: string): Promise<Incident | null> {
    return [...this.incidents.values()].find((i) => i.service === service && isOpen(i.state)) ?? null;
  }

  async latestByService(service: string, states?: Incident['state'][]): Promise<Incident | null> {
    const mine = [...this.incidents.values()].filter(
      (i) => i.service === service && (!states || states.includes(i.state)),
    );
    return mine.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0] ?? null;
  }

  async listOpen(): Promise<Incident[]> {
    return [...this.incidents.values()].filter((i) => isOpen(i.state));
  }

  async countByState(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const i of this.incidents.values()) counts[i.state] = (counts[i.state] ?? 0) + 1;
    return counts;
  }

  async discard(id: string, reason = 'the incident could not be set up'): Promise<void> {
    if (!this.incidents.get(id)?.conversation) this.incidents.delete(id);
    await this.log(id, 'discarded', 'migrate-bot', { reason });
  }

  async setSnapshot(id: string, snapshot: Incident['snapshot'] & object): Promise<void> {
    this.put(id, { snapshot });
  }

  async setSteps(id: string, steps: Incident['steps']): Promise<void> {
    this.put(id, { steps });
  }

  async setRestore(id: string, restore: NonNullable<Incident['restore']>): Promise<void> {
    this.put(id, { restore });
  }

  async setRisk(id: string, risk: NonNullable<Incident['risk']>): Promise<void> {
    this.put(id, { risk });
  }

  async setSchemaCheck(id: string, schemaCheck: NonNullable<Incident['schemaCheck']>): Promise<void> {
    this.put(id, { schemaCheck });
  }

  async transition(
    id: string,
    event: IncidentEvent,
    actor: string,
    data: { failure?: IncidentFailure } & Record<string, unknown> = {},
  ): Promise<Incident> {
    const from = this.must(id);
    const to = nextState(from.state, event);
    const next = this.put(id, {
      state: to,
      endedAt: isOpen(to) ? null : this.now(),
      failure: data.failure ?? from.failure,
    });
    this.events.push(this.event(id, event, actor, data, from.state, to));
    return next;
  }

  async addApproval(id: string, userId: string, planDigest: string | null = null, recorded?: RecordedBy) {
    const list = this.approvals.get(id) ?? [];
    const inserted = !list.some((a) => a.userId === userId);
    if (inserted) {
      list.push({ incidentId: id, userId, createdAt: this.now(), planDigest });
      if (recorded)
        await this.log(id, 'approval_recorded', recorded.operator, {
          ...recorded,
          approver: userId,
          digest: planDigest,
        });
      else await this.log(id, 'approval_given', userId, { digest: planDigest });
    }
    this.approvals.set(id, list);
    return { inserted, approvals: [...list] };
  }

  async setApprovers(id: string, approvers: ApproverRoster) {
    this.put(id, { approvers });
  }

  async supersedePlan(
    id: string,
    plan: Incident['plan'],
    basis: NonNullable<Incident['basis']>,
    data: Record<string, unknown>,
  ) {
    const voided = (this.approvals.get(id) ?? []).map((a) => a.userId);
    this.approvals.set(id, []);
    await this.log(id, 'plan_superseded', 'migrate-bot', { ...data, digest: basis.digest, voided });
    return this.put(id, { plan, basis, risk: null });
  }

  async refinePlan(id: string, plan: Incident['plan'], basis: NonNullable<Incident['basis']>): Promise<boolean> {
    if ((this.approvals.get(id) ?? []).length) return false;
    this.put(id, { plan, basis });
    return true;
  }

  async listApprovals(id: string): Promise<Approval[]> {
    return [...(this.approvals.get(id) ?? [])];
  }

  async listEvents(id: string, options: { afterId?: number } = {}): Promise<IncidentEventRecord[]> {
    return this.events
      .filter((e) => e.incidentId === id && e.id > (options.afterId ?? 0))
      .map(({ incidentId: _, ...e }) => e);
  }

  async log(id: string, type: string, actor: string, data: Record<string, unknown> = {}): Promise<void> {
    this.events.push(this.event(id, type, actor, data, null, null));
  }

  async lastEventAt(id: string, types: string[]): Promise<Date | null> {
    return (await this.lastEvent(id, types))?.at ?? null;
  }

  async lastEvent(id: string, types: string[]) {
    const e = this.events.filter((x) => x.incidentId === id && types.includes(x.type)).at(-1);
    return e ? { type: e.type, at: e.at, data: e.data } : null;
  }

  async eventActors(id: string, type: string): Promise<string[]> {
    return [...new Set(this.events.filter((e) => e.incidentId === id && e.type === type).map((e) => e.actor))];
  }

  async startNewRound(
    id: string,
    plan: Incident['plan'],
    actor: string,
    data: Record<string, unknown> = {},
    basis: Incident['basis'] = null,
  ): Promise<Incident> {
    const from = this.must(id);
    const round = await this.transition(id, 'retried', actor, data);
    this.approvals.set(id, []);
    return this.put(round.id, {
      plan,
      basis,
      attempt: from.attempt + 1,
      steps: [],
      failure: null,
      snapshot: null,
      risk: null,
      schemaCheck: null,
      breakGlass: null,
    });
  }

  private event(
    incidentId: string,
    type: string,
    actor: string,
    data: Record<string, unknown>,
    fromState: string | null,
    toState: string | null,
  ): IncidentEventRecord & { incidentId: string } {
    return { id: this.events.length + 1, incidentId, at: this.now(), type, actor, fromState, toState, data };
  }
}
