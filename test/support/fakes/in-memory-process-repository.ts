import type { FollowUp, FollowUpState, TicketRef } from '../../../src/domain/incident/process/followup.js';
import type { Milestone } from '../../../src/domain/incident/process/lifecycle.js';
import type { RoleName } from '../../../src/domain/incident/process/roles.js';
import type { NewFollowUp, ProcessRepository } from '../../../src/domain/incident/ports/process-repository.js';
import type { Incident } from '../../../src/domain/incident/model/incident.js';
import type { PageEvent, PageReason } from '../../../src/domain/incident/ports/paging.js';
import type { Integrations } from '../../../src/domain/incident/ports/integrations.js';
import { AppError } from '../../../src/shared/errors.js';
import type { InMemoryIncidentRepository } from './in-memory-incident-repository.js';

/** The ProcessRepository port in memory, on the incidents of an {@link InMemoryIncidentRepository}; events go to its log. */
export class InMemoryProcessRepository implements ProcessRepository {
  readonly followUps: FollowUp[] = [];
  constructor(private readonly repo: InMemoryIncidentRepository) {}

  private patch(id: string, patch: Partial<Incident>): Incident {
    const incident = this.repo.incidents.get(id);
    if (!incident) throw new AppError({ code: 'incident_not_found', message: `incident ${id} not found` });
    const next = { ...incident, ...patch };
    this.repo.incidents.set(id, next);
    return next;
  }

  async setSeverity(id: string, severity: string, actor: string, reason: string | null) {
    const from = this.repo.incidents.get(id)?.severity ?? null;
    const incident = this.patch(id, { severity });
    await this.repo.log(id, 'severity_changed', actor, { from, to: severity, reason });
    return { incident, from };
  }

  async setRole(id: string, role: RoleName, userId: string, actor: string) {
    const roles = this.repo.incidents.get(id)?.roles ?? { commander: '', comms: null };
    const incident = this.patch(id, { roles: { ...roles, [role]: userId } });
    await this.repo.log(id, 'role_assigned', actor, { role, user: userId, previous: roles[role] });
    return { incident, previous: roles[role] };
  }

  async markMilestone(id: string, milestone: Milestone, at: Date): Promise<boolean> {
    const m = this.repo.incidents.get(id)?.milestones ?? {};
    if (m[milestone]) return false;
    this.patch(id, { milestones: { ...m, [milestone]: at.toISOString() } });
    return true;
  }

  async setImpactStarted(id: string, at: Date, actor: string): Promise<Incident> {
    const m = this.repo.incidents.get(id)?.milestones ?? {};
    const incident = this.patch(id, { milestones: { ...m, impactStarted: at.toISOString() } });
    await this.repo.log(id, 'impact_started_set', actor, { at: at.toISOString() });
    return incident;
  }

  async setTicket(id: string, ticket: TicketRef): Promise<boolean> {
    if (this.repo.incidents.get(id)?.ticket) return false;
    this.patch(id, { ticket });
    return true;
  }

  async addFollowUp(input: NewFollowUp): Promise<FollowUp | null> {
    if (input.slug && this.followUps.some((f) => f.incidentId === input.incidentId && f.slug === input.slug))
      return null;
    const f: FollowUp = {
      id: this.followUps.length + 1,
      incidentId: input.incidentId,
      text: input.text,
      owner: input.owner,
      createdBy: input.createdBy,
      slug: input.slug ?? null,
      state: input.state,
      ticket: null,
      error: null,
      createdAt: new Date(),
    };
    this.followUps.push(f);
    return f;
  }

  async listFollowUps(incidentId: string): Promise<FollowUp[]> {
    return this.followUps.filter((f) => f.incidentId === incidentId);
  }

  async getFollowUp(id: number): Promise<FollowUp | null> {
    return this.followUps.find((f) => f.id === id) ?? null;
  }

  async updateFollowUp(
    id: number,
    from: FollowUpState[],
    patch: { state: FollowUpState; ticket?: TicketRef; error?: string },
  ) {
    const f = this.followUps.find((x) => x.id === id);
    if (!f || !from.includes(f.state)) return null;
    Object.assign(f, { state: patch.state, ticket: patch.ticket ?? f.ticket, error: patch.error ?? null });
    return f;
  }

  async openBySeverity(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const i of this.repo.incidents.values()) out[i.severity ?? 'none'] = (out[i.severity ?? 'none'] ?? 0) + 1;
    return out;
  }

  async openedSince(since: Date): Promise<Incident[]> {
    return [...this.repo.incidents.values()].filter((i) => i.createdAt >= since);
  }
}

/** The Integrations port recording what it was asked, once per `once` key as the outbox does. */
export class RecordingIntegrations implements Integrations {
  readonly pages: Array<{ incidentId: string; event: PageEvent; once: string }> = [];
  readonly tickets: Array<{ incidentId: string; followUpId: number }> = [];

  async page(incident: Incident, event: PageEvent, once: string, _reason: PageReason): Promise<void> {
    if (this.pages.some((p) => p.incidentId === incident.id && p.once === once)) return;
    this.pages.push({ incidentId: incident.id, event, once });
  }

  async fileTicket(incident: Incident, followUpId: number, _retry?: number): Promise<void> {
    this.tickets.push({ incidentId: incident.id, followUpId });
  }
}
