import type { Incident, IncidentState } from '../../src/domain/incident/model/incident.js';

/**
 * A rollback incident of ticket-service in `state`, as the renderers receive it: opened
 * 2026-11-21 03:12 UTC by U0REQ001 in channel C0INC0001, no plan, snapshot or steps yet;
 * `extra` overrides any field.
 */
export const incidentFixture = (state: IncidentState, extra: Partial<Incident> = {}): Incident => ({
  id: '2d339b98-b5da-4848-b0a1-6bd834eeb251',
  kind: 'rollback',
  restore: null,
  service: 'ticket-service',
  migration: '007_add_security_tables.ts',
  state,
  requestedBy: 'U0REQ001',
  conversation: { id: 'C0INC0001', name: 'incident-db-migration-20261121-0312' },
  plan: [],
  snapshot: null,
  steps: [],
  attempt: 1,
  failure: null,
  basis: null,
  risk: null,
  schemaCheck: null,
  breakGlass: null,
  approvers: null,
  severity: 'SEV3',
  roles: { commander: 'U0REQ001', comms: null },
  milestones: { detected: '2026-11-21T03:12:00.000Z' },
  private: false,
  ticket: null,
  createdAt: new Date('2026-11-21T03:12:00Z'),
  updatedAt: new Date('2026-11-21T03:12:00Z'),
  endedAt: null,
  ...extra,
});
